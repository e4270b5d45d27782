import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaStandIn, type PersonaStandIn, type PersonaStandInOptions } from '../../sandbox/personaStandIn.js';
import { PERSONA_REDELIVERY_SCHEDULE_S, redeliveryDelaysMs } from '../../sandbox/personaWebhooks.js';
import { collectViolations } from '../support/conformance/checkExchange.js';

let persona: PersonaStandIn;
let receiver: Server | undefined;
afterEach(async () => {
  await persona.close();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

const KEY = 'persona_sandbox_standin';
const REFERENCE = '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34';

/** A stand-in whose exchanges are checked here, so requests malformed on purpose can be asserted. */
async function standIn(options: Partial<PersonaStandInOptions> = {}) {
  const conformance = collectViolations();
  persona = await startPersonaStandIn({
    apiKey: KEY,
    templateIds: ['itmpl_A'],
    inspect: conformance.inspect,
    ...options,
  });
  return conformance.violations;
}

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${persona.apiBase}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${KEY}`,
      ...(body !== undefined && { 'Content-Type': 'application/json' }),
      ...headers,
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
const create = (body: unknown, headers: Record<string, string> = {}) => call('POST', '/inquiries', body, headers);
const valid = (reference = REFERENCE) => ({
  data: { attributes: { 'inquiry-template-id': 'itmpl_A' } },
  meta: { 'auto-create-account-reference-id': reference },
});
type Resource = { id: string; attributes: Record<string, unknown>; relationships: Record<string, { data: unknown }> };
const json = async (response: Response) =>
  (await response.json()) as { data: Resource; meta?: Record<string, unknown> };

describe('Persona stand-in: the API', () => {
  it('creates an inquiry with every attribute the document requires and Persona’s headers', async () => {
    const violations = await standIn();
    const response = await create({ ...valid(), meta: { ...valid().meta, 'auto-create-one-time-link': true } });
    expect(response.status).toBe(201);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(response.headers.get('persona-environment-id')).toBe(persona.environmentId);
    expect(response.headers.get('ratelimit-reset')).toBe('60');
    const body = await json(response);
    expect(body.data.id).toMatch(/^inq_/);
    expect(body.data.attributes).toMatchObject({
      status: 'created',
      'reference-id': REFERENCE,
      'completed-at': null,
      'decisioned-at': null,
    });
    expect(body.meta).toMatchObject({
      'session-token': null,
      'one-time-link': expect.stringContaining('/verify?code='),
      'one-time-link-short': expect.any(String),
    });
    expect(violations).toEqual([]);
  });

  it('keeps the time each status was reached, and null for the others', async () => {
    const violations = await standIn();
    const { data } = await json(await create(valid()));
    persona.simulate(data.id, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    const { attributes } = (await json(await call('GET', `/inquiries/${data.id}`))).data;
    expect(attributes).toMatchObject({
      status: 'approved',
      'started-at': expect.any(String),
      'completed-at': expect.any(String),
      'decisioned-at': attributes['updated-at'],
      'failed-at': null,
      'expired-at': null,
      'marked-for-review-at': null,
    });
    expect(violations).toEqual([]);
  });

  it.each([
    [
      'a top-level email',
      { data: { attributes: { 'inquiry-template-id': 'itmpl_A', 'email-address': 'a@b.c' } } },
      'body /data/attributes/email-address',
    ],
    [
      'an unknown meta key',
      { data: { attributes: { 'inquiry-template-id': 'itmpl_A' } }, meta: { 'reference-id': 'x' } },
      'body /meta/reference-id',
    ],
    ['an unknown top-level key', { ...valid(), included: [] }, 'body /included'],
    ['no attributes', { data: {} }, 'body /data/attributes'],
  ])('refuses %s with 400, which the conformance check names too', async (_name, body, field) => {
    const violations = await standIn();
    const response = await create(body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ title: 'Bad Request' }] });
    expect(persona.inquiries()).toHaveLength(0);
    expect(violations).toEqual([
      expect.objectContaining({ operation: 'create-an-inquiry (POST /inquiries)', side: 'request', field }),
    ]);
  });

  it('refuses the deprecated reference-id attribute, which the document still allows', async () => {
    const violations = await standIn();
    const response = await create({ data: { attributes: { 'inquiry-template-id': 'itmpl_A', 'reference-id': 'x' } } });
    expect(response.status).toBe(400);
    expect(violations).toEqual([]);
  });

  it('refuses an unknown template and a wrong key', async () => {
    const violations = await standIn();
    expect((await create({ data: { attributes: { 'inquiry-template-id': 'itmpl_B' } } })).status).toBe(404);
    const unauthorized = await create(valid(), { Authorization: 'Bearer wrong' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('persona-environment-id')).toBeNull();
    expect(violations).toEqual([]);
  });

  it('resumes a pending inquiry without a body', async () => {
    const violations = await standIn();
    const inquiry = persona.addInquiry({ referenceId: REFERENCE, status: 'expired' });
    const response = await call('POST', `/inquiries/${inquiry.id}/resume`, undefined, { 'Idempotency-Key': 'r1' });
    expect(response.status).toBe(200);
    expect((await json(response)).meta).toEqual({ 'session-token': expect.stringMatching(/^pst_/) });
    expect(persona.inquiry(inquiry.id)?.status).toBe('pending');
    expect(violations).toEqual([]);
  });

  it('generates a one-time link with its short form', async () => {
    const violations = await standIn();
    const inquiry = persona.addInquiry({ referenceId: REFERENCE, status: 'pending' });
    const response = await call('POST', `/inquiries/${inquiry.id}/generate-one-time-link`, {
      meta: { 'expires-in-seconds': 900 },
    });
    expect((await json(response)).meta).toEqual({
      'one-time-link': expect.stringContaining('/verify?code=otl_'),
      'one-time-link-short': expect.stringContaining('/v/otl_'),
    });
    expect(violations).toEqual([]);
  });

  it("lists a template's inquiries newest first, page by page, and refuses unknown filters", async () => {
    const violations = await standIn({ templateIds: ['itmpl_A', 'itmpl_B'] });
    const created = Array.from({ length: 5 }, (_, index) =>
      persona.addInquiry({
        referenceId: null,
        templateId: 'itmpl_A',
        createdAt: new Date(Date.UTC(2026, 0, index + 1)).toISOString(),
      }),
    );
    persona.addInquiry({ referenceId: null, templateId: 'itmpl_B' });
    const list = (query: string) => call('GET', `/inquiries?${query}`);

    const first = (await (await list('filter[inquiry-template-id]=itmpl_A&page[size]=2')).json()) as {
      data: { id: string }[];
      links: { next: string | null };
    };
    expect(first.data.map((inquiry) => inquiry.id)).toEqual([created[4]?.id, created[3]?.id]);
    const next = new URL(first.links.next ?? '', persona.url);
    const second = (await (await list(next.search.slice(1))).json()) as { data: { id: string }[] };
    expect(second.data.map((inquiry) => inquiry.id)).toEqual([created[2]?.id, created[1]?.id]);

    const recent = (await (
      await list('filter[inquiry-template-id]=itmpl_A&filter[created-at-start]=2026-01-04T00:00:00Z')
    ).json()) as { data: unknown[] };
    expect(recent.data).toHaveLength(2);
    expect(violations).toEqual([]);

    expect((await list('filter[reference]=x')).status).toBe(400);
    expect((await list('page[size]=500')).status).toBe(400);
    expect(violations.map((violation) => violation.field)).toEqual(['query filter /reference']);
  });
});

describe('Persona stand-in: idempotency, as https://docs.withpersona.com/reference/idempotence says', () => {
  it('replays the first answer to a key, and refuses the key with other parameters with 400', async () => {
    const violations = await standIn();
    const first = await (await create(valid(), { 'Idempotency-Key': 'k1' })).json();
    const again = await create(valid(), { 'Idempotency-Key': 'k1' });
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(first);
    expect(persona.inquiries()).toHaveLength(1);

    const other = await create(valid('0b9d7a4c-1e2f-4a3b-8c5d-6e7f8a9b0c1d'), { 'Idempotency-Key': 'k1' });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({ errors: [{ title: 'Idempotency error' }] });
    expect(persona.inquiries()).toHaveLength(1);
    expect(violations).toEqual([]);
  });

  it('stores a 5xx under the key and replays it, however often the request is repeated', async () => {
    const violations = await standIn();
    persona.inject({ path: '/api/v1/inquiries', method: 'POST', status: 500 });
    expect((await create(valid(), { 'Idempotency-Key': 'k5' })).status).toBe(500);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await create(valid(), { 'Idempotency-Key': 'k5' })).status).toBe(500);
    }
    expect(persona.inquiries()).toHaveLength(0);
    expect((await create(valid(), { 'Idempotency-Key': 'another' })).status).toBe(201);
    expect(violations).toEqual([]);
  });

  it('decides 401 and rate limits before idempotency, so they are not stored', async () => {
    const violations = await standIn();
    persona.inject({ path: '/api/v1/inquiries', status: 429, headers: { 'RateLimit-Reset': '7' } });
    const limited = await create(valid(), { 'Idempotency-Key': 'k2' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-reset')).toBe('7');
    expect((await create(valid(), { 'Idempotency-Key': 'k2', Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await create(valid(), { 'Idempotency-Key': 'k2' })).status).toBe(201);
    expect(violations).toEqual([]);
  });

  it('forgets a key 24 hours after its first use', async () => {
    const clock = { now: Date.now() };
    await standIn({ now: () => clock.now });
    persona.inject({ path: '/api/v1/inquiries', method: 'POST', status: 503 });
    expect((await create(valid(), { 'Idempotency-Key': 'k24' })).status).toBe(503);
    clock.now += 24 * 3_600_000 - 1;
    expect((await create(valid(), { 'Idempotency-Key': 'k24' })).status).toBe(503);
    clock.now += 1;
    expect((await create(valid(), { 'Idempotency-Key': 'k24' })).status).toBe(201);
  });
});

describe('Persona stand-in: accounts carry the reference id', () => {
  it('can leave the reference id to the account, as Persona’s webhook examples show', async () => {
    const violations = await standIn({ referenceIds: 'on-account-only' });
    const { data } = await json(await create(valid()));
    expect(data.attributes['reference-id']).toBeNull();
    const account = data.relationships['account']?.data as { type: string; id: string };
    expect(account).toEqual({ type: 'account', id: expect.stringMatching(/^act_/) });

    const read = await json(await call('GET', `/accounts/${account.id}`));
    expect(read.data.attributes['reference-id']).toBe(REFERENCE);
    const listed = (await (await call('GET', `/accounts?filter[reference-id]=${REFERENCE}`)).json()) as {
      data: { id: string }[];
    };
    expect(listed.data.map((found) => found.id)).toEqual([account.id]);
    expect((await call('GET', '/accounts/act_unknown')).status).toBe(404);

    // "Filter inquiries by reference ID" filters on the inquiry's own, null here; the account finds it.
    const inquiriesWhere = async (filter: string) =>
      ((await (await call('GET', `/inquiries?${filter}`)).json()) as { data: { id: string }[] }).data.map(
        (found) => found.id,
      );
    expect(await inquiriesWhere(`filter[reference-id]=${REFERENCE}`)).toEqual([]);
    expect(await inquiriesWhere(`filter[account-id]=${account.id}`)).toEqual([data.id]);
    expect(violations).toEqual([]);
  });

  it('finds inquiries by the reference id they carry, where they echo it', async () => {
    await standIn();
    const { data } = await json(await create(valid()));
    const listed = (await (await call('GET', `/inquiries?filter[reference-id]=${REFERENCE}`)).json()) as {
      data: { id: string }[];
    };
    expect(listed.data.map((found) => found.id)).toEqual([data.id]);
  });

  it('puts every inquiry of one reference id under one account', async () => {
    await standIn();
    const first = await json(await create(valid()));
    const second = await json(await create(valid()));
    expect(second.data.relationships['account']?.data).toEqual(first.data.relationships['account']?.data);
  });
});

describe('Persona stand-in: webhooks', () => {
  /** A webhook receiver on loopback answering `status`, recording when and what it received. */
  async function webhookReceiver(status: number) {
    const received: { at: number; headers: IncomingHttpHeaders }[] = [];
    receiver = createServer((request, response) => {
      received.push({ at: performance.now(), headers: request.headers });
      request.resume();
      request.on('end', () => response.writeHead(status).end());
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, received };
  }

  it("redelivers on Persona's schedule: 3, 64, 729, 4096, 15625, 46656 and 117649 s", async () => {
    expect(PERSONA_REDELIVERY_SCHEDULE_S).toEqual([3, 64, 729, 4_096, 15_625, 46_656, 117_649]);
    expect(redeliveryDelaysMs()).toEqual([3_000, 64_000, 729_000, 4_096_000, 15_625_000, 46_656_000, 117_649_000]);

    const target = await webhookReceiver(500);
    const violations = await standIn({
      webhook: { url: target.url, secrets: ['wbhsec_test_0123456789'] },
      redelivery: { scale: 1 / 1_000, count: 3 },
    });
    const inquiry = persona.addInquiry({ referenceId: REFERENCE });
    persona.simulate(inquiry.id, ['start_inquiry']);
    for (let wait = 0; wait < 100 && persona.deliveries[0]?.state !== 'failed'; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(persona.deliveries[0]).toMatchObject({ attempts: 4, state: 'failed', lastStatus: 500 });
    const gaps = target.received.slice(1).map((delivery, index) => delivery.at - (target.received[index]?.at ?? 0));
    [3, 64, 729].forEach((ms, index) => expect(gaps[index]).toBeGreaterThanOrEqual(ms - 1));
    expect(violations).toEqual([]);
  });

  it('sends inquiry.created naming neither reference id nor account where the account carries the reference, as Persona’s example of it does', async () => {
    const target = await webhookReceiver(200);
    const violations = await standIn({
      referenceIds: 'on-account-only',
      webhook: { url: target.url, secrets: ['wbhsec_test_0123456789'] },
    });
    const { data } = await json(await create(valid()));
    await persona.settled();
    expect(persona.deliveries.map((delivery) => delivery.name)).toEqual(['inquiry.created']);
    type Payload = { data: Resource };
    const payloadOf = (name: string) => persona.eventFor(data.id, name).data.attributes.payload as Payload;
    const created = payloadOf('inquiry.created').data;
    expect(created.attributes['reference-id']).toBeNull();
    expect(created.relationships['account']).toEqual({ data: null });
    // Later events, and the API, name the account that carries the reference id.
    expect(payloadOf('inquiry.started').data.relationships['account']).toEqual(data.relationships['account']);
    const read = await json(await call('GET', `/inquiries/${data.id}`));
    expect(read.data.relationships['account']).toEqual(data.relationships['account']);
    expect(violations).toEqual([]);

    // Where inquiries echo their reference id, inquiry.created names the account too.
    await persona.close();
    await standIn();
    const echoed = await json(await create(valid()));
    const echoedCreated = persona.eventFor(echoed.data.id, 'inquiry.created').data.attributes.payload as Payload;
    expect(echoedCreated.data.relationships['account']).toEqual(echoed.data.relationships['account']);
  });

  it('sends Persona-Webhook-First-Attempted-At as Unix seconds', async () => {
    const target = await webhookReceiver(200);
    const violations = await standIn({ webhook: { url: target.url, secrets: ['wbhsec_test_0123456789'] } });
    const inquiry = persona.addInquiry({ referenceId: REFERENCE });
    const before = Math.floor(Date.now() / 1000);
    persona.simulate(inquiry.id, ['start_inquiry']);
    await persona.settled();
    const header = target.received[0]?.headers['persona-webhook-first-attempted-at'];
    expect(header).toMatch(/^\d+$/);
    expect(Number(header)).toBeGreaterThanOrEqual(before);
    expect(violations).toEqual([]);
  });

  it('serves the passed government-id verification of a submitted document in `included` when asked', async () => {
    persona = await startPersonaStandIn({ apiKey: KEY, templateIds: ['itmpl_A'] });
    const body = valid();
    Object.assign(body.data.attributes, {
      fields: { 'name-first': 'Zéphyrine', 'name-last': 'Okonkwo', birthdate: '1987-03-14' },
    });
    const { data } = (await (await create(body)).json()) as { data: { id: string } };
    const get = async (query = '') => {
      const response = await fetch(`${persona.apiBase}/inquiries/${data.id}${query}`, {
        headers: { Authorization: `Bearer ${KEY}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };

    // Nothing submitted yet: no verification.
    expect((await get('?include=verifications')).body['included']).toEqual([]);
    persona.simulate(data.id, ['start_inquiry', 'complete_inquiry']);
    const plain = await get();
    expect(plain.body['included']).toEqual([]);
    const verificationId = plain.body['data'].relationships.verifications.data[0].id as string;
    expect(verificationId).toMatch(/^ver_/);

    // By default the document says what the user typed in.
    const withVerifications = await get('?include=verifications');
    expect(withVerifications.body['included']).toEqual([
      expect.objectContaining({
        type: 'verification/government-id',
        id: verificationId,
        attributes: expect.objectContaining({
          status: 'passed',
          'name-first': 'Zéphyrine',
          'name-last': 'Okonkwo',
          birthdate: '1987-03-14',
        }),
        relationships: expect.objectContaining({ inquiry: { data: { type: 'inquiry', id: data.id } } }),
      }),
    ]);

    // A test decides what the document says.
    persona.setDocument(data.id, { 'name-first': 'MARGUERITE', 'name-last': null, birthdate: '1990-11-02' });
    expect((await get('?include=verifications')).body['included'][0].attributes).toMatchObject({
      'name-first': 'MARGUERITE',
      'name-last': null,
      birthdate: '1990-11-02',
    });
    expect((await get('?include=reports')).status).toBe(400);
  });
});

