import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceNote } from '../../src/persona/inquiry.js';
import { startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import type { KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Failures injected into the stand-ins, each case ending with the identity's record checked: a
 * status change is never lost and never applied twice.
 */

const record = (kratos: KratosStandIn, identityId: string) =>
  kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, unknown> | undefined;

const until = async (condition: () => boolean, what: string) => {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('Persona redelivery against a failing Kratos', () => {
  let sandbox: SandboxEnvironment;
  afterEach(() => sandbox.close());

  /** A registered identity with its inquiry, the registration's own webhook settled. */
  async function registered(env: Record<string, string> = {}) {
    // Persona's schedule thirty times faster: the first redelivery 100 ms after the failure.
    sandbox = await startSandbox({ redelivery: { scale: 1 / 30 }, env });
    const kratos = sandbox.kratos as KratosStandIn;
    const { identityId } = await kratos.register({ email: 'ann@example.com' });
    await sandbox.persona.settled();
    const inquiryId = record(kratos, identityId)?.['inquiry_id'] as string;
    return { kratos, identityId, inquiryId };
  }

  it('answers 503 while Kratos fails the write, and the redelivery applies the event once', async () => {
    const { kratos, identityId, inquiryId } = await registered();
    const patchesBefore = kratos.patchesOf(identityId).length;
    kratos.inject({ method: 'PATCH', status: 500, times: 3 });

    sandbox.persona.simulate(inquiryId, ['approve_inquiry']);
    await until(() => sandbox.persona.deliveries.at(-1)?.state === 'delivered', 'the redelivery');

    const delivery = sandbox.persona.deliveries.at(-1);
    expect(delivery).toMatchObject({ name: 'inquiry.approved', attempts: 2, state: 'delivered' });
    const applied = kratos.requests.filter(
      (r) => r.method === 'PATCH' && r.path.endsWith(identityId) && r.status === 200,
    );
    expect(kratos.patchesOf(identityId).length - patchesBefore).toBe(4);
    expect(applied.length).toBe(patchesBefore + 1);
    expect(record(kratos, identityId)).toMatchObject({ status: 'approved', last_event_id: delivery?.eventId });
  });

  it('answers 503 while a Kratos write outlasts the callback budget, and the redelivery leaves the right state', async () => {
    const { kratos, identityId, inquiryId } = await registered({ KRATOS_TIMEOUT_MS: '300' });
    // Longer than the callback's 4 s: the one attempt is given up, the write lands later all the same.
    kratos.inject({ method: 'PATCH', delayMs: 4_500 });

    sandbox.persona.simulate(inquiryId, ['approve_inquiry']);
    await until(() => sandbox.persona.deliveries.at(-1)?.state === 'delivered', 'the redelivery');

    const delivery = sandbox.persona.deliveries.at(-1);
    expect(delivery?.attempts).toBeGreaterThanOrEqual(2);
    // The late write Kratos finally performs carries the same absolute values: nothing is undone.
    await until(() => kratos.requests.every((r) => r.status !== 0), 'the delayed writes');
    expect(record(kratos, identityId)).toMatchObject({ status: 'approved', last_event_id: delivery?.eventId });
  });
});

describe('concurrent and repeated events', () => {
  let harness: Harness;
  afterEach(() => harness.close());

  it('ends 50 concurrent events for one identity, in random order, in the state of the newest', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const { body } = await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
    const statuses = ['pending', 'completed', 'needs_review', 'approved', 'declined', 'expired', 'pending', 'failed'];
    const events = Array.from({ length: 50 }, (_, index) => {
      harness.clock.now += 1_000;
      harness.persona.setStatus(body.inquiry_id, statuses[index % statuses.length] as string);
      return harness.persona.eventFor(body.inquiry_id, 'inquiry.transitioned');
    });
    const newest = events.at(-1);
    const shuffled = [...events].sort(() => Math.random() - 0.5);

    const responses = await Promise.all(shuffled.map((event) => harness.postEvent(event)));

    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    expect(record(harness.kratos, identity.id)).toMatchObject({
      status: statuses[49 % statuses.length],
      last_event_id: newest?.data.id,
      updated_at: (newest?.data.attributes.payload as { data: { attributes: Record<string, string> } }).data.attributes[
        'updated-at'
      ],
    });
  });

  it('writes once for the same event delivered 10 times at once', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const { body } = await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
    harness.clock.now += 1_000;
    harness.persona.setStatus(body.inquiry_id, 'approved');
    const approved = harness.persona.eventFor(body.inquiry_id, 'inquiry.approved');
    const patchesBefore = harness.kratos.patchesOf(identity.id).length;

    const responses = await Promise.all(Array.from({ length: 10 }, () => harness.postEvent(approved)));

    const outcomes = responses.map((response) => response.body.outcome).sort();
    expect(outcomes).toEqual(['applied', ...Array(9).fill('duplicate')]);
    expect(harness.kratos.patchesOf(identity.id)).toHaveLength(patchesBefore + 1);
  });

  it('lets another identity proceed while one waits on Kratos', async () => {
    harness = await startHarness();
    const slow = harness.kratos.createIdentity();
    const fast = harness.kratos.createIdentity();
    const slowInquiry = (await harness.postHook('/persona/initiate', { identity_id: slow.id })).body.inquiry_id;
    const fastInquiry = (await harness.postHook('/persona/initiate', { identity_id: fast.id })).body.inquiry_id;
    harness.clock.now += 1_000;
    harness.persona.setStatus(slowInquiry, 'approved');
    harness.persona.setStatus(fastInquiry, 'approved');
    harness.kratos.inject({ method: 'GET', path: `/admin/identities/${slow.id}`, delayMs: 1_000 });

    const finished: string[] = [];
    const slowEvent = harness
      .postEvent(harness.persona.eventFor(slowInquiry, 'inquiry.approved'))
      .then(() => finished.push('slow'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await harness
      .postEvent(harness.persona.eventFor(fastInquiry, 'inquiry.approved'))
      .then(() => finished.push('fast'));
    await slowEvent;

    expect(finished).toEqual(['fast', 'slow']);
    expect(record(harness.kratos, slow.id)?.['status']).toBe('approved');
  });
});

describe('Persona rate limits', () => {
  let harness: Harness;
  afterEach(() => harness.close());

  it('waits out a short RateLimit-Reset during initiate and creates one inquiry', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    harness.persona.inject({
      path: '/api/v1/inquiries',
      method: 'POST',
      status: 429,
      headers: { 'RateLimit-Reset': '1' },
    });

    const response = await harness.postHook('/persona/initiate', { identity_id: identity.id });

    expect(response.body.status).toBe('created');
    const creates = harness.persona.requests.filter((r) => r.method === 'POST');
    expect(creates.map((r) => r.status)).toEqual([429, 201]);
    expect(new Set(creates.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('waits out RateLimit-Reset during reconciliation and checks every inquiry', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const inquiry = harness.persona.addInquiry({
      referenceId: identity.id,
      status: 'approved',
      note: serviceNote('onboarding'),
    });
    harness.persona.inject({
      path: '/api/v1/inquiries',
      method: 'GET',
      status: 429,
      headers: { 'RateLimit-Reset': '1' },
    });

    const counts = await harness.reconcile(new Date(harness.clock.now - 3_600_000));

    expect(counts).toEqual({ checked: 1, changed: 1, unchanged: 0, failed: 0, incomplete: false });
    expect(harness.persona.requests.filter((r) => r.method === 'GET').map((r) => r.status)).toEqual([429, 200]);
    expect(record(harness.kratos, identity.id)).toMatchObject({ inquiry_id: inquiry.id, status: 'approved' });
  });
});

describe('reconciliation', () => {
  let harness: Harness;
  afterEach(() => harness.close());
  const lastTwoDays = (h: Harness) => new Date(h.clock.now - 48 * 3_600_000);

  it('heals a webhook that was lost entirely, and leaves healthy identities alone', async () => {
    harness = await startHarness();
    const lost = harness.kratos.createIdentity();
    const healthy = harness.kratos.createIdentity();
    const lostInquiry = (await harness.postHook('/persona/initiate', { identity_id: lost.id })).body.inquiry_id;
    const healthyInquiry = (await harness.postHook('/persona/initiate', { identity_id: healthy.id })).body.inquiry_id;
    harness.clock.now += 1_000;
    harness.persona.setStatus(lostInquiry, 'declined');
    harness.persona.setStatus(healthyInquiry, 'approved');
    await harness.postEvent(harness.persona.eventFor(healthyInquiry, 'inquiry.approved')).expect(200);
    const healthyPatches = harness.kratos.patchesOf(healthy.id).length;

    const counts = await harness.reconcile(lastTwoDays(harness));

    expect(counts).toEqual({ checked: 2, changed: 1, unchanged: 1, failed: 0, incomplete: false });
    expect(record(harness.kratos, lost.id)).toMatchObject({ status: 'declined', decided_at: expect.any(String) });
    expect(harness.kratos.identity(lost.id)?.metadata_public?.['persona']).toEqual({
      status: 'declined',
      verified_at: null,
      inquiry_status: 'declined',
      step_up_verified_at: null,
      reverification_required: false,
    });
    expect(harness.kratos.patchesOf(healthy.id)).toHaveLength(healthyPatches);
    expect(await harness.reconcile(lastTwoDays(harness))).toMatchObject({ changed: 0, unchanged: 2 });
  });

  it('finds the identity of an inquiry through its account when the inquiry carries no reference id', async () => {
    harness = await startHarness({}, { referenceIds: 'on-account-only' });
    const identity = harness.kratos.createIdentity();
    const inquiry = harness.persona.addInquiry({
      referenceId: identity.id,
      status: 'approved',
      note: serviceNote('onboarding'),
    });
    const accountReads = () => harness.persona.requests.filter((r) => r.path.startsWith('/api/v1/accounts/'));

    expect(await harness.reconcile(lastTwoDays(harness))).toMatchObject({ checked: 1, changed: 1, failed: 0 });
    expect(record(harness.kratos, identity.id)).toMatchObject({ inquiry_id: inquiry.id, status: 'approved' });
    expect(accountReads().map((r) => r.path)).toEqual([`/api/v1/accounts/${inquiry.accountId}`]);

    // The account's reference id is remembered: the next run asks Persona for the listing only.
    expect(await harness.reconcile(lastTwoDays(harness))).toMatchObject({ checked: 1, changed: 0, unchanged: 1 });
    expect(accountReads()).toHaveLength(1);
  });

  it('heals an identity whose initiate could not write to Kratos', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'PATCH', status: 503, times: 10 });
    await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
    harness.kratos.clearFaults();
    expect(record(harness.kratos, identity.id)).toBeUndefined();

    const counts = await harness.reconcile(lastTwoDays(harness));

    expect(counts.changed).toBe(1);
    expect(record(harness.kratos, identity.id)).toMatchObject({
      inquiry_id: harness.persona.inquiries()[0]?.id,
      status: 'created',
    });
  });

  it('pages through many inquiries, applying each newest-first without undoing a newer inquiry', async () => {
    harness = await startHarness();
    const identities = Array.from({ length: 120 }, () => harness.kratos.createIdentity());
    for (const identity of identities) {
      harness.persona.addInquiry({ referenceId: identity.id, status: 'approved', note: serviceNote('onboarding') });
    }
    const twice = identities[0] as { id: string };
    harness.clock.now += 60_000;
    const newer = harness.persona.addInquiry({
      referenceId: twice.id,
      status: 'pending',
      note: serviceNote('reverification'),
    });
    harness.persona.addInquiry({ referenceId: null, status: 'approved' });

    const counts = await harness.reconcile(lastTwoDays(harness));

    // The older inquiry's approval is applied too: it is the identity's decision, while the newer
    // inquiry stays the one in progress.
    expect(counts).toEqual({ checked: 122, changed: 121, unchanged: 1, failed: 0, incomplete: false });
    const reads = harness.persona.requests
      .filter((r) => r.method === 'GET')
      .map((r) => r.path.replace(/act_\w+$/, 'act_'));
    // Two pages, and the account of the inquiry without a reference id: it carries none either.
    expect(reads.sort()).toEqual(['/api/v1/accounts/act_', '/api/v1/inquiries', '/api/v1/inquiries']);
    expect(record(harness.kratos, twice.id)).toMatchObject({
      inquiry_id: newer.id,
      status: 'pending',
      decision: { outcome: 'approved' },
    });
  });

  it('counts identities Kratos cannot update as failed, and reports an unreadable listing', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    harness.persona.addInquiry({ referenceId: identity.id, status: 'approved', note: serviceNote('onboarding') });
    harness.kratos.inject({ method: 'PATCH', status: 500, times: 10 });
    expect(await harness.reconcile(lastTwoDays(harness))).toEqual({
      checked: 1,
      changed: 0,
      unchanged: 0,
      failed: 1,
      incomplete: false,
    });

    harness.kratos.clearFaults();
    harness.persona.inject({ path: '/api/v1/inquiries', method: 'GET', status: 401, times: 1 });
    expect(await harness.reconcile(lastTwoDays(harness))).toMatchObject({ checked: 0, incomplete: true });
  });

  it('keeps a reconciled decision when a late event of the same inquiry arrives', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const { body } = await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
    harness.clock.now += 1_000;
    harness.persona.setStatus(body.inquiry_id, 'completed');
    const lateCompleted = harness.persona.eventFor(body.inquiry_id, 'inquiry.completed');
    harness.clock.now += 1_000;
    harness.persona.setStatus(body.inquiry_id, 'declined');

    expect(await harness.reconcile(lastTwoDays(harness))).toMatchObject({ changed: 1 });
    expect(record(harness.kratos, identity.id)).toMatchObject({ status: 'declined' });
    harness.clock.now += 60_000;
    await harness.postEvent(lateCompleted).expect(200, { outcome: 'stale' });
    expect(record(harness.kratos, identity.id)).toMatchObject({
      status: 'declined',
      decision: { outcome: 'declined' },
    });
  });

  it('repeats the account actions of a decline that Persona gave up delivering', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const session = harness.kratos.createSession(identity.id);
    const { body } = await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
    harness.clock.now += 1_000;
    harness.persona.setStatus(body.inquiry_id, 'declined');
    harness.kratos.inject({ method: 'DELETE', status: 503, times: 100 });
    await harness.postEvent(harness.persona.eventFor(body.inquiry_id, 'inquiry.declined')).expect(503);
    expect(record(harness.kratos, identity.id)).toMatchObject({ actions: { pending: ['revoke_sessions'] } });

    harness.kratos.clearFaults();
    expect(await harness.reconcile(lastTwoDays(harness))).toMatchObject({ failed: 0 });
    expect(record(harness.kratos, identity.id)).toMatchObject({ actions: { pending: [] } });
    const whoami = await fetch(`${harness.kratos.public.url}/sessions/whoami`, {
      headers: { 'X-Session-Token': session.token },
    });
    expect(whoami.status).toBe(401);
  });
});

