import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { startSmtpStandIn } from '../../sandbox/smtpStandIn.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../sandbox/webhookReceiver.js';
import {
  ORY_WEBHOOK_SECRET,
  PERSONA_API_KEY,
  PERSONA_WEBHOOK_SECRET,
  TEMPLATE_ID,
  baseEnv,
} from '../support/harness.js';
import { freePort, startServerProcess, type ServerProcess } from '../support/serverProcess.js';
import { startService, type Service } from '../support/service.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/**
 * The outbox with DATABASE_URL: notifications are written in the identity's transaction and sent
 * after it commits, by one replica at a time, and none is lost when the service is killed with
 * notifications waiting. Receivers verify every signature (`standardwebhooks`).
 */

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const PEOPLE = 5;

let database: TestDatabase | undefined;
let kratos: KratosStandIn | undefined;
let persona: PersonaStandIn | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await Promise.all([kratos?.close(), persona?.close()]);
  await database?.drop();
});

const until = async (condition: () => boolean | Promise<boolean>, what: string, attempts = 600) => {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

async function receiver(): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver({ secret: SECRET });
  closers.push(() => started.close());
  return started;
}

async function standIns() {
  database = await createTestDatabase();
  kratos = await startKratosStandIn();
  persona = await startPersonaStandIn({ apiKey: PERSONA_API_KEY, templateIds: [TEMPLATE_ID] });
  return { kratos, persona, database };
}

/** Registers and declines `count` people through Kratos's hooks and Persona's webhooks. */
async function declinePeople(count: number) {
  const [k, p] = [kratos as KratosStandIn, persona as PersonaStandIn];
  const identities: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const { identityId } = await k.register({ email: `person-${index}@example.com` });
    identities.push(identityId);
  }
  await p.settled();
  for (const identityId of identities) {
    const { inquiry_id: inquiryId } = k.identity(identityId)?.metadata_admin?.['persona'] as { inquiry_id: string };
    p.simulate(inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
  }
  await p.settled();
  return identities;
}

const idsOf = (at: WebhookReceiver) => at.verified.map((webhook) => webhook.id);
const waiting = async (db: TestDatabase) =>
  Number((await db.query('SELECT count(*) AS n FROM persona_idv.outbox WHERE settled_at IS NULL')).rows[0]?.['n']);

