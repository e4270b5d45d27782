import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaStandIn, type PersonaStandIn, type PersonaStandInOptions } from '../../sandbox/personaStandIn.js';
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
const FIELDS = { 'name-first': 'Zéphyrine', 'name-last': 'Okonkwo', birthdate: '1987-03-14' };

/** The webhook bodies the stand-in delivered, in order. */
async function webhookReceiver() {
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

async function standIn(options: Partial<PersonaStandInOptions> = {}) {
  const conformance = collectViolations();
  const hook = await webhookReceiver();
  persona = await startPersonaStandIn({
    apiKey: KEY,
    templateIds: ['itmpl_A'],
    inspect: conformance.inspect,
    webhook: { url: hook.url, secrets: ['wbhsec_test_0123456789'] },
    ...options,
  });
  return { violations: conformance.violations, hook };
}

const call = async (method: string, path: string) => {
  const response = await fetch(`${persona.apiBase}${path}`, { method, headers: { Authorization: `Bearer ${KEY}` } });
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
    const { violations, hook } = await standIn();
    const before = approvedInquiry();
    expect(before.verification?.person['name-last']).toBe('Okonkwo');

    const answer = await call('DELETE', `/inquiries/${before.id}`);
    expect(answer.status).toBe(200);
    const { attributes } = answer.body['data'];
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
    const document = await call('GET', `/inquiries/${before.id}?include=verifications`);
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
    expect((await call('DELETE', `/inquiries/${before.id}`)).body['data'].attributes['redacted-at']).toBe(
      attributes['redacted-at'],
    );
    await persona.settled();
    expect(hook.bodies).toHaveLength(events);
    expect((await call('DELETE', '/inquiries/inq_unknown')).status).toBe(404);
    expect(violations).toEqual([]);
  });

  it('redacts an account and every inquiry under it, whose reference ids go; the account keeps its own', async () => {
    const { violations, hook } = await standIn();
    const first = approvedInquiry();
    const second = approvedInquiry();
    const other = approvedInquiry('0b7e6a52-64c4-4f0e-9d84-3c5a1f2e7d90');
    expect(second.accountId).toBe(first.accountId);

    const answer = await call('DELETE', `/accounts/${first.accountId}`);
    expect(answer.status).toBe(200);
    expect(answer.body['data'].attributes).toMatchObject({
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
    expect((await call('GET', `/accounts?filter[reference-id]=${REFERENCE}`)).body['data']).toEqual([
      expect.objectContaining({ id: first.accountId }),
    ]);
    // Still the account of that reference id: a later inquiry joins it, unredacted.
    const later = approvedInquiry();
    expect(later).toMatchObject({ accountId: first.accountId, redactedAt: null });
    expect((await call('DELETE', '/accounts/act_unknown')).status).toBe(404);
    expect(violations).toEqual([]);
  });

  it('enforces a rate limit when asked: 429 with RateLimit-Reset once the window is spent', async () => {
    const { violations } = await standIn({ rateLimit: { limit: 2, windowMs: 60_000 } });
    const answers = [await call('GET', '/inquiries'), await call('GET', '/inquiries'), await call('GET', '/inquiries')];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(answers.map((answer) => answer.headers.get('ratelimit-remaining'))).toEqual(['1', '0', '0']);
    expect(Number(answers[2]?.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(violations).toEqual([]);
  });
});
