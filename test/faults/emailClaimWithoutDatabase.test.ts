import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import {
  createPostgresCoordination,
  type PostgresCoordination,
} from '../../src/coordination/postgres/postgresCoordination.js';
import { createKratosClient } from '../../src/kratos/kratosClient.js';
import { createLogger } from '../../src/logger.js';
import { createPersonaClient } from '../../src/persona/personaClient.js';
import { createServices } from '../../src/services.js';
import { freePort } from '../../sandbox/freePort.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { startSmtpStandIn, type SmtpStandIn } from '../../sandbox/smtpStandIn.js';
import { ORY_WEBHOOK_SECRET, PERSONA_API_KEY, TEMPLATE_ID, baseEnv } from '../support/harness.js';

/**
 * With DATABASE_URL, a replica serves logins while its database is down (README). The gate's
 * email request cannot be written then (the section fails and the worker forgets it), so the
 * block message must not say "We have sent you an email" (review of issue 18). The database here
 * is a loopback port nobody listens on.
 */

let kratos: KratosStandIn | undefined;
let persona: PersonaStandIn | undefined;
let smtp: SmtpStandIn | undefined;
let coordination: PostgresCoordination | undefined;
afterEach(async () => {
  await coordination?.close();
  await Promise.all([kratos?.close(), persona?.close(), smtp?.close()]);
});

describe('the block message while the outbox cannot be written', () => {
  it('does not say an email was sent when none was queued', async () => {
    kratos = await startKratosStandIn();
    persona = await startPersonaStandIn({ apiKey: PERSONA_API_KEY, templateIds: [TEMPLATE_ID] });
    smtp = await startSmtpStandIn();
    const config = loadConfig({
      ...baseEnv(kratos, persona.apiBase),
      LOG_LEVEL: 'silent',
      LOGIN_POLICY: 'require-approved',
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'Identity <idv@example.com>',
      PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      DATABASE_URL: `postgres://idv:unused-password-0123456789@127.0.0.1:${await freePort()}/idv`,
    });
    const logger = createLogger({ level: 'silent' });
    // As server.ts runs it while the database is away: migrations retried in the background.
    coordination = createPostgresCoordination(config.database!, logger);
    void coordination.start();
    const kratosClient = createKratosClient(config.kratos);
    const personaClient = createPersonaClient(config.persona);
    const services = createServices(config, kratosClient, personaClient, coordination, { logger });
    const app = createApp({ config, logger, kratos: kratosClient, persona: personaClient, services });
    const person = kratos.createIdentity({ traits: { email: 'waiting@example.com' } });
    kratos.verifyEmail(person.id);

    const claims: boolean[] = [];
    for (let login = 0; login < 2; login += 1) {
      const blocked = await request(app)
        .post('/persona/validate')
        .set('Content-Type', 'application/json')
        .set('X-Webhook-Secret', ORY_WEBHOOK_SECRET)
        .send(JSON.stringify({ identity_id: person.id, has_verified_email_address: true }));
      expect(blocked.status).toBe(403);
      claims.push(JSON.stringify(blocked.body).includes('"email_sent":true'));
      await services.notifications.emailsQueued();
    }
    await services.notifications.relay.runOnce();

    expect(smtp.received).toEqual([]);
    // Nothing went out and nothing waits to go out: the message must not say otherwise.
    expect(claims).toEqual([false, false]);
  });
});
