import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { NIL_UUID } from '../../src/identityId.js';
import { ORY_WEBHOOK_SECRET, TEMPLATE_ID, startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const inquiryCreations = (h: Harness) =>
  h.persona.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/inquiries');

describe('POST /persona/initiate', () => {
  it('creates one inquiry for the identity and records it in one patch of the two persona paths', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity({
      traits: { email: 'jane@example.com', name: { first: 'Jane', last: 'Doe' } },
      metadata_admin: { crm_id: 'c-1' },
      metadata_public: { plan: 'free' },
    });

    const response = await harness.postHook('/persona/initiate', { identity_id: identity.id, traits: identity.traits });

    expect(response.status).toBe(200);
    const [create] = inquiryCreations(harness);
    expect(inquiryCreations(harness)).toHaveLength(1);
    expect(create?.headers['authorization']).toBe(`Bearer ${harness.config.persona.apiKey}`);
    expect(create?.headers['persona-version']).toBe('2025-12-08');
    expect(create?.headers['idempotency-key']).toMatch(/^ory-persona-idv-[0-9a-f]{40}$/);
    expect(create?.body).toEqual({
      data: {
        attributes: { 'inquiry-template-id': TEMPLATE_ID, note: 'Opened by ory-persona-idv (purpose: onboarding)' },
      },
      meta: { 'auto-create-account-reference-id': identity.id },
    });

    const [inquiry] = harness.persona.inquiries();
    expect(inquiry?.referenceId).toBe(identity.id);
    const patches = harness.kratos.patchesOf(identity.id);
    expect(patches).toHaveLength(1);
    expect(patches[0]?.map((operation) => [operation.op, operation.path])).toEqual([
      ['replace', '/metadata_admin/persona'],
      ['replace', '/metadata_public/persona'],
    ]);
    const stored = harness.kratos.identity(identity.id);
    expect(stored?.metadata_admin).toEqual({
      crm_id: 'c-1',
      persona: {
        version: 2,
        inquiry_id: inquiry?.id,
        status: 'created',
        template_id: TEMPLATE_ID,
        created_at: inquiry?.createdAt,
        updated_at: inquiry?.createdAt,
        decided_at: null,
        last_event_id: null,
        history: [],
        purpose: 'onboarding',
        decision: null,
        decisions: [],
        purposes: {
          onboarding: {
            inquiry_id: inquiry?.id,
            status: 'created',
            created_at: inquiry?.createdAt,
            updated_at: inquiry?.createdAt,
            decided_at: null,
            outcome: null,
          },
        },
        actions: { deactivated_at: null, sessions_revoked_at: null, pending: [] },
        recovery_code: null,
        reverification: null,
        redaction: null,
      },
    });
    expect(stored?.metadata_public).toEqual({
      plan: 'free',
      persona: {
        status: 'created',
        verified_at: null,
        inquiry_status: 'created',
        step_up_verified_at: null,
        reverification_required: false,
      },
    });
    expect(response.body).toEqual({ status: 'created', inquiry_id: inquiry?.id });
  });

  it('creates a single inquiry across the three attempts Kratos may make', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const answers = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      answers.push((await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200)).body);
    }
    // The first attempt created and recorded it. The later ones send the same keyed create, before
    // the identity's lock, and Persona replays the first answer; then they find it on the record.
    const creations = inquiryCreations(harness);
    expect(creations.map((request) => request.status)).toEqual([201, 201, 201]);
    expect(new Set(creations.map((request) => request.headers['idempotency-key'])).size).toBe(1);
    expect(harness.persona.inquiries()).toHaveLength(1);
    expect(harness.kratos.patchesOf(identity.id)).toHaveLength(1);
    const inquiryId = harness.persona.inquiries()[0]?.id;
    expect(answers).toEqual([1, 2, 3].map(() => ({ status: 'created', inquiry_id: inquiryId })));
  });

  it('creates a single inquiry when Kratos retries attempts that are still running', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    harness.persona.inject({ method: 'POST', path: '/api/v1/inquiries', delayMs: 300 });
    const attempts = await Promise.all(
      [0, 1, 2].map(() => harness.postHook('/persona/initiate', { identity_id: identity.id })),
    );
    expect(attempts.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(harness.persona.inquiries()).toHaveLength(1);
    expect(new Set(attempts.map((response) => response.body.inquiry_id)).size).toBe(1);
  });

  it('prefills configured fields from traits and leaves out traits the schema lacks', async () => {
    harness = await startHarness({
      PERSONA_PREFILL_FIELDS: 'name-first=name.first,name-last=name.last,email-address=email,phone-number=phone',
    });
    const identity = harness.kratos.createIdentity({
      traits: { name: { first: 'Ana', last: 'Lima' }, username: 'ana' },
    });
    await harness.postHook('/persona/initiate', { identity_id: identity.id, traits: identity.traits }).expect(200);
    expect(inquiryCreations(harness)[0]?.body).toMatchObject({
      data: {
        attributes: { 'inquiry-template-id': TEMPLATE_ID, fields: { 'name-first': 'Ana', 'name-last': 'Lima' } },
      },
    });
  });

  it('answers 2xx and records not_started when Persona rate-limits', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    harness.persona.inject({ path: '/api/v1/inquiries', status: 429, headers: { 'RateLimit-Reset': '30' }, times: 10 });

    const response = await harness.postHook('/persona/initiate', { identity_id: identity.id });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'not_started', inquiry_id: null });
    expect(harness.kratos.identity(identity.id)?.metadata_admin?.['persona']).toMatchObject({
      status: 'not_started',
      inquiry_id: null,
      template_id: TEMPLATE_ID,
    });
    expect(harness.kratos.identity(identity.id)?.metadata_public).toEqual({
      persona: {
        status: 'not_started',
        verified_at: null,
        inquiry_status: 'not_started',
        step_up_verified_at: null,
        reverification_required: false,
      },
    });
    const warning = harness.logs.find((line) => line['msg'] === 'verification not started at registration');
    expect(warning).toMatchObject({ identity_id: identity.id, transient: true });
  });

  it('answers 2xx well before a hanging Persona would answer', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    harness.persona.inject({ path: '/api/v1/inquiries', delayMs: 30_000 });

    const response = await harness.postHook('/persona/initiate', { identity_id: identity.id });

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('not_started');
  });

  it('sends the Ory Network project key on every admin call', async () => {
    harness = await startHarness({ ORY_API_KEY: 'ory_pat_project_key' }, { kratosApiKey: 'ory_pat_project_key' });
    const identity = harness.kratos.createIdentity();
    await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
    expect(harness.kratos.requests.map((r) => [r.method, r.headers['authorization']])).toEqual([
      ['GET', 'Bearer ory_pat_project_key'],
      ['PATCH', 'Bearer ory_pat_project_key'],
    ]);
    expect(harness.kratos.identity(identity.id)?.metadata_admin?.['persona']).toMatchObject({ status: 'created' });
  });

  it('does not retry a refused Persona key, and records not_started', async () => {
    harness = await startHarness({ PERSONA_API_KEY: 'persona_sandbox_revoked' });
    const identity = harness.kratos.createIdentity();
    const response = await harness.postHook('/persona/initiate', { identity_id: identity.id });
    expect(response.body.status).toBe('not_started');
    expect(inquiryCreations(harness)).toHaveLength(1);
    expect(harness.logText()).not.toContain('persona_sandbox_revoked');
  });

  it('answers 2xx when Persona is unreachable', async () => {
    harness = await startHarness({ PERSONA_API_BASE: 'http://127.0.0.1:9/api/v1' });
    const identity = harness.kratos.createIdentity();
    const response = await harness.postHook('/persona/initiate', { identity_id: identity.id });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('not_started');
  });

  it('answers 2xx when Kratos fails the write, and keeps the inquiry for later', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'PATCH', status: 500, times: 5 });

    const response = await harness.postHook('/persona/initiate', { identity_id: identity.id });

    expect(response.status).toBe(200);
    expect(harness.persona.inquiries()).toHaveLength(1);
    expect(harness.kratos.identity(identity.id)?.metadata_admin).toBeNull();
    expect(harness.logs.some((line) => line['msg'] === 'verification not started at registration')).toBe(true);
  });

  it('refuses the nil UUID of a pre-persist hook with a Kratos message and a log naming the fix', async () => {
    harness = await startHarness();
    const response = await harness.postHook('/persona/initiate', { identity_id: NIL_UUID, traits: {} });

    expect(response.status).toBe(400);
    expect(response.body.messages[0].instance_ptr).toBe('');
    expect(response.body.messages[0].messages[0]).toMatchObject({ id: 4100005, type: 'error' });
    expect(inquiryCreations(harness)).toHaveLength(0);
    const error = harness.logs.find((line) => line['level'] === 50);
    expect(String(error?.['msg'])).toContain('remove response.parse and can_interrupt');
  });

  it('accepts every secret of a rotation list and refuses others', async () => {
    harness = await startHarness({ ORY_WEBHOOK_SECRET: `new-secret-0123456789abcdef,${ORY_WEBHOOK_SECRET}` });
    const identity = harness.kratos.createIdentity();
    const post = (secret: string | undefined) => {
      const test = request(harness.app).post('/persona/initiate').set('Content-Type', 'application/json');
      if (secret !== undefined) test.set('X-Webhook-Secret', secret);
      return test.send({ identity_id: identity.id });
    };
    expect((await post('new-secret-0123456789abcdef')).status).toBe(200);
    expect((await post(ORY_WEBHOOK_SECRET)).status).toBe(200);
    const wrong = await post('new-secret-0123456789abcdeX');
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({
      error: { code: 'unauthorized', message: 'missing or wrong X-Webhook-Secret header' },
    });
    expect((await post(undefined)).status).toBe(401);
  });

  it('names the offending field of a bad body and refuses non-JSON', async () => {
    harness = await startHarness();
    const bad = await harness.postHook('/persona/initiate', { identity_id: 'jane@example.com' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^identity_id: /);
    expect(bad.body.error.message).not.toContain('jane@example.com');

    const form = await request(harness.app)
      .post('/persona/initiate')
      .set('X-Webhook-Secret', ORY_WEBHOOK_SECRET)
      .type('form')
      .send('identity_id=x');
    expect(form.status).toBe(415);
    expect(harness.persona.requests).toHaveLength(0);
  });

  it.each(['application/json; charset="utf-8"', 'application/json; charset=utf8'])(
    'accepts the content type %s, and refuses other charsets',
    async (contentType) => {
      harness = await startHarness();
      const identity = harness.kratos.createIdentity();
      const post = (type: string) =>
        request(harness.app)
          .post('/persona/initiate')
          .set('X-Webhook-Secret', ORY_WEBHOOK_SECRET)
          .set('Content-Type', type)
          .send(JSON.stringify({ identity_id: identity.id }));
      expect((await post(contentType)).status).toBe(200);
      expect((await post('application/json; charset=utf-16')).status).toBe(415);
    },
  );

  it('acknowledges an identity Kratos does not know without writing', async () => {
    harness = await startHarness();
    const response = await harness.postHook('/persona/initiate', {
      identity_id: '3f0c1a52-6a2e-4c1e-9d55-6d7f4c1b2a90',
    });
    expect(response.status).toBe(200);
    expect(harness.kratos.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });
});
