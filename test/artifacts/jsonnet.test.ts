import { afterEach, describe, expect, it } from 'vitest';
import { equivalentBody, renderJsonnet } from '../../sandbox/jsonnet.js';
import loginExample from '../fixtures/kratos/ctx-login-after.json' with { type: 'json' };
import registrationExample from '../fixtures/kratos/ctx-registration-after.json' with { type: 'json' };
import settingsExample from '../fixtures/kratos/ctx-settings-after.json' with { type: 'json' };
import { SETTINGS_METHODS } from '../../src/policy/stepUpPolicy.js';
import { STEP_UP_TEMPLATE_ID, startHarness, type Harness } from '../support/harness.js';
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

    expect(body).toEqual({ identity_id: identity.id, traits, accept_language: 'en-US,en;q=0.9' });
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
      has_verified_email_address: true,
    });
    const response = await harness.postHook('/persona/validate', body);
    expect(readAsKratos(response.status, response.text)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(harness.kratos.requests).toHaveLength(0);
  });

  it('says whether the identity has an email address it proved it owns, never which', async () => {
    harness = await startHarness();
    const { id } = harness.kratos.createIdentity({ traits: { email: 'someone@example.com' } });
    const rendered = async () => {
      const identity = harness!.kratos.identity(id)!;
      const ctx = login(identity, { verifiable_addresses: identity.verifiable_addresses });
      const body = (await renderJsonnet('validate', ctx)) as Record<string, unknown>;
      expect(JSON.stringify(body)).not.toContain('someone@example.com');
      return body['has_verified_email_address'];
    };
    expect(await rendered()).toBe(false);
    harness.kratos.verifyEmail(id);
    expect(await rendered()).toBe(true);
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

/** The settings context, pre-persist, for an identity: `after` is what the change would save. */
function settings(
  identity: { id: string; created_at: string; traits: unknown },
  after: { traits?: unknown; metadata_public?: unknown } = {},
): Ctx {
  const ctx = structuredClone(settingsExample) as unknown as Ctx & { session: { identity: Record<string, unknown> } };
  const before = { id: identity.id, created_at: identity.created_at, traits: identity.traits };
  Object.assign(ctx.session.identity, before);
  Object.assign(ctx.identity, before, after);
  return ctx;
}

const MINUTE = 60_000;

describe('jsonnet/settings.jsonnet', () => {
  it('sends the changed trait paths and whether an address changes (never values), the sign-in time, the cookie fact, the settings page and the mirror', async () => {
    const body = await renderJsonnet('settings', settingsExample);
    expect(body).toEqual({
      identity_id: settingsExample.identity.id,
      persona: null,
      changed_traits: ['name.last'],
      changed_addresses: false,
      authenticated_at: settingsExample.session.authenticated_at,
      session_cookie: true,
      settings_url: settingsExample.request_headers.Referer[0],
      return_to: settingsExample.flow.return_to,
      accept_language: 'en-US,en;q=0.9',
    });
    expect(JSON.stringify(body)).not.toContain('Roe');
  });

  it.each(SETTINGS_METHODS)('renders a %s change the gate decides from the mirror alone', async (method) => {
    harness = await startHarness({
      PUBLIC_BASE_URL: 'https://idv.example.com',
      RETURN_TO_ALLOWLIST: 'https://app.example.com',
      PERSONA_STEP_UP_TEMPLATE_ID: STEP_UP_TEMPLATE_ID,
    });
    const identity = harness.kratos.createIdentity({ traits: settingsExample.session.identity.traits });
    const mirror = (agoMs: number) => ({
      persona: {
        status: 'approved',
        verified_at: new Date(harness.clock.now - agoMs).toISOString(),
        inquiry_status: 'approved',
        step_up_verified_at: null,
      },
    });
    const traits = method === 'profile' ? settingsExample.identity.traits : settingsExample.session.identity.traits;

    const fresh = await renderJsonnet('settings', settings(identity, { traits, metadata_public: mirror(MINUTE) }));
    const stale = await renderJsonnet('settings', settings(identity, { traits, metadata_public: mirror(60 * MINUTE) }));

    expect((await harness.postHook(`/persona/settings?method=${method}`, fresh)).status).toBe(204);
    const blocked = await harness.postHook(`/persona/settings?method=${method}`, stale);
    expect(readAsKratos(blocked.status, blocked.text)).toMatchObject({
      kind: 'interrupt',
      id: 4100006,
      formLevel: true,
      context: {
        reason: 'step_up_required',
        verify_url: `https://idv.example.com/persona/start?purpose=step_up&return_to=${encodeURIComponent(settingsExample.request_headers.Referer[0] as string)}`,
      },
    });
    expect(harness.kratos.requests).toHaveLength(0);
  });

  it.each([
    [
      'a native app (no cookies, no Referer)',
      (ctx: Ctx) => Object.assign(ctx, { request_cookies: {}, request_headers: {} }),
      { session_cookie: false, settings_url: null },
    ],
    [
      'Ory Network’s session cookie',
      (ctx: Ctx) => Object.assign(ctx, { request_cookies: { ory_session_playfulmoon: 'x' } }),
      { session_cookie: true },
    ],
    [
      'a schema without email or name',
      (ctx: Ctx) => {
        Object.assign(ctx.identity, { traits: { username: 'jdoe2' } });
        Object.assign((ctx['session'] as { identity: object }).identity, { traits: { username: 'jdoe' } });
      },
      { changed_traits: ['username'] },
    ],
    [
      'a trait added and one removed',
      (ctx: Ctx) => {
        Object.assign(ctx.identity, { traits: { email: 'jane.doe@example.com', phone: '+15555550100' } });
      },
      { changed_traits: ['name', 'phone'] },
    ],
    [
      'a new email: its recovery and verifiable addresses follow',
      (ctx: Ctx) => {
        const address = { value: 'jane.roe@example.net', via: 'email' };
        Object.assign(ctx.identity, {
          traits: { email: 'jane.roe@example.net', name: { first: 'Jane', last: 'Doe' } },
          verifiable_addresses: [{ ...address, verified: false, status: 'pending' }],
          recovery_addresses: [address],
        });
      },
      { changed_traits: ['email'], changed_addresses: true },
    ],
    [
      'a recovery address added',
      (ctx: Ctx) => {
        const session = (ctx['session'] as { identity: Record<string, unknown> }).identity;
        Object.assign(ctx.identity, {
          recovery_addresses: [...(session['recovery_addresses'] as unknown[]), { value: '+15555550100', via: 'sms' }],
        });
      },
      { changed_addresses: true },
    ],
    [
      'addresses with new ids and times but the same values',
      (ctx: Ctx) => {
        const session = (ctx['session'] as { identity: Record<string, unknown> }).identity;
        Object.assign(ctx.identity, {
          recovery_addresses: (session['recovery_addresses'] as object[]).map((a) => ({ ...a, id: 'other' })),
        });
      },
      { changed_addresses: false },
    ],
    [
      'a session without its identity',
      (ctx: Ctx) => {
        delete (ctx['session'] as Record<string, unknown>)['identity'];
      },
      { changed_addresses: null, authenticated_at: '2026-07-29T10:20:39.771284Z' },
    ],
    [
      'no change at all',
      (ctx: Ctx) => {
        Object.assign(ctx.identity, { traits: (ctx['session'] as { identity: { traits: unknown } }).identity.traits });
      },
      { changed_traits: [] },
    ],
    [
      'null metadata_public and no flow',
      (ctx: Ctx) => {
        Object.assign(ctx.identity, { metadata_public: null });
        delete ctx['flow'];
      },
      { persona: null, return_to: null },
    ],
  ])('renders safely for %s', async (_name, change, expected) => {
    const ctx = structuredClone(settingsExample) as unknown as Ctx;
    change(ctx);
    expect(await renderJsonnet('settings', ctx)).toMatchObject(expected);
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
    [
      'an SMS address only, and an entry that is no address',
      { identity: { id: 'x', verifiable_addresses: [{ via: 'sms', value: '+15555550100' }, 'odd'] } },
    ],
    ['null verifiable addresses', { identity: { id: 'x', verifiable_addresses: null } }],
    [
      'an unverified email address, and one whose verified is not a boolean',
      {
        identity: {
          id: 'x',
          verifiable_addresses: [
            { via: 'email', value: 'typed@example.com', verified: false },
            { via: 'email', value: 'odd@example.com', verified: 'true' },
          ],
        },
      },
    ],
    [
      'a verified email address',
      { identity: { id: 'x', verifiable_addresses: [{ via: 'email', value: 'proved@example.com', verified: true }] } },
    ],
  ];

  it.each([
    ...variants,
    ['the settings example', structuredClone(settingsExample) as unknown as Ctx],
    [
      'a settings change with nested, added and removed traits',
      {
        identity: { id: 'x', traits: { a: { b: 1, c: [1, 2] }, d: null, e: 'new' } },
        session: { identity: { traits: { a: { b: 2, c: [1, 2] }, d: 'gone', f: { g: true } } } },
        request_cookies: { ory_session_x: '1' },
        request_headers: { Referer: ['https://app/s'] },
      },
    ] as [string, Ctx],
    ['settings without a session', { identity: { id: 'x', traits: {} }, request_cookies: null }],
    [
      'addresses of odd shapes',
      {
        identity: { id: 'x', traits: {}, recovery_addresses: [{ value: 1, via: null }, 'x'], verifiable_addresses: {} },
        session: { authenticated_at: 7, identity: { traits: {}, recovery_addresses: [{ value: '1' }] } },
      },
    ] as [string, Ctx],
    [
      'the same addresses in another order',
      {
        identity: {
          id: 'x',
          traits: {},
          recovery_addresses: [
            { value: 'b', via: 'email' },
            { value: 'a', via: 'email' },
          ],
        },
        session: {
          identity: {
            traits: {},
            recovery_addresses: [
              { value: 'a', via: 'email' },
              { value: 'b', via: 'email' },
              { value: 'a', via: 'email' },
            ],
          },
        },
      },
    ] as [string, Ctx],
  ])('renders what the templates render for %s', async (_name, ctx) => {
    for (const template of ['initiate', 'validate', 'settings'] as const) {
      expect(equivalentBody(template, ctx)).toEqual(await renderJsonnet(template, ctx));
    }
  });
});
