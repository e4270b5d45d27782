import { serviceNote } from '../../src/persona/inquiry.js';
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FOREIGN_TEMPLATE_ID,
  PERSONA_WEBHOOK_SECRET,
  TEMPLATE_ID,
  startHarness,
  type Harness,
} from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

/** Registers an identity through the initiate hook; returns it with its inquiry id. */
async function registered(h: Harness) {
  const identity = h.kratos.createIdentity();
  const response = await h.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
  return { identityId: identity.id, inquiryId: response.body.inquiry_id as string };
}

const record = (h: Harness, identityId: string) =>
  h.kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, unknown> | undefined;

/** Moves the inquiry to `status` one second later and returns Persona's event about it. */
function personaMoves(h: Harness, inquiryId: string, status: string, name = `inquiry.${status}`) {
  h.clock.now += 1_000;
  h.persona.setStatus(inquiryId, status);
  return h.persona.eventFor(inquiryId, name);
}

const kratosCalls = (h: Harness) => h.kratos.requests.filter((r) => r.path.startsWith('/admin/identities/')).length;

describe('POST /persona/callback: signature', () => {
  const signed = (rawBody: string, secret: string, timestamp: number) =>
    `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;

  const post = (h: Harness, rawBody: string, headers: Record<string, string>) => {
    const test = request(h.app).post('/persona/callback').set('Content-Type', 'application/json');
    for (const [name, value] of Object.entries(headers)) test.set(name, value);
    return test.send(rawBody);
  };

  async function prepared() {
    harness = await startHarness({ PERSONA_WEBHOOK_SECRET: `wbhsec_ournewsecret0123456789,${PERSONA_WEBHOOK_SECRET}` });
    const { identityId, inquiryId } = await registered(harness);
    const rawBody = JSON.stringify(personaMoves(harness, inquiryId, 'approved'));
    return { identityId, rawBody, now: Math.floor(harness.clock.now / 1000) };
  }

  it.each(['application/json; charset="utf-8"', 'application/json; charset=utf8', 'Application/JSON;Charset=UTF-8'])(
    'accepts the content type %s',
    async (contentType) => {
      const { identityId, rawBody, now } = await prepared();
      const response = await post(harness, rawBody, {
        'Content-Type': contentType,
        'Persona-Signature': signed(rawBody, PERSONA_WEBHOOK_SECRET, now),
      });
      expect(response.status).toBe(200);
      expect(record(harness, identityId)?.['status']).toBe('approved');
    },
  );

  it('refuses a signature header beyond its bounds or out of tolerance before reading the body, closing the connection', async () => {
    const { rawBody, now } = await prepared();
    const before = kratosCalls(harness);
    const valid = signed(rawBody, PERSONA_WEBHOOK_SECRET, now);
    for (const header of [
      `${valid} ${valid} ${valid} ${valid} ${valid}`,
      signed(rawBody, PERSONA_WEBHOOK_SECRET, now - 301),
    ]) {
      const response = await request(harness.app)
        .post('/persona/callback')
        .set('Content-Type', 'application/json')
        .set('Persona-Signature', header)
        // Announced but never sent: the answer cannot wait for it.
        .set('Content-Length', String(200 * 1024))
        .send(rawBody.slice(0, 10))
        .timeout(2_000);
      expect(response.status).toBe(401);
      expect(response.headers['connection']).toBe('close');
    }
    expect(kratosCalls(harness)).toBe(before);
  });

  it('accepts a single valid signature and applies the event', async () => {
    const { identityId, rawBody, now } = await prepared();
    const response = await post(harness, rawBody, {
      'Persona-Signature': signed(rawBody, PERSONA_WEBHOOK_SECRET, now),
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ outcome: 'applied' });
    expect(record(harness, identityId)?.['status']).toBe('approved');
  });

  it("accepts Persona's rotation header when either set matches, with any of our secrets", async () => {
    const { rawBody, now } = await prepared();
    const personaRetired = 'wbhsec_personaretiredsecret0000';
    const withNewMatching = `${signed(rawBody, personaRetired, now)} ${signed(rawBody, PERSONA_WEBHOOK_SECRET, now)}`;
    const withOldMatching = `${signed(rawBody, 'wbhsec_ournewsecret0123456789', now)} ${signed(rawBody, personaRetired, now)}`;
    expect((await post(harness, rawBody, { 'Persona-Signature': withNewMatching })).status).toBe(200);
    expect((await post(harness, rawBody, { 'Persona-Signature': withOldMatching })).status).toBe(200);
  });

  it.each([
    [
      'a tampered body',
      (raw: string, now: number) => ({
        'Persona-Signature': signed(raw.replace('approved', 'declined'), PERSONA_WEBHOOK_SECRET, now),
      }),
    ],
    [
      'a wrong secret',
      (raw: string, now: number) => ({ 'Persona-Signature': signed(raw, 'wbhsec_notoursnotours0000000', now) }),
    ],
    [
      'a stale timestamp',
      (raw: string, now: number) => ({ 'Persona-Signature': signed(raw, PERSONA_WEBHOOK_SECRET, now - 301) }),
    ],
    [
      'a future timestamp',
      (raw: string, now: number) => ({ 'Persona-Signature': signed(raw, PERSONA_WEBHOOK_SECRET, now + 301) }),
    ],
    ['no signature header', () => ({})],
    [
      'the bare X-Persona-Signature scheme',
      (raw: string) => ({
        'X-Persona-Signature': createHmac('sha256', PERSONA_WEBHOOK_SECRET).update(raw).digest('hex'),
      }),
    ],
    [
      'a bare HMAC in Persona-Signature',
      (raw: string) => ({
        'Persona-Signature': createHmac('sha256', PERSONA_WEBHOOK_SECRET).update(raw).digest('hex'),
      }),
    ],
  ])('refuses %s with 401 and changes nothing', async (_name, headers) => {
    const { identityId, rawBody, now } = await prepared();
    const response = await post(harness, rawBody, headers(rawBody, now));
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('invalid_signature');
    expect(record(harness, identityId)?.['status']).toBe('created');
  });

  it('honours a configured tolerance', async () => {
    harness = await startHarness({ PERSONA_WEBHOOK_TOLERANCE_SECONDS: '60' });
    const { inquiryId } = await registered(harness);
    const rawBody = JSON.stringify(personaMoves(harness, inquiryId, 'approved'));
    const now = Math.floor(harness.clock.now / 1000);
    expect(
      (await post(harness, rawBody, { 'Persona-Signature': signed(rawBody, PERSONA_WEBHOOK_SECRET, now - 61) })).status,
    ).toBe(401);
    expect(
      (await post(harness, rawBody, { 'Persona-Signature': signed(rawBody, PERSONA_WEBHOOK_SECRET, now - 59) })).status,
    ).toBe(200);
  });
});

describe('POST /persona/callback: statuses', () => {
  it.each([
    ['inquiry.started', 'pending', null],
    ['inquiry.completed', 'completed', null],
    ['inquiry.failed', 'failed', null],
    ['inquiry.expired', 'expired', null],
    ['inquiry.marked-for-review', 'needs_review', null],
    ['inquiry.approved', 'approved', 'decided'],
    ['inquiry.declined', 'declined', 'decided'],
    ['inquiry.transitioned', 'some_future_status', null],
  ])('%s stores status %s', async (name, status, decided) => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const event = personaMoves(harness, inquiryId, status, name);

    await harness.postEvent(event).expect(200, { outcome: 'applied' });

    // Changes are dated by the inquiry's own `updated-at` in the payload, as reconciliation dates them.
    const changedAt = (event.data.attributes.payload as { data: { attributes: Record<string, string> } }).data
      .attributes['updated-at'];
    expect(record(harness, identityId)).toMatchObject({
      status,
      updated_at: changedAt,
      last_event_id: event.data.id,
      decided_at: decided ? changedAt : null,
    });
    expect(harness.kratos.identity(identityId)?.metadata_public?.['persona']).toEqual({
      status,
      verified_at: status === 'approved' ? changedAt : null,
      inquiry_status: status,
      step_up_verified_at: null,
      reverification_required: false,
    });
  });

  it('does not acknowledge an event for a record it cannot interpret, so Persona delivers it again', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const identity = harness.kratos.identity(identityId);
    harness.kratos.createIdentity({ id: identityId, traits: identity?.traits, metadata_admin: { persona: { x: 1 } } });
    const event = personaMoves(harness, inquiryId, 'approved');
    const writesBefore = harness.kratos.patchesOf(identityId).length;
    const refused = await harness.postEvent(event).expect(503);
    expect(refused.body).toEqual({ error: { code: 'record_unreadable', message: expect.any(String) } });
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(writesBefore);

    // An operator removes the broken record; the redelivery applies.
    harness.kratos.createIdentity({ id: identityId, traits: identity?.traits, metadata_admin: null });
    await harness.postEvent(event).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)).toMatchObject({ status: 'approved', decision: { outcome: 'approved' } });
  });

  it('notes inquiry.redacted on the record and keeps the status and the decision', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    await harness.postEvent(personaMoves(harness, inquiryId, 'approved')).expect(200);
    harness.clock.now += 1_000;
    const redacted = harness.persona.eventFor(inquiryId, 'inquiry.redacted');
    const response = await harness.postEvent(redacted).expect(200);
    expect(response.body).toEqual({ outcome: 'applied' });
    expect(record(harness, identityId)).toMatchObject({
      status: 'approved',
      decision: { outcome: 'approved' },
      redaction: { inquiries: [{ inquiry_id: inquiryId }] },
    });
  });

  it('parses the example payloads of the Persona docs', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const example = (
      await import('../fixtures/persona/persona-event-inquiry-declined.json', { with: { type: 'json' } })
    ).default;
    const event = structuredClone(example);
    event.data.id = 'evt_DocsExampleDeclined1';
    event.data.attributes['created-at'] = new Date(harness.clock.now + 5_000).toISOString();
    // The docs' example dates its inquiry years back: date it as this identity's inquiry.
    const attributes = event.data.attributes.payload.data.attributes;
    attributes['created-at'] = harness.persona.inquiry(inquiryId)?.createdAt as string;
    attributes['updated-at'] = new Date(harness.clock.now + 4_000).toISOString();
    event.data.attributes.payload.data.id = inquiryId;
    event.data.attributes.payload.data.attributes['reference-id'] = identityId;
    event.data.attributes.payload.data.relationships['inquiry-template'].data.id = TEMPLATE_ID;

    await harness.postEvent(event).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)?.['status']).toBe('declined');
    expect(harness.persona.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
  });

  it.each([
    ['snake_case', (key: string) => key.replace(/-/g, '_')],
    ['camelCase', (key: string) => key.replace(/-([a-z])/g, (_m, letter: string) => letter.toUpperCase())],
  ])('reads events with %s keys', async (_name, inflect) => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const event = personaMoves(harness, inquiryId, 'approved');
    const reinflect = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reinflect)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([key, child]) => [inflect(key), reinflect(child)]))
          : value;
    await harness.postEvent(reinflect(event)).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)?.['status']).toBe('approved');
  });
});

describe('POST /persona/callback: ordering, duplicates and supersession', () => {
  it('keeps approved when an older completed arrives after it', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const completed = personaMoves(harness, inquiryId, 'completed');
    const approved = personaMoves(harness, inquiryId, 'approved');

    await harness.postEvent(approved).expect(200, { outcome: 'applied' });
    await harness.postEvent(completed).expect(200, { outcome: 'stale' });

    expect(record(harness, identityId)).toMatchObject({ status: 'approved', last_event_id: approved.data.id });
  });

  it('applies the same event once', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const approved = personaMoves(harness, inquiryId, 'approved');
    const patchesBefore = harness.kratos.patchesOf(identityId).length;

    await harness.postEvent(approved).expect(200, { outcome: 'applied' });
    await harness.postEvent(approved).expect(200, { outcome: 'duplicate' });

    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patchesBefore + 1);
  });

  it("ignores an old inquiry's event once a newer inquiry is recorded, and lets the newer replace the older", async () => {
    harness = await startHarness();
    const { identityId, inquiryId: first } = await registered(harness);
    harness.clock.now += 60_000;
    const second = harness.persona.addInquiry({ referenceId: identityId, note: serviceNote('reverification') });

    const secondCreated = personaMoves(harness, second.id, 'created', 'inquiry.created');
    await harness.postEvent(secondCreated).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)).toMatchObject({
      inquiry_id: second.id,
      status: 'created',
      created_at: second.createdAt,
      history: [{ inquiry_id: first, status: 'created', decided_at: null }],
    });

    const lateFirstCompleted = personaMoves(harness, first, 'completed');
    await harness.postEvent(lateFirstCompleted).expect(200, { outcome: 'superseded' });
    expect(record(harness, identityId)).toMatchObject({ inquiry_id: second.id, status: 'created' });

    // A decline is different: whichever inquiry it belongs to, it stands (a review found fraud).
    const lateFirstDeclined = personaMoves(harness, first, 'declined');
    await harness.postEvent(lateFirstDeclined).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)).toMatchObject({
      inquiry_id: second.id,
      status: 'created',
      decision: { outcome: 'declined', inquiry_id: first },
    });
    expect(harness.kratos.identity(identityId)?.metadata_public?.['persona']).toMatchObject({
      status: 'declined',
      inquiry_status: 'created',
    });
  });

  it("ignores another template's inquiry without touching Kratos", async () => {
    harness = await startHarness();
    const { identityId } = await registered(harness);
    const foreign = harness.persona.addInquiry({ referenceId: identityId, templateId: FOREIGN_TEMPLATE_ID });
    const callsBefore = kratosCalls(harness);

    const response = await harness.postEvent(personaMoves(harness, foreign.id, 'declined')).expect(200);

    expect(response.body).toEqual({ outcome: 'ignored', reason: 'foreign_template' });
    expect(kratosCalls(harness)).toBe(callsBefore);
    expect(record(harness, identityId)?.['status']).toBe('created');
  });

  it.each([
    ['an email', 'jane@example.com'],
    ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['no reference', null],
  ])('ignores an inquiry whose reference id is %s', async (_name, referenceId) => {
    harness = await startHarness();
    const inquiry = harness.persona.addInquiry({ referenceId });
    const response = await harness.postEvent(personaMoves(harness, inquiry.id, 'approved')).expect(200);
    expect(response.body).toEqual({ outcome: 'ignored', reason: 'foreign_reference' });
    expect(kratosCalls(harness)).toBe(0);
  });

  it.each(['account.created', 'inquiry-session.started', 'report/watchlist.matched'])(
    'acknowledges the unknown event %s',
    async (name) => {
      harness = await startHarness();
      const event = {
        data: { type: 'event', id: 'evt_Unknown123', attributes: { name, payload: { data: { type: 'thing' } } } },
      };
      await harness.postEvent(event).expect(200, { outcome: 'ignored', reason: 'not_an_inquiry_event' });
    },
  );

  it('acknowledges an inquiry of an identity Kratos does not know', async () => {
    harness = await startHarness();
    const inquiry = harness.persona.addInquiry({ referenceId: '7b0a4f3e-9c1d-4e2a-8f5b-1c2d3e4f5a6b' });
    await harness
      .postEvent(personaMoves(harness, inquiry.id, 'approved'))
      .expect(200, { outcome: 'ignored', reason: 'unknown_identity' });
  });

  it('reads the inquiry from Persona only when the payload lacks what the decision needs', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const event = personaMoves(harness, inquiryId, 'approved') as {
      data: { attributes: { payload: { data: Record<string, unknown> } } };
    };
    const inquiryData = event.data.attributes.payload.data;
    delete inquiryData['relationships'];
    delete (inquiryData['attributes'] as Record<string, unknown>)['reference-id'];

    await harness.postEvent(event).expect(200, { outcome: 'applied' });

    const reads = harness.persona.requests.filter((r) => r.method === 'GET');
    expect(reads.map((r) => r.path)).toEqual([`/api/v1/inquiries/${inquiryId}`]);
    expect(record(harness, identityId)?.['status']).toBe('approved');
  });
});

describe("POST /persona/callback: an approval's time under review", () => {
  const REVIEW = { ATTRIBUTE_MATCH: 'name-first=name.first', ATTRIBUTE_MISMATCH_ACTION: 'review' };
  /** Inquiry reads other than the verified document's. */
  const inquiryReads = (h: Harness) =>
    h.persona.requests.filter((r) => r.method === 'GET' && r.query.get('include') !== 'verifications');

  /** Persona's event about `status`, its payload stripped of `decisioned-at` and sent a second later. */
  function withoutDecisionTime(h: Harness, inquiryId: string, status: string) {
    const event = personaMoves(h, inquiryId, status) as {
      data: { attributes: { payload: { data: { attributes: Record<string, unknown> } } } };
    };
    const attributes = event.data.attributes.payload.data.attributes;
    const decidedAt = attributes['decisioned-at'];
    delete attributes['decisioned-at'];
    attributes['updated-at'] = new Date(Date.parse(attributes['updated-at'] as string) + 1_000).toISOString();
    return { event, decidedAt, updatedAt: attributes['updated-at'] };
  }

  it('dates an approval whose payload lost decisioned-at by the time Persona reads for it', async () => {
    harness = await startHarness(REVIEW);
    const { identityId, inquiryId } = await registered(harness);
    const { event, decidedAt } = withoutDecisionTime(harness, inquiryId, 'approved');

    await harness.postEvent(event).expect(200, { outcome: 'applied' });

    expect(inquiryReads(harness).map((r) => r.path)).toEqual([`/api/v1/inquiries/${inquiryId}`]);
    expect(record(harness, identityId)).toMatchObject({ decided_at: decidedAt, decision: { decided_at: decidedAt } });
  });

  it("keeps the payload's own time when Persona has decided otherwise since", async () => {
    harness = await startHarness(REVIEW);
    const { identityId, inquiryId } = await registered(harness);
    const { event, updatedAt } = withoutDecisionTime(harness, inquiryId, 'approved');
    personaMoves(harness, inquiryId, 'declined');

    await harness.postEvent(event).expect(200, { outcome: 'applied' });

    expect(record(harness, identityId)).toMatchObject({ status: 'approved', decision: { decided_at: updatedAt } });
  });

  it('reads no time where the payload carries it, or where no review holds approvals', async () => {
    harness = await startHarness(REVIEW);
    const { inquiryId } = await registered(harness);
    await harness.postEvent(personaMoves(harness, inquiryId, 'approved')).expect(200, { outcome: 'applied' });
    expect(inquiryReads(harness)).toEqual([]);
    await harness.close();

    harness = await startHarness({ ATTRIBUTE_MATCH: 'name-first=name.first', ATTRIBUTE_MISMATCH_ACTION: 'flag' });
    const other = await registered(harness);
    const { event, updatedAt } = withoutDecisionTime(harness, other.inquiryId, 'approved');
    await harness.postEvent(event).expect(200, { outcome: 'applied' });
    expect(inquiryReads(harness)).toEqual([]);
    expect(record(harness, other.identityId)).toMatchObject({ decision: { decided_at: updatedAt } });
  });
});

describe('POST /persona/callback: failures', () => {
  it('answers 503 when Kratos fails the write, and applies the redelivery exactly once', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const approved = personaMoves(harness, inquiryId, 'approved');
    harness.kratos.inject({ method: 'PATCH', status: 500, times: 100 });

    const first = await harness.postEvent(approved);
    expect(first.status).toBe(503);
    expect(first.body.error.code).toBe('temporarily_unavailable');
    expect(record(harness, identityId)?.['status']).toBe('created');

    harness.kratos.clearFaults();
    await harness.postEvent(approved).expect(200, { outcome: 'applied' });
    await harness.postEvent(approved).expect(200, { outcome: 'duplicate' });
    expect(record(harness, identityId)).toMatchObject({ status: 'approved', last_event_id: approved.data.id });
  });

  it('absorbs a passing Kratos failure with a retry inside Persona’s five seconds', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registered(harness);
    const approved = personaMoves(harness, inquiryId, 'approved');
    const patchesBefore = harness.kratos.patchesOf(identityId).length;
    harness.kratos.inject({ method: 'PATCH', status: 503 });

    await harness.postEvent(approved).expect(200, { outcome: 'applied' });

    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patchesBefore + 2);
    expect(record(harness, identityId)?.['status']).toBe('approved');
  });

  it('never sends a write again whose outcome a gateway left unknown (504): 503, and the redelivery applies it', async () => {
    harness = await startHarness({ KRATOS_TIMEOUT_MS: '200' });
    const { identityId, inquiryId } = await registered(harness);
    const approved = personaMoves(harness, inquiryId, 'approved');
    const patchesBefore = harness.kratos.patchesOf(identityId).length;
    harness.kratos.inject({ method: 'PATCH', status: 504 });

    await harness.postEvent(approved).expect(503);
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patchesBefore + 1);

    await harness.postEvent(approved).expect(200, { outcome: 'applied' });
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patchesBefore + 2);
    expect(record(harness, identityId)?.['status']).toBe('approved');
  });

  it('answers 503 when Kratos is unreachable', async () => {
    harness = await startHarness();
    const { inquiryId } = await registered(harness);
    const approved = personaMoves(harness, inquiryId, 'approved');
    await harness.kratos.close();
    const response = await harness.postEvent(approved);
    expect(response.status).toBe(503);
    expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);
  });

  it('refuses signed bodies that are not JSON or not an event, naming the field', async () => {
    harness = await startHarness();
    const notJson = await request(harness.app)
      .post('/persona/callback')
      .set('Content-Type', 'application/json')
      .set(
        'Persona-Signature',
        `t=${Math.floor(harness.clock.now / 1000)},v1=${createHmac('sha256', PERSONA_WEBHOOK_SECRET)
          .update(`${Math.floor(harness.clock.now / 1000)}.{nope`)
          .digest('hex')}`,
      )
      .send('{nope');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_json');

    const notEvent = await harness.postEvent({ data: { type: 'inquiry', id: 'inq_X' } });
    expect(notEvent.status).toBe(400);
    expect(notEvent.body.error.message).toMatch(/^data\.type: /);
  });
});

describe('POST /persona/callback: inquiries whose reference id only their account carries', () => {
  // Persona's webhook examples for 2025-12-08: "reference-id": null, the account related.
  const accountCalls = (h: Harness) => h.persona.requests.filter((r) => r.path.startsWith('/api/v1/accounts/'));

  it('applies the event to the identity the account names, asking Persona once per account', async () => {
    harness = await startHarness({}, { referenceIds: 'on-account-only' });
    const { identityId, inquiryId } = await registered(harness);
    const completed = personaMoves(harness, inquiryId, 'completed');
    expect(completed.data.attributes.payload).toMatchObject({
      data: { attributes: { 'reference-id': null }, relationships: { account: { data: { type: 'account' } } } },
    });

    await harness.postEvent(completed).expect(200, { outcome: 'applied' });
    await harness.postEvent(personaMoves(harness, inquiryId, 'approved')).expect(200, { outcome: 'applied' });

    expect(record(harness, identityId)).toMatchObject({ inquiry_id: inquiryId, status: 'approved' });
    expect(accountCalls(harness)).toHaveLength(1);
  });

  it('records the inquiry from the create response, and takes its inquiry.created, which names neither reference id nor account', async () => {
    harness = await startHarness({}, { referenceIds: 'on-account-only' });
    const { identityId, inquiryId } = await registered(harness);
    expect(record(harness, identityId)).toMatchObject({ inquiry_id: inquiryId, status: 'created' });
    const created = harness.persona.eventFor(inquiryId, 'inquiry.created');
    expect(created.data.attributes.payload).toMatchObject({
      data: { attributes: { 'reference-id': null }, relationships: { account: { data: null } } },
    });
    const patches = harness.kratos.patchesOf(identityId).length;

    await harness.postEvent(created).expect(200);

    expect(record(harness, identityId)).toMatchObject({ inquiry_id: inquiryId, status: 'created' });
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patches);
    // Its later events name the account, and apply.
    await harness.postEvent(personaMoves(harness, inquiryId, 'approved')).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)).toMatchObject({ inquiry_id: inquiryId, status: 'approved' });
  });

  it('reads the account from the API when the payload names neither reference id nor account', async () => {
    harness = await startHarness({}, { referenceIds: 'on-account-only' });
    const { identityId, inquiryId } = await registered(harness);
    const approved = personaMoves(harness, inquiryId, 'approved');
    // An attribute blocklist removed the reference id, and the payload names no account.
    const { data } = approved.data.attributes.payload as {
      data: { attributes: Record<string, unknown>; relationships: Record<string, unknown> };
    };
    delete data.attributes['reference-id'];
    data.relationships['account'] = { data: null };

    await harness.postEvent(approved).expect(200, { outcome: 'applied' });

    expect(record(harness, identityId)).toMatchObject({ inquiry_id: inquiryId, status: 'approved' });
    const reads = harness.persona.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/v1/'));
    expect(reads.map((r) => r.path)).toEqual([
      `/api/v1/inquiries/${inquiryId}`,
      `/api/v1/accounts/${harness.persona.inquiry(inquiryId)?.accountId}`,
    ]);
  });

  it('ignores an inquiry whose account carries no identity id', async () => {
    harness = await startHarness({}, { referenceIds: 'on-account-only' });
    const inquiry = harness.persona.addInquiry({ referenceId: 'crm-customer-42', status: 'approved' });
    const response = await harness.postEvent(harness.persona.eventFor(inquiry.id, 'inquiry.approved')).expect(200);
    expect(response.body).toEqual({ outcome: 'ignored', reason: 'foreign_reference' });
    expect(kratosCalls(harness)).toBe(0);
  });

  it('answers 503 while the account cannot be read, and applies the redelivery', async () => {
    harness = await startHarness({}, { referenceIds: 'on-account-only' });
    const { identityId, inquiryId } = await registered(harness);
    const approved = personaMoves(harness, inquiryId, 'approved');
    harness.persona.inject({ method: 'GET', path: '/api/v1/accounts/', status: 503, times: 10 });
    await harness.postEvent(approved).expect(503);
    expect(record(harness, identityId)?.['status']).toBe('created');

    harness.persona.clearFaults();
    await harness.postEvent(approved).expect(200, { outcome: 'applied' });
    expect(record(harness, identityId)?.['status']).toBe('approved');
  });
});
