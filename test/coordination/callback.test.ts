import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { identityKey } from '../../src/coordination/postgres/advisoryKeys.js';
import { startHarness, type Harness } from '../support/harness.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

/** The callback, initiate and /readyz with DATABASE_URL: sections, the inbox and lock timeouts over HTTP. */

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

let harness: Harness;
afterEach(() => harness.close());

const withDatabase = () => startHarness({ DATABASE_URL: database.url });

async function registered(h: Harness) {
  const identity = h.kratos.createIdentity();
  const response = await h.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
  return { identityId: identity.id, inquiryId: response.body.inquiry_id as string };
}

function personaMoves(h: Harness, inquiryId: string, status: string) {
  h.clock.now += 1_000;
  h.persona.setStatus(inquiryId, status);
  return h.persona.eventFor(inquiryId, `inquiry.${status}`);
}

const record = (h: Harness, identityId: string) =>
  h.kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, unknown> | undefined;
const inboxHas = async (eventId: string) =>
  (await database.query('SELECT 1 FROM persona_idv.inbox WHERE event_id = $1', [eventId])).rowCount === 1;

describe('POST /persona/callback with DATABASE_URL', () => {
  it("answers 503 when another replica holds the identity's lock too long, and applies the redelivery", async () => {
    harness = await withDatabase();
    const { identityId, inquiryId } = await registered(harness);
    const event = personaMoves(harness, inquiryId, 'approved');
    const patchesBefore = harness.kratos.patchesOf(identityId).length;
    const holder = await database.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [...identityKey(identityId)]);

    const refused = await harness.postEvent(event);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({
      error: {
        code: 'temporarily_unavailable',
        message: 'the event could not be applied now; deliver it again later',
      },
    });
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patchesBefore);
    expect(await inboxHas(event.data.id)).toBe(false);
    const line = harness.logs.find((entry) => entry['msg'] === 'event not applied; Persona will deliver it again');
    expect(line).toMatchObject({ error: 'coordination lock timeout (55P03)', transient: true });

    await holder.query('COMMIT');
    await harness.postEvent(event).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)).toMatchObject({ status: 'approved', last_event_id: event.data.id });
    expect(await inboxHas(event.data.id)).toBe(true);
    await harness.postEvent(event).expect(200, { outcome: 'duplicate' });
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patchesBefore + 1);
  });

  it('rolls the inbox back with a failed Kratos write, so the redelivery starts clean', async () => {
    harness = await withDatabase();
    const { identityId, inquiryId } = await registered(harness);
    const event = personaMoves(harness, inquiryId, 'declined');
    harness.kratos.inject({ method: 'PATCH', status: 500, times: 3 });

    await harness.postEvent(event).expect(503);
    expect(await inboxHas(event.data.id)).toBe(false);
    expect(record(harness, identityId)?.['status']).toBe('created');

    await harness.postEvent(event).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)).toMatchObject({ status: 'declined', last_event_id: event.data.id });
    expect(await inboxHas(event.data.id)).toBe(true);
  });

  it('refuses an event the inbox holds, whatever the record says now', async () => {
    harness = await withDatabase();
    const { identityId, inquiryId } = await registered(harness);
    const approved = personaMoves(harness, inquiryId, 'approved');
    await database.query('INSERT INTO persona_idv.inbox (event_id) VALUES ($1)', [approved.data.id]);

    await harness.postEvent(approved).expect(200, { outcome: 'duplicate' });
    expect(record(harness, identityId)?.['status']).toBe('created');
  });
});

describe('/readyz and initiate with DATABASE_URL', () => {
  it('reports the Postgres mode and the database, and records registrations through it', async () => {
    harness = await withDatabase();
    await request(harness.app)
      .get('/readyz')
      .expect(200, { status: 'ready', coordination: 'postgres', dependencies: { kratos: 'up', database: 'up' } });
    const { identityId, inquiryId } = await registered(harness);
    expect(record(harness, identityId)).toMatchObject({ inquiry_id: inquiryId, status: 'created' });
  });
});

/**
 * A section holds a pool connection from its first statement to its last: Persona calls are made
 * before it, so users waiting for a slow Persona cannot take the connections every other identity's
 * callback needs (DATABASE_POOL_SIZE=2 here; the callback's budget is 4 s, Persona takes 4.5).
 */
describe('Persona calls hold no pool connection', () => {
  const otherApproval = (h: Harness) => {
    const other = h.identityInState('pending');
    h.persona.setStatus(other.inquiryId, 'approved');
    return { ...other, event: h.persona.eventFor(other.inquiryId, 'inquiry.approved') };
  };
  const until = async (condition: () => boolean) => {
    for (let attempt = 0; attempt < 300 && !condition(); attempt += 1) await new Promise((r) => setTimeout(r, 10));
    expect(condition()).toBe(true);
  };
  /** Sends a supertest request now (it is sent only once awaited). */
  const sent = (test: request.Test) => test.then((response) => response);
  /** The service's connections inside a transaction now: a section's. */
  const inTransaction = async () =>
    (
      await database.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ory-persona-idv' " +
          "AND datname = current_database() AND state LIKE 'idle in transaction%'",
      )
    ).rows[0]?.n;

  it("applies another identity's callback while users wait in /persona/start for Persona to create their inquiry", async () => {
    harness = await startHarness({ DATABASE_URL: database.url, DATABASE_POOL_SIZE: '2' });
    harness.clock.now += 1_000;
    const other = otherApproval(harness);
    harness.persona.inject({ method: 'POST', path: '/api/v1/inquiries', delayMs: 4_500, times: 2 });
    const starts = [0, 1].map(() => {
      const identity = harness.kratos.createIdentity();
      const { cookie } = harness.kratos.createSession(identity.id);
      return sent(request(harness.app).get('/persona/start').set('Cookie', cookie).set('Accept', 'application/json'));
    });
    await until(() => harness.persona.requests.filter((r) => r.method === 'POST').length === 2);
    expect(await inTransaction()).toBe(0);

    await harness.postEvent(other.event).expect(200, { outcome: 'applied' });
    expect(record(harness, other.identityId)?.['status']).toBe('approved');
    expect((await Promise.all(starts)).map((response) => response.status)).toEqual([303, 303]);
  }, 20_000);

  it("applies another identity's callback while approvals wait for Persona's documents (ATTRIBUTE_MATCH)", async () => {
    harness = await startHarness({
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '2',
      ATTRIBUTE_MATCH: 'name-first=name.first',
    });
    harness.clock.now += 1_000;
    const slow = [otherApproval(harness), otherApproval(harness)];
    const other = otherApproval(harness);
    for (const { inquiryId } of slow)
      harness.persona.inject({ method: 'GET', path: `/api/v1/inquiries/${inquiryId}`, delayMs: 4_500 });
    const slowAnswers = slow.map(({ event }) => sent(harness.postEvent(event)));
    await until(() => harness.persona.requests.filter((r) => r.query.get('include') === 'verifications').length === 2);
    expect(await inTransaction()).toBe(0);

    await harness.postEvent(other.event).expect(200, { outcome: 'applied' });
    expect(record(harness, other.identityId)).toMatchObject({ decision: { outcome: expect.any(String) } });
    // Persona's answer came after their budget: Persona delivers them again.
    expect((await Promise.all(slowAnswers)).map((response) => response.status)).toEqual([503, 503]);
  }, 20_000);
});
