import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serviceNote } from '../../src/persona/inquiry.js';
import type { PersonaRecord } from '../../src/verification/record.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { PERSONA_API_KEY, TEMPLATE_ID, baseEnv, personaSignature } from '../support/harness.js';
import { serveService, type ServedService } from '../support/service.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A Kratos write that lands later than its section ends: Kratos has no compare-and-set, so it
 * would overwrite whatever the next section wrote. Persona's decision follows the completion by
 * 0 to 30 ms, so the next section is usually the decision, and the write landing late is the
 * older `completed`. Each case ends with the decline on the record.
 */

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

let kratos: KratosStandIn;
let persona: PersonaStandIn;
const replicas: ServedService[] = [];
afterEach(async () => {
  for (const replica of replicas.splice(0)) await replica.close();
  await Promise.all([kratos.close(), persona.close()]);
});

/** `count` replicas on loopback ports, sharing one Kratos and one Persona stand-in. */
async function deployment(count: number, env: Record<string, string> = {}) {
  kratos = await startKratosStandIn();
  persona = await startPersonaStandIn({ apiKey: PERSONA_API_KEY, templateIds: [TEMPLATE_ID] });
  for (let index = 0; index < count; index += 1)
    replicas.push(await serveService({ ...baseEnv(kratos, persona.apiBase), LOG_LEVEL: 'info', ...env }));
  return replicas.map((replica) => replica.url);
}