const FIELDS = { 'name-first': 'Zéphyrine', 'name-last': 'Okonkwo', birthdate: '1987-03-14' };

/** The webhook bodies the stand-in delivered, in order. */
async function bodyReceiver() {
  const bodies: { data: { attributes: { name: string; payload: { data: Record<string, any> } } } }[] = [];
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, bodies };
}

/** A stand-in delivering its webhooks to a receiver that keeps their bodies. */
async function standInWithHook(options: Partial<PersonaStandInOptions> = {}) {
  const hook = await bodyReceiver();
  const violations = await standIn({
    webhook: { url: hook.url, secrets: ['wbhsec_test_0123456789'] },
    ...options,
  });
  return { violations, hook };
}

const read = async (method: string, path: string) => {
  const response = await call(method, path);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
};

/** An approved inquiry whose document was read, with what the person typed. */
function approvedInquiry(referenceId = REFERENCE) {
  const inquiry = persona.addInquiry({ referenceId, fields: FIELDS, note: 'Opened by ory-persona-idv' });
  persona.simulate(inquiry.id, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
  return persona.inquiry(inquiry.id)!;
}

describe('Persona stand-in: redaction, as the 2025-12-08 document describes it', () => {
  it('redacts an inquiry: fields, note and document gone; id, status, times and reference id kept', async () => {
    const { violations, hook } = await standInWithHook();
    const before = approvedInquiry();
    expect(before.verification?.person['name-last']).toBe('Okonkwo');

    const redacted = await read('DELETE', `/inquiries/${before.id}`);
    expect(redacted.status).toBe(200);
    const { attributes } = redacted.body['data'];
    expect(attributes).toMatchObject({
      status: 'approved',
      'reference-id': REFERENCE,
      note: null,
      'created-at': before.createdAt,
      'decisioned-at': before.times['decisioned-at'],
      'redacted-at': expect.any(String),
    });
    expect(Object.values(attributes.fields)).toEqual([
      { type: 'string', value: null },
      { type: 'string', value: null },
      { type: 'string', value: null },
    ]);
    const document = await read('GET', `/inquiries/${before.id}?include=verifications`);
    expect(document.body['included'][0].attributes).toMatchObject({
      'name-first': null,
      'name-last': null,
      birthdate: null,
      'redacted-at': attributes['redacted-at'],
    });
    await persona.settled();
    expect(hook.bodies.at(-1)?.data.attributes.name).toBe('inquiry.redacted');
    expect(hook.bodies.at(-1)?.data.attributes.payload.data['attributes']['redacted-at']).toBe(
      attributes['redacted-at'],
    );

    // Asked again: the same answer, and no second event.
    const events = hook.bodies.length;
    expect((await read('DELETE', `/inquiries/${before.id}`)).body['data'].attributes['redacted-at']).toBe(
      attributes['redacted-at'],
    );
    await persona.settled();
    expect(hook.bodies).toHaveLength(events);
    expect((await read('DELETE', '/inquiries/inq_unknown')).status).toBe(404);
    expect(violations).toEqual([]);
  });

  it('redacts an account and every inquiry under it, whose reference ids go; the account keeps its own', async () => {
    const { violations, hook } = await standInWithHook();
    const first = approvedInquiry();
    const second = approvedInquiry();
    const other = approvedInquiry('0b7e6a52-64c4-4f0e-9d84-3c5a1f2e7d90');
    expect(second.accountId).toBe(first.accountId);

    const redacted = await read('DELETE', `/accounts/${first.accountId}`);
    expect(redacted.status).toBe(200);
    expect(redacted.body['data'].attributes).toMatchObject({
      'reference-id': REFERENCE,
      'redacted-at': expect.any(String),
    });
    for (const id of [first.id, second.id]) {
      expect(persona.inquiry(id)).toMatchObject({ referenceId: null, note: null, redactedAt: expect.any(String) });
      expect(Object.values(persona.inquiry(id)!.fields)).toEqual([null, null, null]);
    }
    expect(persona.inquiry(other.id)).toMatchObject({ referenceId: expect.any(String), redactedAt: null });
    await persona.settled();
    expect(hook.bodies.slice(-3).map((body) => body.data.attributes.name)).toEqual([
      'inquiry.redacted',
      'inquiry.redacted',
      'account.redacted',
    ]);
    expect((await read('GET', `/accounts?filter[reference-id]=${REFERENCE}`)).body['data']).toEqual([
      expect.objectContaining({ id: first.accountId }),
    ]);
    // Still the account of that reference id: a later inquiry joins it, unredacted.
    const later = approvedInquiry();
    expect(later).toMatchObject({ accountId: first.accountId, redactedAt: null });
    expect((await read('DELETE', '/accounts/act_unknown')).status).toBe(404);
    expect(violations).toEqual([]);
  });

  it('enforces a rate limit when asked: 429 with RateLimit-Reset once the window is spent', async () => {
    const { violations } = await standInWithHook({ rateLimit: { limit: 2, windowMs: 60_000 } });
    const answers = [await read('GET', '/inquiries'), await read('GET', '/inquiries'), await read('GET', '/inquiries')];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(answers.map((answer) => answer.headers.get('ratelimit-remaining'))).toEqual(['1', '0', '0']);
    expect(Number(answers[2]?.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });
});
