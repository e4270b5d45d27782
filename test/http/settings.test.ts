import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { SETTINGS_METHODS, type SettingsMethod } from '../../src/policy/stepUpPolicy.js';
import { readAsKratos } from '../../sandbox/kratosResponse.js';
import type { SettingsChange } from '../../sandbox/kratosSettings.js';
import { ORY_WEBHOOK_SECRET, STEP_UP_TEMPLATE_ID, startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const MINUTE = 60_000;
const ENV = {
  PUBLIC_BASE_URL: 'https://idv.example.com',
  RETURN_TO_ALLOWLIST: 'https://app.example.com',
  PERSONA_STEP_UP_TEMPLATE_ID: STEP_UP_TEMPLATE_ID,
  SUPPORT_URL: 'https://help.example.com',
};
const SETTINGS_PAGE = 'https://app.example.com/settings?flow=5f2c';

/** A signed-in identity whose approval was decided `approvedAgoMs` ago (or in another state). */
function signedIn(h: Harness, status = 'approved', approvedAgoMs = 60 * MINUTE) {
  const { identityId } = h.identityInState(status, { decidedAgoMs: approvedAgoMs });
  return { identityId, token: h.kratos.createSession(identityId).token };
}

const change = (method: SettingsMethod, overrides: Partial<SettingsChange> = {}): SettingsChange => ({
  method,
  settingsPage: SETTINGS_PAGE,
  ...(method === 'profile' && { traits: { email: 'jane@example.com', nickname: 'jd' } }),
  ...overrides,
});

/** What the service asked Kratos and Persona while deciding (the stand-ins' own flows are not the service). */
const serviceCalls = (h: Harness) => [
  ...h.kratos.requests.filter((r) => !r.path.startsWith('/sandbox/')),
  ...h.persona.requests,
];

describe('POST /persona/settings through Kratos’s settings flow and the real jsonnet', () => {
  it.each(SETTINGS_METHODS)(
    'saves a %s change with a fresh approval, deciding from the mirror alone',
    async (method) => {
      harness = await startHarness(ENV);
      await harness.serve();
      const { identityId, token } = signedIn(harness, 'approved', 5 * MINUTE);
      const before = harness.kratos.identity(identityId);

      const result = await harness.kratos.changeSettings(token, change(method));

      expect(result?.hook.renderedBy).toBe('jsonnet');
      expect(result?.hook.url).toMatch(new RegExp(`/persona/settings\\?method=${method}$`));
      expect(result).toMatchObject({ saved: true, hook: { status: 204, reading: { kind: 'continue' } } });
      expect(harness.kratos.identity(identityId)).not.toEqual(before);
      expect(serviceCalls(harness)).toEqual([]);
      expect(harness.logs).toContainEqual(
        expect.objectContaining({
          route: '/persona/settings',
          method: 'POST',
          settings_method: method,
          decision: 'fresh_verification',
          identity_id: identityId,
        }),
      );
    },
  );

  it.each(SETTINGS_METHODS)(
    'blocks a %s change when the approval is older than STEP_UP_MAX_AGE, and saves nothing',
    async (method) => {
      harness = await startHarness(ENV);
      await harness.serve();
      const { identityId, token } = signedIn(harness, 'approved', 16 * MINUTE);
      const before = harness.kratos.identity(identityId);

      const result = await harness.kratos.changeSettings(token, change(method));

      expect(result?.saved).toBe(false);
      expect(result?.hook.status).toBe(403);
      expect(result?.hook.reading).toEqual({
        kind: 'interrupt',
        id: 4100006,
        text: 'Please verify your identity again to make this change.',
        type: 'error',
        context: {
          reason: 'step_up_required',
          status: 'approved',
          // The browser's flow carries its session cookie: /persona/start reads the session itself.
          verify_url: `https://idv.example.com/persona/start?purpose=step_up&return_to=${encodeURIComponent(SETTINGS_PAGE)}`,
          support_url: 'https://help.example.com',
        },
        formLevel: true,
      });
      expect(harness.kratos.identity(identityId)).toEqual(before);
      expect(serviceCalls(harness)).toEqual([]);
    },
  );

  it('holds the STEP_UP_MAX_AGE boundary: exactly as old passes, a millisecond older is blocked', async () => {
    harness = await startHarness({ ...ENV, STEP_UP_MAX_AGE: '10m' });
    await harness.serve();
    const { token } = signedIn(harness, 'approved', 0);

    harness.clock.now += 10 * MINUTE;
    expect((await harness.kratos.changeSettings(token, change('password')))?.hook.status).toBe(204);
    harness.clock.now += 1;
    expect((await harness.kratos.changeSettings(token, change('password')))?.hook.reading).toMatchObject({
      kind: 'interrupt',
      id: 4100006,
    });
  });

  it('gives a native app, whose session token never reaches the service, a link signed for step-up', async () => {
    harness = await startHarness(ENV);
    await harness.serve();
    const { identityId, token } = signedIn(harness);

    const result = await harness.kratos.changeSettings(token, change('totp', { browser: false }));

    const reading = result?.hook.reading;
    const link = new URL(String(reading?.kind === 'interrupt' ? reading.context['verify_url'] : ''));
    expect(link.pathname).toBe('/persona/start');
    expect(link.searchParams.get('purpose')).toBe('step_up');
    expect(link.searchParams.get('token')).toMatch(new RegExp(`^${identityId}\\.\\d+\\.step_up\\.`));
    expect(link.searchParams.has('return_to')).toBe(false);
  });

  it('never lets a declined identity change anything, not even its profile', async () => {
    harness = await startHarness(ENV);
    await harness.serve();
    for (const method of SETTINGS_METHODS) {
      const { token } = signedIn(harness, 'declined', MINUTE);
      const result = await harness.kratos.changeSettings(token, change(method));
      expect(result?.saved).toBe(false);
      expect(result?.hook.reading).toMatchObject({
        kind: 'interrupt',
        id: 4100001,
        context: { reason: 'declined', status: 'declined' },
      });
      expect(result?.hook.reading).not.toHaveProperty('context.verify_url');
    }
  });

  it('asks an identity never approved to verify (4100002), with a link to its own verification', async () => {
    harness = await startHarness(ENV);
    await harness.serve();
    const { token } = signedIn(harness, 'pending');
    const result = await harness.kratos.changeSettings(token, change('password'));
    expect(result?.hook.reading).toMatchObject({
      kind: 'interrupt',
      id: 4100002,
      context: {
        reason: 'verification_required',
        verify_url: `https://idv.example.com/persona/start?return_to=${encodeURIComponent(SETTINGS_PAGE)}`,
      },
    });
  });

  it('without a step-up template, says none is offered (no link to verify, a link to support) and warns the operator', async () => {
    harness = await startHarness({ ...ENV, PERSONA_STEP_UP_TEMPLATE_ID: undefined });
    await harness.serve();
    const { identityId, token } = signedIn(harness, 'approved', 16 * MINUTE);

    const result = await harness.kratos.changeSettings(token, change('password'));

    expect(result?.saved).toBe(false);
    expect(result?.hook.reading).toEqual({
      kind: 'interrupt',
      id: 4100006,
      text: 'This change needs a recent verification of your identity, which is not offered here. Please contact support.',
      type: 'error',
      context: { reason: 'step_up_unavailable', status: 'approved', support_url: 'https://help.example.com' },
      formLevel: true,
    });
    expect(harness.logs).toContainEqual(
      expect.objectContaining({
        level: 40,
        identity_id: identityId,
        msg: expect.stringContaining('PERSONA_STEP_UP_TEMPLATE_ID is unset'),
      }),
    );
    // A fresh approval still lets the change through.
    const fresh = signedIn(harness, 'approved', 5 * MINUTE);
    expect(await harness.kratos.changeSettings(fresh.token, change('password'))).toMatchObject({ saved: true });
  });

  it('gates a change of the recovery and verification address whatever STEP_UP_TRAITS says', async () => {
    harness = await startHarness({ ...ENV, STEP_UP_TRAITS: 'name.last' });
    await harness.serve();
    const { identityId, token } = signedIn(harness);
    const before = harness.kratos.identity(identityId);
    const traits = before?.traits as Record<string, unknown>;
    expect(before?.recovery_addresses).toEqual([expect.objectContaining({ value: traits['email'], via: 'email' })]);

    const email = await harness.kratos.changeSettings(token, {
      method: 'profile',
      traits: { ...traits, email: 'Someone.Else@example.net' },
    });
    expect(email?.saved).toBe(false);
    expect(email?.hook.reading).toMatchObject({ id: 4100006, context: { reason: 'step_up_required' } });
    expect(harness.kratos.identity(identityId)).toEqual(before);
    expect(harness.logText()).not.toContain('someone.else');

    // A change of the address's case only leaves the address as Kratos stores it: not gated.
    const sameAddress = await harness.kratos.changeSettings(token, {
      method: 'profile',
      traits: { ...traits, email: String(traits['email']).toUpperCase() },
    });
    expect(sameAddress).toMatchObject({ saved: true, hook: { status: 204 } });
  });

  it('logs when the session signed in, and decides without it', async () => {
    harness = await startHarness(ENV);
    await harness.serve();
    const { identityId, token } = signedIn(harness, 'approved', 16 * MINUTE);

    // However recently the session signed in, the approval is what counts.
    const result = await harness.kratos.changeSettings(token, change('password'));

    expect(result?.hook.reading).toMatchObject({ id: 4100006 });
    const line = harness.logs.find((entry) => entry['route'] === '/persona/settings');
    expect(line).toMatchObject({ identity_id: identityId, session_authenticated_at: expect.any(String) });
    expect(Date.parse(String(line?.['session_authenticated_at']))).not.toBeNaN();
  });

  it('with STEP_UP_TRAITS, lets profile changes of other traits through and gates those', async () => {
    harness = await startHarness({ ...ENV, STEP_UP_TRAITS: 'name.last,birthdate' });
    await harness.serve();
    const identity = harness.identityInState('approved', { decidedAgoMs: 60 * MINUTE });
    const { token } = harness.kratos.createSession(identity.identityId);
    const traits = harness.kratos.identity(identity.identityId)?.traits as Record<string, unknown>;

    const nickname = await harness.kratos.changeSettings(token, {
      method: 'profile',
      traits: { ...traits, nickname: 'jd' },
    });
    expect(nickname).toMatchObject({ saved: true, hook: { status: 204 } });

    const named = await harness.kratos.changeSettings(token, {
      method: 'profile',
      traits: { ...traits, nickname: 'jd', name: { first: 'Jane', last: 'Roe' } },
    });
    expect(named?.saved).toBe(false);
    expect(named?.hook.reading).toMatchObject({ id: 4100006 });
    expect(harness.kratos.identity(identity.identityId)?.traits).toEqual({ ...traits, nickname: 'jd' });
  });
});

describe('POST /persona/settings: the traits ATTRIBUTE_MATCH compares', () => {
  it('refuses their change (4100007) however fresh the approval, and lets other traits go by STEP_UP_TRAITS', async () => {
    harness = await startHarness({
      ...ENV,
      ATTRIBUTE_MATCH: 'name-first=name.first,name-last=name.last,birthdate=birthdate',
      STEP_UP_TRAITS: 'email',
    });
    await harness.serve();
    const { identityId } = harness.identityInState('approved', { decidedAgoMs: MINUTE });
    const { token } = harness.kratos.createSession(identityId);
    const traits = harness.kratos.identity(identityId)?.traits as Record<string, unknown>;

    for (const changed of [{ name: { first: 'Marguerite', last: 'Dupont' } }, { birthdate: '1990-11-02' }]) {
      const result = await harness.kratos.changeSettings(token, {
        method: 'profile',
        traits: { ...traits, ...changed },
      });
      expect(result?.saved).toBe(false);
      expect(result?.hook.reading).toEqual({
        kind: 'interrupt',
        id: 4100007,
        text: 'These details were checked against your identity document, so they cannot be changed here. Please contact support to change them.',
        type: 'error',
        // Nothing to verify: only support can change them.
        context: { reason: 'verified_trait_locked', status: 'approved', support_url: ENV.SUPPORT_URL },
        formLevel: true,
      });
    }
    expect(harness.kratos.identity(identityId)?.traits).toEqual(traits);
    expect(harness.logs).toContainEqual(expect.objectContaining({ decision: 'verified_trait_locked' }));

    const nickname = await harness.kratos.changeSettings(token, {
      method: 'profile',
      traits: { ...traits, nickname: 'jd' },
    });
    expect(nickname).toMatchObject({ saved: true, hook: { status: 204 } });
  });
});

describe('POST /persona/settings: the message in the browser’s language', () => {
  const blocked = (h: Harness, identityId: string, acceptLanguage: string) =>
    h.postHook('/persona/settings?method=password', {
      identity_id: identityId,
      persona: h.kratos.identity(identityId)?.metadata_public?.['persona'],
      session_cookie: true,
      accept_language: acceptLanguage,
    });

  it('takes 4100006 from the catalogue by Accept-Language, or STEP_UP_MESSAGE in every language', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('approved', { decidedAgoMs: 60 * MINUTE });
    const german = await blocked(harness, identityId, 'de-DE,de;q=0.9,en;q=0.8');
    expect(readAsKratos(german.status, german.text)).toMatchObject({
      id: 4100006,
      text: 'Bitte bestätigen Sie Ihre Identität erneut, um diese Änderung vorzunehmen.',
    });
    await harness.close();

    harness = await startHarness({ ...ENV, STEP_UP_MESSAGE: 'Verify again, please.' });
    const own = harness.identityInState('approved', { decidedAgoMs: 60 * MINUTE });
    const overridden = await blocked(harness, own.identityId, 'de');
    expect(readAsKratos(overridden.status, overridden.text)).toMatchObject({
      id: 4100006,
      text: 'Verify again, please.',
    });
  });
});

