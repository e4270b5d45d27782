import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { identityKey } from '../../src/coordination/postgres/advisoryKeys.js';
import { serviceNote } from '../../src/persona/inquiry.js';
import { scheduleReconciliation } from '../../src/reconcile/reconcile.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { PERSONA_API_KEY, TEMPLATE_ID, baseEnv } from '../support/harness.js';
import { runCommandProcess } from '../support/serverProcess.js';
import { startService } from '../support/service.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where reconciliation runs beside replicas: the command under the same locks, the schedule on one leader. */

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

let kratos: KratosStandIn;
let persona: PersonaStandIn;
const stopping: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stopping.splice(0).map((stop) => stop()));
  await Promise.all([kratos.close(), persona.close()]);
});

async function standIns() {
  kratos = await startKratosStandIn();
  persona = await startPersonaStandIn({ apiKey: PERSONA_API_KEY, templateIds: [TEMPLATE_ID] });
  return { ...baseEnv(kratos, persona.apiBase), LOG_LEVEL: 'silent' };
}

const reconcileCommand = (env: Record<string, string>) => runCommandProcess('reconcile', ['--since', '48h'], env);

/** Resolves once a session of the test database waits for an advisory lock. */
async function waitingForTheLock() {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const waiting = await database.query(
      "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted " +
        'AND database = (SELECT oid FROM pg_database WHERE datname = current_database())',
    );
    if (waiting.rowCount !== 0) return;
    await sleep(25);
  }
  throw new Error('nobody waited for the lock');
}

/** An identity without a record whose approved inquiry only reconciliation can find. */
function lostApproval() {
  const identity = kratos.createIdentity();
  persona.addInquiry({
    referenceId: identity.id,
    status: 'approved',
    createdAt: new Date(Date.now() - 3_600_000).toISOString(),
    note: serviceNote('onboarding'),
  });
  return identity.id;
}

describe('npm run reconcile beside running replicas', () => {
  it("with DATABASE_URL, waits for a replica's lock on the identity before writing it", async () => {
    const env = { ...(await standIns()), DATABASE_URL: database.url, DATABASE_SCHEMA: 'reconcile_command' };
    const identityId = lostApproval();
    const holder = await database.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [...identityKey(identityId)]);

    const command = reconcileCommand(env);
    await waitingForTheLock();
    const releasedAt = performance.now();
    await holder.query('COMMIT');
    const result = await command;

    expect(result.stdout).toMatch(/checked 1, changed 1, unchanged 0, failed 0\n$/);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('second writer');
    const write = kratos.requests.find((r) => r.method === 'PATCH' && r.path === `/admin/identities/${identityId}`);
    expect(write?.receivedAt).toBeGreaterThan(releasedAt);
  });

  it('without DATABASE_URL, says it is a second writer and recommends the schedule', async () => {
    const env = await standIns();
    const identityId = lostApproval();
    const result = await reconcileCommand(env);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('no DATABASE_URL, so this command is a second writer beside a running service');
    expect(result.stderr).toContain('RECONCILE_INTERVAL');
    expect(kratos.identity(identityId)?.metadata_admin?.['persona']).toMatchObject({ status: 'approved' });
  });
});

describe('the reconcile schedule with three replicas', () => {
  it('runs on one replica at a time, and on another once that one stops', async () => {
    const env = {
      ...(await standIns()),
      LOG_LEVEL: 'info',
      DATABASE_URL: database.url,
      DATABASE_SCHEMA: 'reconcile_schedule',
    };
    // Each replica as server.ts wires it: its schedule led through its own coordination, on an
    // interval shorter than RECONCILE_INTERVAL allows.
    const replicas = await Promise.all(
      [0, 1, 2].map(async () => {
        const service = await startService(env);
        const schedule = scheduleReconciliation(
          { ...service.services, persona: service.persona, templateIds: [TEMPLATE_ID], logger: service.logger },
          { intervalMs: 100, windowMs: 3_600_000, leadership: service.services.coordination.leadership('reconcile') },
        );
        const stop = async () => {
          await schedule.stop();
          await service.close();
        };
        stopping.push(stop);
        return { service, stop };
      }),
    );
    const runs = () =>
      replicas.map(
        ({ service }) => service.lines.filter((line) => line.includes('"msg":"reconciliation finished"')).length,
      );

    await sleep(1_500);
    const before = runs();
    expect(before.filter((count) => count > 0)).toHaveLength(1);

    const leader = before.findIndex((count) => count > 0);
    await replicas[leader]?.stop();
    await sleep(1_500);
    const after = runs();
    const takenOver = after.map((count, index) => (index === leader ? 0 : count - (before[index] ?? 0)));
    expect(takenOver.filter((count) => count > 0)).toHaveLength(1);
  }, 30_000);
});