/**
 * A peer that answers every request 200 with the JSON `null`, as a misbehaving proxy or Kratos
 * might: not a stand-in (the stand-ins keep to the published documents), a broken one on purpose.
 */
async function answeringNull(): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('null');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('answers of an unexpected shape', () => {
  let harness: Harness;
  let broken: Awaited<ReturnType<typeof answeringNull>>;
  beforeEach(async () => {
    broken = await answeringNull();
  });
  afterEach(async () => {
    await harness.close();
    await broken.close();
  });

  it('answers the callback 503 when the Kratos admin API reads an identity as 200 null, so Persona delivers again', async () => {
    harness = await startHarness({ HOST: '127.0.0.1', KRATOS_ADMIN_URL: broken.url });
    const { identityId, inquiryId } = harness.identityInState('pending');
    const before = record(harness.kratos, identityId);
    harness.persona.setStatus(inquiryId, 'approved');
    harness.clock.now += 1_000;

    const response = await harness.postEvent(harness.persona.eventFor(inquiryId, 'inquiry.approved'));

    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      error: { code: 'temporarily_unavailable', message: 'the event could not be applied now; deliver it again later' },
    });
    expect(broken.requests()).toBe(1);
    expect(record(harness.kratos, identityId)).toEqual(before);
    expect((await request(harness.app).get('/metrics')).text).toMatch(
      /outbound_request_errors_total\{target="kratos",operation="getIdentity",reason="invalid_response"\} 1/,
    );
  });

  it('answers initiate 2xx when the Kratos admin API answers 200 null', async () => {
    harness = await startHarness({ KRATOS_ADMIN_URL: broken.url });
    const response = await harness.postHook('/persona/initiate', { identity_id: harness.kratos.createIdentity().id });
    expect(response.status).toBe(200);
    expect(broken.requests()).toBeGreaterThan(0);
  });

  it('answers initiate 2xx when Persona answers the create with 200 null, and records not_started', async () => {
    harness = await startHarness({ PERSONA_API_BASE: broken.url });
    const identity = harness.kratos.createIdentity();
    const response = await harness.postHook('/persona/initiate', { identity_id: identity.id });
    expect(response.status).toBe(200);
    expect(record(harness.kratos, identity.id)).toMatchObject({ status: 'not_started' });
  });

  it('answers /persona/start 503 when the Kratos public API answers the session check with 200 null', async () => {
    harness = await startHarness({ KRATOS_PUBLIC_URL: broken.url });
    const { identityId } = harness.identityInState('created');
    const { cookie } = harness.kratos.createSession(identityId);
    const response = await request(harness.app)
      .get('/persona/start')
      .set('Cookie', cookie)
      .set('Accept', 'application/json');
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('temporarily_unavailable');
    expect(broken.requests()).toBe(1);
  });
});
