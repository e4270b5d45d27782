import { afterEach, describe, expect, it } from 'vitest';
import { equivalentBody, renderJsonnet } from '../../sandbox/jsonnet.js';
import loginExample from '../fixtures/kratos/ctx-login-after.json' with { type: 'json' };
import registrationExample from '../fixtures/kratos/ctx-registration-after.json' with { type: 'json' };
import { startHarness, type Harness } from '../support/harness.js';
import { readAsKratos } from '../../sandbox/kratosResponse.js';

type Ctx = Record<string, unknown> & { identity: Record<string, unknown> };

let harness: Harness;
afterEach(() => harness.close());

/** The registration context as a post-persist hook sees it: the identity's real id and times. */
function postPersistRegistration(
  identity: { id: string; created_at: string; traits: unknown },
  changes: Record<string, unknown> = {},
): Ctx {
  const ctx = structuredClone(registrationExample) as unknown as Ctx;
  Object.assign(
    ctx.identity,
    { id: identity.id, created_at: identity.created_at, updated_at: identity.created_at, traits: identity.traits },
    changes,
  );
  return ctx;
}

function login(identity: { id: string; created_at: string; traits: unknown }, changes: Record<string, unknown>): Ctx {
  const ctx = structuredClone(loginExample) as unknown as Ctx;
  Object.assign(ctx.identity, { id: identity.id, created_at: identity.created_at, traits: identity.traits }, changes);
  return ctx;
}

describe('jsonnet/initiate.jsonnet', () => {
  it.each([
    [
      'password registration with email and name',
      { email: 'jane@example.com', name: { first: 'Jane', last: 'Doe' } },
      {},
    ],
    ['a phone-only schema (no email)', { phone: '+15555550100' }, {}],
    ['a username schema without name', { username: 'jdoe' }, {}],
    [
      'an OIDC registration',
      { email: 'jane@corp.example', name: 'Jane Doe' },
      { verifiable_addresses: [], recovery_addresses: [] },
    ],
    ['null metadata_public', { email: 'jane@example.com' }, { metadata_public: null }],
    ['no metadata_public at all', { email: 'jane@example.com' }, { metadata_public: undefined }],
  ])('renders a body the service accepts for %s', async (_name, traits, changes) => {
    harness = await startHarness({ PERSONA_PREFILL_FIELDS: 'name-first=name.first,email-address=email' });
    const identity = harness.kratos.createIdentity({ traits });
    const ctx = postPersistRegistration(identity, changes);
    if (ctx.identity['metadata_public'] === undefined) delete ctx.identity['metadata_public'];

    const body = await renderJsonnet('initiate', ctx);

    expect(body).toEqual({ identity_id: identity.id, traits });
    const response = await harness.postHook('/persona/initiate', body);
    expect(response.status).toBe(200);
    expect(harness.persona.inquiries().map((inquiry) => inquiry.referenceId)).toEqual([identity.id]);
  });

  it('renders the nil UUID of a pre-persist hook, which the service refuses the way Kratos shows', async () => {
    harness = await startHarness();
    const body = await renderJsonnet('initiate', registrationExample);
    const response = await harness.postHook('/persona/initiate', body);
    expect(readAsKratos(response.status, response.text)).toMatchObject({ kind: 'interrupt', id: 4100005 });
    expect(harness.persona.inquiries()).toHaveLength(0);
  });
});

