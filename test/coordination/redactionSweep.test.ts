import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKratosClient } from '../../src/kratos/kratosClient.js';
import { createLogger } from '../../src/logger.js';
import { serviceNote } from '../../src/persona/inquiry.js';
import { sweepDeletedIdentities } from '../../src/privacy/sweep/deletedIdentities.js';
import { sweepDepsWith } from '../../src/privacy/sweep/redactionSweeps.js';
import { decoyTemplateIdsOf } from '../../src/privacy/sweep/sweepDeps.js';
import { acceptedTemplateIds } from '../../src/services.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';
import { PERSONA_API_KEY, TEMPLATE_ID, baseEnv } from '../support/harness.js';
import { startService, type Service } from '../support/service.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/** What the deletion sweep remembers, across restarts and replicas. */

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

const DAY_MS = 86_400_000;
const GRACE_MS = 7 * DAY_MS;
const clock = { now: Date.now() };
let kratos: KratosStandIn;
let persona: PersonaStandIn;
const running: Service[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.close()));
  await Promise.all([kratos.close(), persona.close()]);
});

async function standIns() {
  kratos = await startKratosStandIn();
  persona = await startPersonaStandIn({ apiKey: PERSONA_API_KEY, templateIds: [TEMPLATE_ID], now: () => clock.now });
  return { ...baseEnv(kratos, persona.apiBase), LOG_LEVEL: 'silent' };
}

/** A replica of the service (a restart is a new one), and its sweep as the schedule would run it. */
async function replica(env: Record<string, string>) {
  const service = await startService(env, () => clock.now);
  running.push(service);
  const deps = sweepDepsWith({
    persona: service.persona,
    kratos: createKratosClient(service.config.kratos),
    store: service.services.store,
    templateIds: acceptedTemplateIds(service.config),
    decoyTemplateIds: decoyTemplateIdsOf(service.config),
    state: service.services.coordination.sweepState,
    audit: async () => undefined,
    logger: createLogger({ level: 'silent' }),
    now: () => clock.now,
  });
  return { service, sweep: () => sweepDeletedIdentities(deps, { graceMs: GRACE_MS, dryRun: false }) };
}

/** Our inquiry of an identity Kratos has no more. */
function deletedIdentity() {
  return persona.addInquiry({ referenceId: randomUUID(), note: serviceNote('onboarding') }).id;
}

/** Our inquiry of an identity Kratos has: a run that finds it knows this is the right Kratos. */
function livingIdentity() {
  persona.addInquiry({ referenceId: kratos.createIdentity().id, note: serviceNote('onboarding') });
}

describe('the deletion sweep across restarts', () => {
  it('with DATABASE_URL, remembers when an identity was first found missing: the grace period ends on time', async () => {
    const env = { ...(await standIns()), DATABASE_URL: database.url, DATABASE_SCHEMA: 'sweep_restart' };
    livingIdentity();
    const inquiryId = deletedIdentity();
    const first = await replica(env);
    expect(await first.sweep()).toMatchObject({ missing: 1, waiting: 1 });
    await first.service.close();

    clock.now += GRACE_MS;
    const second = await replica(env);
    expect(await second.sweep()).toMatchObject({ missing: 1, waiting: 0, redacted: 1 });
    expect(persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));
    const rows = await database.query('SELECT * FROM sweep_restart.missing_identities');
    expect(rows.rowCount).toBe(0);
  });

  it('with DATABASE_URL, a run stopped on one replica goes on from its page on another', async () => {
    const env = { ...(await standIns()), DATABASE_URL: database.url, DATABASE_SCHEMA: 'sweep_cursor' };
    // Newest first: the second page holds the 20 created first.
    const identities = Array.from({ length: 120 }, () => {
      const identity = kratos.createIdentity();
      persona.addInquiry({ referenceId: identity.id, note: serviceNote('onboarding') });
      return identity.id;
    });
    kratos.inject({ method: 'GET', path: `/admin/identities/${identities[5]}`, status: 503, times: 3 });
    const one = await replica(env);
    const other = await replica(env);

    expect(await one.sweep()).toMatchObject({ pages: 1, stopped: 'kratos_failed', complete: false });
    const listed = persona.requests.length;
    expect(await other.sweep()).toMatchObject({ pages: 1, existing: 20, complete: true });
    const [resumedAt] = persona.requests.slice(listed).filter((r) => r.path === '/api/v1/inquiries');
    expect(resumedAt?.query.get('page[after]')).toMatch(/^inq_/);
    expect((await database.query('SELECT * FROM sweep_cursor.sweep_cursors')).rowCount).toBe(0);
  });

  it('without DATABASE_URL, forgets at a restart: the grace period begins again, so nothing is redacted early', async () => {
    const env = await standIns();
    livingIdentity();
    const inquiryId = deletedIdentity();
    const first = await replica(env);
    expect(await first.sweep()).toMatchObject({ missing: 1, waiting: 1 });

    clock.now += GRACE_MS;
    const restarted = await replica(env);
    expect(await restarted.sweep()).toMatchObject({ missing: 1, waiting: 1, redacted: 0 });
    expect(persona.inquiry(inquiryId)?.redactedAt).toBeNull();
    clock.now += GRACE_MS;
    expect(await restarted.sweep()).toMatchObject({ redacted: 1 });
  });

  it('with DATABASE_URL, the all-missing guard holds on every replica and run until a run finds an identity that exists', async () => {
    const env = { ...(await standIns()), DATABASE_URL: database.url, DATABASE_SCHEMA: 'sweep_guard' };
    // KRATOS_ADMIN_URL of another Kratos: every identity of ours is missing there.
    const inquiries = Array.from({ length: 120 }, () => deletedIdentity());
    const one = await replica(env);
    const other = await replica(env);

    expect(await one.sweep()).toMatchObject({ stopped: 'all_missing', missing: 0 });
    expect((await database.query('SELECT * FROM sweep_guard.sweep_cursors')).rowCount).toBe(0);
    expect(await other.sweep()).toMatchObject({ stopped: 'all_missing', missing: 0 });
    clock.now += GRACE_MS;
    expect(await one.sweep()).toMatchObject({ stopped: 'all_missing', missing: 0, redacted: 0 });
    expect((await database.query('SELECT * FROM sweep_guard.missing_identities')).rowCount).toBe(0);
    expect(persona.inquiry(inquiries[0]!)?.redactedAt).toBeNull();
  });
});
