import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaStandIn, type PersonaStandIn } from '../../sandbox/personaStandIn.js';

let persona: PersonaStandIn;
afterEach(() => persona.close());

const KEY = 'persona_sandbox_standin';
const create = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${persona.apiBase}/inquiries`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const valid = (reference = '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34') => ({
  data: { attributes: { 'inquiry-template-id': 'itmpl_A' } },
  meta: { 'auto-create-account-reference-id': reference },
});

describe('Persona stand-in', () => {
  it('creates an inquiry with kebab keys, a Request-Id and rate-limit headers', async () => {
    persona = await startPersonaStandIn({ apiKey: KEY, templateIds: ['itmpl_A'] });
    const response = await create(valid());
    expect(response.status).toBe(201);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(response.headers.get('ratelimit-reset')).toBe('60');
    const body = (await response.json()) as { data: { id: string; attributes: Record<string, unknown> } };
    expect(body.data.id).toMatch(/^inq_/);
    expect(body.data.attributes).toMatchObject({
      status: 'created',
      'reference-id': '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34',
    });
  });

  it.each([
    ['a top-level email', { data: { attributes: { 'inquiry-template-id': 'itmpl_A', 'email-address': 'a@b.c' } } }],
    [
      'the deprecated reference-id attribute',
      { data: { attributes: { 'inquiry-template-id': 'itmpl_A', 'reference-id': 'x' } } },
    ],
    [
      'an unknown meta key',
      { data: { attributes: { 'inquiry-template-id': 'itmpl_A' } }, meta: { 'reference-id': 'x' } },
    ],
    ['an unknown top-level key', { ...valid(), included: [] }],
    ['no attributes', { data: {} }],
  ])('refuses %s with 400', async (_name, body) => {
    persona = await startPersonaStandIn({ apiKey: KEY, templateIds: ['itmpl_A'] });
    const response = await create(body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ title: 'Bad Request' }] });
    expect(persona.inquiries()).toHaveLength(0);
  });

  it('refuses an unknown template and a wrong key', async () => {
    persona = await startPersonaStandIn({ apiKey: KEY, templateIds: ['itmpl_A'] });
    expect((await create({ data: { attributes: { 'inquiry-template-id': 'itmpl_B' } } })).status).toBe(404);
    expect((await create(valid(), { Authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('replays an idempotent create and refuses the key with other parameters', async () => {
    persona = await startPersonaStandIn({ apiKey: KEY, templateIds: ['itmpl_A'] });
    const first = await (await create(valid(), { 'Idempotency-Key': 'k1' })).json();
    const again = await create(valid(), { 'Idempotency-Key': 'k1' });
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(first);
    expect(persona.inquiries()).toHaveLength(1);
    const other = await create(valid('0b9d7a4c-1e2f-4a3b-8c5d-6e7f8a9b0c1d'), { 'Idempotency-Key': 'k1' });
    expect(other.status).toBe(409);
  });

  it('decides rate limits before idempotency', async () => {
    persona = await startPersonaStandIn({ apiKey: KEY, templateIds: ['itmpl_A'] });
    persona.inject({ path: '/api/v1/inquiries', status: 429, headers: { 'RateLimit-Reset': '7' } });
    const limited = await create(valid(), { 'Idempotency-Key': 'k2' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-reset')).toBe('7');
    expect((await create(valid(), { 'Idempotency-Key': 'k2' })).status).toBe(201);
  });

  it("lists a template's inquiries newest first, page by page, and refuses unknown filters", async () => {
    persona = await startPersonaStandIn({ apiKey: KEY, templateIds: ['itmpl_A', 'itmpl_B'] });
    const created = Array.from({ length: 5 }, (_, index) =>
      persona.addInquiry({
        referenceId: null,
        templateId: 'itmpl_A',
        createdAt: new Date(Date.UTC(2026, 0, index + 1)).toISOString(),
      }),
    );
    persona.addInquiry({ referenceId: null, templateId: 'itmpl_B' });
    const list = (query: string) =>
      fetch(`${persona.apiBase}/inquiries?${query}`, { headers: { Authorization: `Bearer ${KEY}` } });

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
    ).json()) as {
      data: unknown[];
    };
    expect(recent.data).toHaveLength(2);
    expect((await list('filter[reference]=x')).status).toBe(400);
    expect((await list('page[size]=500')).status).toBe(400);
  });
});
