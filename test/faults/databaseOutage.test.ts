import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../sandbox/embeddedPostgres.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import {
  ORY_WEBHOOK_SECRET,
  PERSONA_API_KEY,
  PERSONA_WEBHOOK_SECRET,
  TEMPLATE_ID,
  baseEnv,
} from '../support/harness.js';
import { serveService, type ServedService } from '../support/service.js';

/**
 * Postgres stopped while two replicas run, or turned read-only: logins go on, callbacks answer 503
 * and Persona delivers them again, and everything is applied once the database is back. The file
 * runs its own server, since it stops it.
 */

let postgres: EmbeddedPostgresServer | undefined;
let kratos: KratosStandIn;
let persona: PersonaStandIn;
const replicas: ServedService[] = [];
afterEach(async () => {
  for (const replica of replicas.splice(0)) await replica.close();
  await Promise.all([kratos.close(), persona.close()]);
  await postgres?.close();
});

const until = async (condition: () => boolean | Promise<boolean>, what: string) => {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const record = (identityId: string) =>
  kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, unknown> | undefined;

/** Moved forward past the readiness cache (5 s). */
const clock = { offsetMs: 0 };

async function startReplica(env: Record<string, string>) {
  const replica = await serveService(env, () => Date.now() + clock.offsetMs);
  replicas.push(replica);
  return replica.url;
}

/** A Postgres server of its own, and Persona redelivering twenty times faster (after 0.15 s, 3.2 s, 36 s). */
async function standIns() {
  const server = await startEmbeddedPostgres();
  postgres = server;
  kratos = await startKratosStandIn();
  persona = await startPersonaStandIn({
    apiKey: PERSONA_API_KEY,
    templateIds: [TEMPLATE_ID],
    redelivery: { scale: 1 / 20 },
  });
  return { server, env: { ...baseEnv(kratos, persona.apiBase), LOG_LEVEL: 'silent', DATABASE_URL: server.url } };
}

describe('Postgres stopped mid-run', () => {
  it('keeps logins going, answers callbacks 503, and applies everything once it is back', async () => {
    const { server, env } = await standIns();
    const [first, second] = [await startReplica(env), await startReplica(env)];
    // Kratos calls its hooks through one address, Persona its webhook through the other.
    kratos.setHooks({ serviceUrl: first as string, secret: ORY_WEBHOOK_SECRET });
    persona.setWebhook({ url: `${second}/persona/callback`, secrets: [PERSONA_WEBHOOK_SECRET] });

    const approved = await kratos.register({ email: 'ann@example.com' });
    const declined = await kratos.register({ email: 'bob@example.com' });
    await persona.settled();
    const inquiryOf = (identityId: string) => record(identityId)?.['inquiry_id'] as string;
    persona.simulate(inquiryOf(approved.identityId), ['start_inquiry']);
    persona.simulate(inquiryOf(declined.identityId), ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    await until(() => record(declined.identityId)?.['status'] === 'declined', 'the decline');
    await persona.settled();

    await server.stop();
    const ready = await fetch(`${first}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'degraded',
      reason: 'database_unavailable',
      coordination: 'postgres',
      dependencies: { kratos: 'up', database: 'down' },
    });

    persona.simulate(inquiryOf(approved.identityId), ['complete_inquiry', 'approve_inquiry']);
    await until(() => persona.deliveries.filter((d) => d.state === 'retrying').length === 2, 'two refused deliveries');
    expect(persona.deliveries.filter((d) => d.state === 'retrying').map((d) => d.lastStatus)).toEqual([503, 503]);

    // The login gate decides from the mirror Kratos sends: no database, no admin call.
    expect((await kratos.login(approved.identityId)).hook.status).toBe(204);
    const blocked = await kratos.login(declined.identityId);
    expect(blocked.hook.status).toBe(403);
    expect(blocked.session).toBeNull();
    expect(record(approved.identityId)?.['status']).toBe('pending');

    await server.restart();
    await until(() => record(approved.identityId)?.['status'] === 'approved', 'the approval after the restart');
    await persona.settled();
    expect(persona.deliveries.every((delivery) => delivery.state === 'delivered')).toBe(true);
    const writesOf = (identityId: string) =>
      kratos
        .patchesOf(identityId)
        .map((patch) => (patch[0]?.value as { last_event_id?: string } | undefined)?.last_event_id);
    const approvedWrites = writesOf(approved.identityId);
    expect(new Set(approvedWrites).size).toBe(approvedWrites.length);
    clock.offsetMs += 5_000;
    expect(await (await fetch(`${first}/readyz`)).json()).toMatchObject({
      status: 'ready',
      dependencies: { kratos: 'up', database: 'up' },
    });
  }, 30_000);

  // A standby grants advisory locks too, but they exclude nobody on the primary: a demoted primary,
  // or DATABASE_URL naming a read replica, must not let a section write to Kratos.
  it('refuses every section while the server is in recovery, and applies everything once it is primary again', async () => {
    const { server, env } = await standIns();
    const url = await startReplica(env);
    kratos.setHooks({ serviceUrl: url, secret: ORY_WEBHOOK_SECRET });
    persona.setWebhook({ url: `${url}/persona/callback`, secrets: [PERSONA_WEBHOOK_SECRET] });
    const { identityId } = await kratos.register({ email: 'ann@example.com' });
    await persona.settled();
    const inquiryId = record(identityId)?.['inquiry_id'] as string;
    const writes = () => kratos.patchesOf(identityId).length;
    const writesBefore = writes();

    await server.stop();
    await server.restart({ inRecovery: true });
    clock.offsetMs += 5_000;
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({
      status: 'degraded',
      reason: 'database_read_only',
      coordination: 'postgres',
      dependencies: { kratos: 'up', database: 'down' },
    });

    persona.simulate(inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    await until(
      () => persona.deliveries.filter((d) => d.state === 'retrying').length === 3,
      'three refused deliveries',
    );
    expect(persona.deliveries.filter((d) => d.state === 'retrying').map((d) => d.lastStatus)).toEqual([503, 503, 503]);
    expect(writes()).toBe(writesBefore);
    expect((await kratos.login(identityId)).hook.status).toBe(204);
    // A registration writes nothing to the database before its Kratos write: only READ WRITE stops it.
    const bob = await kratos.register({ email: 'bob@example.com' });
    expect(bob.hook.status).toBe(200);
    expect(bob.session).not.toBeNull();
    expect(kratos.patchesOf(bob.identityId)).toEqual([]);

    await server.stop();
    await server.restart();
    await until(() => record(identityId)?.['status'] === 'declined', 'the decline once the server is primary');
    await until(() => record(bob.identityId)?.['status'] === 'created', "the registration's inquiry, from its webhook");
    await persona.settled();
    expect(persona.deliveries.every((delivery) => delivery.state === 'delivered')).toBe(true);
  }, 30_000);
});