describe('the notification outbox with DATABASE_URL', () => {
  it('loses nothing when the service is killed with notifications waiting: each once per receiver', async () => {
    const { kratos: k, persona: p, database: db } = await standIns();
    const [down, up] = [await receiver(), await receiver()];
    down.inject({ method: 'POST', status: 503, times: 1_000 });
    const env = {
      ...baseEnv(k, p.apiBase),
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      NOTIFY_WEBHOOK_URLS: `${down.endpoint},${up.endpoint}`,
      NOTIFY_WEBHOOK_SECRET: SECRET,
    };
    const run = async (): Promise<ServerProcess> => {
      const port = await freePort();
      const service = startServerProcess({ ...env, PORT: String(port) });
      closers.push(async () => {
        service.child.kill('SIGKILL');
        await service.exited;
      });
      await until(async () => {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return ready?.status === 200;
      }, 'the service to be ready');
      k.setHooks({ serviceUrl: `http://127.0.0.1:${port}`, secret: ORY_WEBHOOK_SECRET });
      p.setWebhook({ url: `http://127.0.0.1:${port}/persona/callback`, secrets: [PERSONA_WEBHOOK_SECRET] });
      return service;
    };

    const first = await run();
    await declinePeople(PEOPLE);
    await until(() => up.verified.length === PEOPLE, 'the healthy receiver to have every decline');
    await until(() => down.requests.length >= PEOPLE, 'the failing receiver to have been tried');
    // Killed with every decline waiting for the failing receiver, and only those.
    await until(async () => (await waiting(db)) === PEOPLE, "the healthy receiver's deliveries to be settled");
    expect(down.verified).toEqual([]);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await waiting(db)).toBe(PEOPLE);

    // The receiver comes back while the service is down; a new process takes the outbox over.
    down.clearFaults();
    await run();
    await until(() => down.verified.length === PEOPLE, 'the recovered receiver to have every decline', 800);
    await until(async () => (await waiting(db)) === 0, 'the outbox to be settled');

    const expected = [...idsOf(up)].sort();
    expect(new Set(expected).size).toBe(PEOPLE);
    expect([...idsOf(down)].sort()).toEqual(expected);
    expect(down.verified.every((webhook) => webhook.type === 'verification.declined')).toBe(true);
    // Nothing was sent twice to the receiver that had it before the kill.
    expect(up.verified).toHaveLength(PEOPLE);
  }, 90_000);

  it('is sent by one replica at a time, each notification once, whichever replica wrote it', async () => {
    const { kratos: k, persona: p, database: db } = await standIns();
    const at = await receiver();
    const env = {
      ...baseEnv(k, p.apiBase),
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url,
      NOTIFY_WEBHOOK_URLS: at.endpoint,
      NOTIFY_WEBHOOK_SECRET: SECRET,
    };
    const replicas: { service: Service; url: string }[] = [];
    for (let index = 0; index < 3; index += 1) {
      const service = await startService(env);
      const server: Server = createServer(service.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      service.services.notifications.relay.start();
      closers.push(async () => {
        await service.services.notifications.relay.stop();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await service.close();
      });
      replicas.push({ service, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    }
    // Kratos's hooks reach one replica, Persona's webhooks another.
    k.setHooks({ serviceUrl: replicas[0]?.url as string, secret: ORY_WEBHOOK_SECRET });
    p.setWebhook({ url: `${replicas[1]?.url}/persona/callback`, secrets: [PERSONA_WEBHOOK_SECRET] });

    await declinePeople(PEOPLE * 2);
    await until(() => at.verified.length >= PEOPLE * 2, 'every decline at the receiver');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(at.verified).toHaveLength(PEOPLE * 2);
    expect(new Set(idsOf(at)).size).toBe(PEOPLE * 2);
    expect(await waiting(db)).toBe(0);
  }, 60_000);

  it('holds one email per identity per EMAIL_MIN_INTERVAL across replicas, though each gate asks', async () => {
    const { kratos: k, persona: p, database: db } = await standIns();
    const smtp = await startSmtpStandIn();
    closers.push(() => smtp.close());
    const env = {
      ...baseEnv(k, p.apiBase),
      LOG_LEVEL: 'silent',
      DATABASE_URL: db.url,
      LOGIN_POLICY: 'require-approved',
      PUBLIC_BASE_URL: 'https://idv.example.com',
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'idv@example.com',
    };
    const replicas: Service[] = [];
    for (let index = 0; index < 2; index += 1) {
      const service = await startService(env);
      closers.push(() => service.close());
      replicas.push(service);
    }
    const identityId = k.createIdentity({
      traits: { email: 'blocked@example.com' },
      created_at: '2020-01-01T00:00:00Z',
    }).id;
    k.verifyEmail(identityId);
    for (const service of [...replicas, ...replicas]) {
      const answer = await request(service.app)
        .post('/persona/validate')
        .set('Content-Type', 'application/json')
        .set('X-Webhook-Secret', ORY_WEBHOOK_SECRET)
        .send({
          identity_id: identityId,
          identity_created_at: '2020-01-01T00:00:00Z',
          persona: null,
          has_verified_email_address: true,
        });
      expect(answer.status).toBe(403);
      expect(answer.body.messages[0].messages[0].context).toMatchObject({ email_sent: true });
    }
    for (const service of replicas) {
      await service.services.notifications.emailsQueued();
      await service.services.notifications.relay.runOnce();
    }
    expect(smtp.received.map((email) => email.to)).toEqual([['blocked@example.com']]);
    expect(Number((await db.query('SELECT count(*) AS n FROM persona_idv.outbox')).rows[0]?.['n'])).toBe(1);
  }, 60_000);
});