describe('jsonnet/validate.jsonnet', () => {
  it('sends the public mirror, and the gate decides from it alone', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const ctx = login(identity, {
      metadata_public: { plan: 'free', persona: { status: 'declined', verified_at: null } },
    });

    const body = await renderJsonnet('validate', ctx);

    expect(body).toEqual({
      identity_id: identity.id,
      identity_created_at: identity.created_at,
      persona: { status: 'declined', verified_at: null },
      return_to: 'https://app.example.com/dashboard',
      accept_language: 'en-US,en;q=0.9',
    });
    const response = await harness.postHook('/persona/validate', body);
    expect(readAsKratos(response.status, response.text)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(harness.kratos.requests).toHaveLength(0);
  });

  it("sends the browser's Accept-Language as Kratos forwards it, and the message comes in that language", async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const ctx = login(identity, { metadata_public: { persona: { status: 'declined', verified_at: null } } });
    // Go's http.Header: canonical names, every value of a repeated header.
    (ctx['request_headers'] as Record<string, unknown>)['Accept-Language'] = ['fr-CH, fr;q=0.9', 'de;q=0.8'];

    const body = await renderJsonnet('validate', ctx);

    expect(body).toMatchObject({ accept_language: 'fr-CH, fr;q=0.9, de;q=0.8' });
    const response = await harness.postHook('/persona/validate', body);
    expect(readAsKratos(response.status, response.text)).toMatchObject({
      kind: 'interrupt',
      id: 4100001,
      text: 'Die Überprüfung Ihrer Identität wurde abgelehnt. Bitte wenden Sie sich an den Support.',
    });
  });

  it.each([
    ['no Accept-Language', (headers: Record<string, unknown>) => delete headers['Accept-Language']],
    ['no request headers at all', (_headers: Record<string, unknown>, ctx: Ctx) => delete ctx['request_headers']],
  ])('sends a null accept_language for %s, and the message is in English', async (_name, change) => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const ctx = login(identity, { metadata_public: { persona: { status: 'declined', verified_at: null } } });
    change(ctx['request_headers'] as Record<string, unknown>, ctx);

    const body = await renderJsonnet('validate', ctx);

    expect(body).toMatchObject({ accept_language: null });
    const response = await harness.postHook('/persona/validate', body);
    expect(readAsKratos(response.status, response.text)).toMatchObject({
      text: 'Your identity verification was declined. Please contact support.',
    });
  });

  it('renders for account recovery, whose context has no session', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const ctx = login(identity, { metadata_public: { persona: { status: 'declined', verified_at: null } } });
    delete ctx['session'];
    Object.assign(ctx['flow'] as object, {
      state: 'passed_challenge',
      request_url: 'https://auth.example.com/self-service/recovery',
    });

    const body = await renderJsonnet('validate', ctx);

    const response = await harness.postHook('/persona/validate', body);
    expect(readAsKratos(response.status, response.text)).toMatchObject({ kind: 'interrupt', id: 4100001 });
  });

  it.each([
    ['metadata_public without persona (the docs example)', { metadata_public: { plan: 'free' } }],
    ['null metadata_public', { metadata_public: null }],
    ['no email trait', { traits: { phone: '+15555550100' } }],
    ['an OIDC login', { traits: { email: 'jane@corp.example' } }],
  ])('sends a null mirror for %s, and the gate reads the admin record', async (_name, changes) => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity({
      metadata_admin: {
        persona: {
          inquiry_id: 'inq_A1',
          status: 'declined',
          template_id: 'itmpl_Ours1234567890',
          created_at: null,
          updated_at: null,
        },
      },
    });
    const ctx = login(identity, changes);

    const body = await renderJsonnet('validate', ctx);

    expect(body).toMatchObject({ identity_id: identity.id, persona: null });
    const response = await harness.postHook('/persona/validate', body);
    expect(readAsKratos(response.status, response.text)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(harness.kratos.requests.map((r) => r.method)).toEqual(['GET']);
  });
});

describe('the TypeScript equivalent the demo uses without jsonnet', () => {
  const variants: [string, Ctx][] = [
    ['the registration example', structuredClone(registrationExample) as unknown as Ctx],
    ['the login example', structuredClone(loginExample) as unknown as Ctx],
    [
      'null metadata_public',
      {
        ...structuredClone(loginExample),
        identity: { ...loginExample.identity, metadata_public: null },
      } as unknown as Ctx,
    ],
    [
      'a persona mirror',
      {
        ...structuredClone(loginExample),
        identity: { ...loginExample.identity, metadata_public: { persona: { status: 'approved', verified_at: null } } },
      } as unknown as Ctx,
    ],
    ['no metadata_public, no flow', { identity: { id: 'x', traits: { phone: '1' } } }],
    [
      'null traits and a flow without return_to',
      { identity: { id: 'x', traits: null, metadata_public: 'odd' }, flow: { id: 'f' } },
    ],
    [
      'several Accept-Language values, one of them not a text',
      { identity: { id: 'x' }, request_headers: { 'Accept-Language': ['de', 7, 'en;q=0.5'] } },
    ],
    ['an Accept-Language that is not a list', { identity: { id: 'x' }, request_headers: { 'Accept-Language': 'de' } }],
    ['null request headers', { identity: { id: 'x' }, request_headers: null }],
  ];

  it.each(variants)('renders what the templates render for %s', async (_name, ctx) => {
    for (const template of ['initiate', 'validate'] as const) {
      expect(equivalentBody(template, ctx)).toEqual(await renderJsonnet(template, ctx));
    }
  });
});