describe('POST /persona/settings: fail safe, never 5xx', () => {
  const post = (h: Harness, body: unknown, query = '?method=password', secret = ORY_WEBHOOK_SECRET) =>
    request(h.app)
      .post(`/persona/settings${query}`)
      .set('Content-Type', 'application/json')
      .set('X-Webhook-Secret', secret)
      .send(JSON.stringify(body));

  it('blocks (4100004) when there is no mirror and the record cannot be read', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'GET', status: 500, times: 10 });
    const response = await post(harness, { identity_id: identity.id, persona: null });
    expect(readAsKratos(response.status, response.text)).toMatchObject({
      kind: 'interrupt',
      id: 4100004,
      context: { reason: 'verification_unavailable' },
    });
  });

  it('reads the admin record when the mirror is absent, as the login gate does', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('approved', { decidedAgoMs: MINUTE });
    const response = await post(harness, { identity_id: identityId, persona: null });
    expect(response.status).toBe(204);
    expect(harness.kratos.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /admin/identities/${identityId}`,
    ]);
  });

  it.each([
    ['a hook URL without its method', '?', { identity_id: '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34' }, 400],
    ['an unknown method', '?method=sms', { identity_id: '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34' }, 400],
    ['no identity id', '?method=password', { persona: null }, 400],
    ['the nil UUID', '?method=password', { identity_id: '00000000-0000-0000-0000-000000000000' }, 400],
  ])('refuses %s in Kratos’s message format', async (_name, query, body, status) => {
    harness = await startHarness(ENV);
    const response = await post(harness, body, query);
    expect(response.status).toBe(status);
    expect(readAsKratos(response.status, response.text)).toMatchObject({ kind: 'interrupt', id: 4100004 });
  });

  it('refuses a wrong X-Webhook-Secret with 401 in Kratos’s format', async () => {
    harness = await startHarness(ENV);
    const response = await post(harness, {}, '?method=password', 'wrong-secret-0123456789abcdef');
    expect(response.status).toBe(401);
    expect(readAsKratos(response.status, response.text)).toMatchObject({ kind: 'interrupt', id: 4100004 });
  });
});