/** Delivers one event to a replica as Persona does: signed, answered with a status. */
async function deliver(url: string, event: unknown) {
  const body = JSON.stringify(event);
  const response = await fetch(`${url}/persona/callback`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Persona-Signature': personaSignature(body) },
    body,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

/** An identity whose inquiry completes, then is declined 20 ms later (Persona time): both events. */
function completedThenDeclined() {
  const identity = kratos.createIdentity();
  const start = Date.now() - 600_000;
  const inquiry = persona.addInquiry({
    referenceId: identity.id,
    status: 'completed',
    createdAt: new Date(start).toISOString(),
    note: serviceNote('onboarding'),
  });
  const completed = persona.eventFor(inquiry.id, 'inquiry.completed', {
    createdAt: new Date(start + 200_000).toISOString(),
  });
  persona.setStatus(inquiry.id, 'declined');
  const declined = persona.eventFor(inquiry.id, 'inquiry.declined', {
    createdAt: new Date(start + 200_020).toISOString(),
  });
  return { identityId: identity.id, completed, declined };
}

const record = (identityId: string) =>
  kratos.identity(identityId)?.metadata_admin?.['persona'] as PersonaRecord | undefined;
const writesOf = (identityId: string) =>
  kratos.requests.filter((r) => r.method === 'PATCH' && r.path === `/admin/identities/${identityId}`);

/** Waits until Kratos has carried out every write, those nobody waits for any more included. */
async function writesLanded() {
  for (let attempt = 0; attempt < 600 && kratos.requests.some((r) => r.status === 0); attempt += 1) await sleep(10);
}

async function until(condition: () => boolean, what: string) {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (condition()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(['single-instance', 'postgres'])('a slow Kratos write (%s)', (mode) => {
  const withDatabase = (): Record<string, string> =>
    mode === 'postgres' ? { DATABASE_URL: database.url, DATABASE_SCHEMA: 'late_writes' } : {};

  it('is waited for in one attempt when slower than KRATOS_TIMEOUT_MS, never sent again beside itself', async () => {
    const [url] = (await deployment(1, withDatabase())) as [string];
    const { identityId, completed, declined } = completedThenDeclined();
    // 3 s, past KRATOS_TIMEOUT_MS (2 s) but inside the callback's 4 s: before, the first attempt was
    // given up and sent again, and landed after the decline that followed.
    kratos.inject({ method: 'PATCH', path: `/admin/identities/${identityId}`, delayMs: 3_000 });

    expect(await deliver(url, completed)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect(await deliver(url, declined)).toEqual({ status: 200, body: { outcome: 'applied' } });
    await writesLanded();

    expect(writesOf(identityId).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(record(identityId)).toMatchObject({ status: 'declined', last_event_id: declined.data.id });
  }, 20_000);

  it('holds its identity, when it outlasts the budget, until it has landed: the next event is applied after it', async () => {
    const [url] = (await deployment(1, { ...withDatabase(), KRATOS_TIMEOUT_MS: '500' })) as [string];
    const { identityId, completed, declined } = completedThenDeclined();
    // Longer than the callback's 4 s: answered 503, the write lands some 600 ms later all the same.
    kratos.inject({ method: 'PATCH', path: `/admin/identities/${identityId}`, delayMs: 4_600 });

    const first = deliver(url, completed);
    await until(() => writesOf(identityId).length === 1, 'the slow write');
    const second = deliver(url, declined);
    expect((await first).status).toBe(503);
    // Answered once the write had time to land; whether it had to wait for the lock, Persona
    // delivers a 503 again.
    const answer = await second;
    if (answer.status === 503) expect((await deliver(url, declined)).status).toBe(200);
    await writesLanded();

    expect(record(identityId)).toMatchObject({ status: 'declined', last_event_id: declined.data.id });
    expect((await deliver(url, completed)).body).toMatchObject({ outcome: expect.stringMatching(/stale|duplicate/) });
  }, 30_000);
});

describe('a replica whose database connection breaks mid-section (Postgres)', () => {
  const env = () => ({ DATABASE_URL: database.url, DATABASE_SCHEMA: 'lost_locks' });

  /** Ends the session holding an identity's lock, as a failover or a restart ends every session. */
  async function cutTheLockHolder() {
    const cut = await database.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(cut.rowCount).toBe(1);
  }

  /**
   * Replica A applies `completed` while Kratos plays `fault` on its write; once the write is sent,
   * A's session is cut, and replica B applies the decline. A answers 503.
   */
  async function cutWhileWriting(fault: { delayMs: number; status?: number }) {
    const [a, b] = (await deployment(2, env())) as [string, string];
    const { identityId, completed, declined } = completedThenDeclined();
    kratos.inject({ method: 'PATCH', path: `/admin/identities/${identityId}`, ...fault });
    const first = deliver(a, completed);
    await until(() => writesOf(identityId).length === 1, "A's write");
    await cutTheLockHolder();
    expect(await deliver(b, declined)).toEqual({ status: 200, body: { outcome: 'applied' } });
    expect((await first).status).toBe(503);
    return { b, identityId, completed, declined };
  }

  it('sends no write once its lock is gone: the retry of a failed write is not made', async () => {
    // A's write fails after 1 s: its retry would come after the lock went.
    const { b, identityId, completed, declined } = await cutWhileWriting({ delayMs: 1_000, status: 503 });
    await writesLanded();

    // A's one attempt, then B's decline and its session revocation.
    expect(writesOf(identityId).map((r) => r.status)).toEqual([503, 200, 200]);
    expect(record(identityId)).toMatchObject({ status: 'declined', last_event_id: declined.data.id });
    expect((await deliver(b, completed)).body).toEqual({ outcome: 'stale' });
  }, 20_000);

  it('re-checks the identity against Persona when a write was already on its way, and repairs it', async () => {
    // A's write is on its way when the lock goes, and lands after B's decline: it cannot be called back.
    const { identityId } = await cutWhileWriting({ delayMs: 1_500 });
    await writesLanded();
    expect(record(identityId)?.status).toBe('completed');

    const logs = () => replicas[0]?.service.lines.map((line) => JSON.parse(line) as Record<string, unknown>) ?? [];
    await until(() => logs().some((line) => line['msg'] === 'identity re-checked after a lost lock'), 'the re-check');
    expect(record(identityId)).toMatchObject({ status: 'declined', decision: { outcome: 'declined' } });
    expect(logs()).toContainEqual(
      expect.objectContaining({
        level: 40,
        identity_id: identityId,
        msg: expect.stringContaining('may have landed after its lock was lost'),
      }),
    );
    expect(logs()).toContainEqual(
      expect.objectContaining({ identity_id: identityId, msg: 'identity re-checked after a lost lock', changed: 1 }),
    );
    expect(logs()).toContainEqual(
      expect.objectContaining({
        msg: 'event not applied; Persona will deliver it again',
        error: 'coordination lock lost',
      }),
    );
  }, 20_000);
});
