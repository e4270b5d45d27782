import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { signStartToken } from '../../src/security/signedLink.js';
import { readAsKratos } from '../../sandbox/kratosResponse.js';
import { STEP_UP_TEMPLATE_ID, TEMPLATE_ID, startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const MINUTE = 60_000;
const ENV = {
  PUBLIC_BASE_URL: 'https://idv.example.com',
  RETURN_TO_ALLOWLIST: 'https://app.example.com',
  PERSONA_STEP_UP_TEMPLATE_ID: STEP_UP_TEMPLATE_ID,
};
const BACK = 'https://app.example.com/settings';

type Credentials = { cookie: string } | { token: string };

function get(h: Harness, path: string, credentials: Credentials, query: Record<string, string> = {}) {
  const params = new URLSearchParams(query);
  if ('token' in credentials) params.set('token', credentials.token);
  const test = request(h.app).get(`${path}?${params}`).set('Accept', 'application/json');
  if ('cookie' in credentials) test.set('Cookie', credentials.cookie);
  return test;
}

const record = (h: Harness, identityId: string) =>
  h.kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, any>;
const mirror = (h: Harness, identityId: string) =>
  h.kratos.identity(identityId)?.metadata_public?.['persona'] as Record<string, any>;
const creates = (h: Harness) => h.persona.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/inquiries');

/** An identity approved an hour ago, signed in. */
function approvedUser(h: Harness) {
  const { identityId, inquiryId } = h.identityInState('approved', { decidedAgoMs: 60 * MINUTE });
  return { identityId, inquiryId, session: h.kratos.createSession(identityId) };
}

/** The step-up inquiry the user is sent to, by its redirect. */
async function startStepUp(h: Harness, credentials: Credentials, query: Record<string, string> = {}) {
  const response = await get(h, '/persona/start', credentials, { purpose: 'step_up', return_to: BACK, ...query }).set(
    'Accept',
    'text/html',
  );
  expect(response.status).toBe(303);
  return new URL(response.headers['location'] ?? '').searchParams.get('inquiry-id') as string;
}

/** Persona decides the inquiry and delivers the event to the callback. */
async function decide(h: Harness, inquiryId: string, status: 'approved' | 'declined') {
  h.persona.setStatus(inquiryId, status);
  await h.postEvent(h.persona.eventFor(inquiryId, `inquiry.${status}`)).expect(200);
}

/** The settings gate as Kratos calls it for a password change, with the identity's mirror. */
const settingsGate = (h: Harness, identityId: string) =>
  h.postHook('/persona/settings?method=password', {
    identity_id: identityId,
    persona: mirror(h, identityId),
    changed_traits: [],
    session_cookie: true,
  });

describe('GET /persona/start?purpose=step_up', () => {
  it('opens an inquiry of the step-up template, recorded under its purpose only', async () => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const before = record(harness, user.identityId);

    const inquiryId = await startStepUp(harness, { cookie: user.session.cookie });

    expect(harness.persona.inquiry(inquiryId)).toMatchObject({
      templateId: STEP_UP_TEMPLATE_ID,
      referenceId: user.identityId,
      fields: {},
    });
    const after = record(harness, user.identityId);
    expect(after.purposes.step_up).toMatchObject({ inquiry_id: inquiryId, status: 'created', outcome: null });
    // The onboarding inquiry stays the inquiry in progress, and its decision stands.
    expect(after).toMatchObject({ inquiry_id: user.inquiryId, status: 'approved', decision: before.decision });
    expect(after.decisions).toEqual(before.decisions);
    expect(mirror(harness, user.identityId)).toMatchObject({ status: 'approved', step_up_verified_at: null });
  });

  it('continues the step-up inquiry in progress instead of opening another', async () => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const first = await startStepUp(harness, { cookie: user.session.cookie });
    const second = await startStepUp(harness, { cookie: user.session.cookie });
    expect(second).toBe(first);
    expect(creates(harness)).toHaveLength(1);
  });

  it('counts an approved step-up for the settings gate and leaves the onboarding decision alone', async () => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const stale = await settingsGate(harness, user.identityId);
    expect(readAsKratos(stale.status, stale.text)).toMatchObject({ kind: 'interrupt', id: 4100006 });
    const before = record(harness, user.identityId);
    const inquiryId = await startStepUp(harness, { cookie: user.session.cookie });

    await decide(harness, inquiryId, 'approved');

    const after = record(harness, user.identityId);
    expect(after.purposes.step_up).toMatchObject({ inquiry_id: inquiryId, status: 'approved', outcome: 'approved' });
    expect(after.decision).toEqual(before.decision);
    expect(mirror(harness, user.identityId)).toMatchObject({
      status: 'approved',
      verified_at: before.decision.decided_at,
      step_up_verified_at: after.purposes.step_up.decided_at,
    });
    expect((await settingsGate(harness, user.identityId)).status).toBe(204);
    const back = await get(
      harness,
      '/persona/start',
      { cookie: user.session.cookie },
      { purpose: 'step_up', return_to: BACK },
    );
    expect(back.status).toBe(303);
    expect(back.headers['location']).toBe(BACK);
  });

  it('records and reports a declined step-up, and changes nothing else (ON_DECLINE included)', async () => {
    harness = await startHarness({ ...ENV, ON_DECLINE: 'revoke_sessions,deactivate' });
    const user = approvedUser(harness);
    const before = record(harness, user.identityId);
    const inquiryId = await startStepUp(harness, { cookie: user.session.cookie });

    await decide(harness, inquiryId, 'declined');

    const after = record(harness, user.identityId);
    expect(after.purposes.step_up).toMatchObject({ status: 'declined', outcome: 'declined' });
    expect(after.decision).toEqual(before.decision);
    expect(after.actions).toEqual(before.actions);
    expect(harness.kratos.identity(user.identityId)?.state).toBe('active');
    expect(harness.kratos.sessionActive(user.session.token)).toBe(true);
    expect(harness.kratos.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(harness.logs).toContainEqual(
      expect.objectContaining({
        msg: 'step-up verification declined',
        identity_id: user.identityId,
        purpose: 'step_up',
      }),
    );
    const status = await get(harness, '/persona/status', { cookie: user.session.cookie }, { purpose: 'step_up' });
    // Reported, and another step-up may follow at once.
    expect(status.body).toMatchObject({
      status: 'approved',
      verification_required: true,
      verify_url: 'https://idv.example.com/persona/start?purpose=step_up',
      step_up: { fresh: false, status: 'declined' },
    });
  });

  it('follows a declined step-up with a new one, even without ALLOW_RETRIES, so whoever failed on purpose locks nobody out', async () => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const thief = harness.kratos.createSession(user.identityId);
    const failed = await startStepUp(harness, { cookie: thief.cookie });
    await decide(harness, failed, 'declined');

    // Days later the owner, signed in, still needs a step-up to change the password, and gets one.
    harness.clock.now += 3 * 24 * 60 * MINUTE;
    const blocked = await settingsGate(harness, user.identityId);
    expect(readAsKratos(blocked.status, blocked.text)).toMatchObject({ kind: 'interrupt', id: 4100006 });
    const again = await startStepUp(harness, { cookie: user.session.cookie });

    expect(again).not.toBe(failed);
    expect(harness.persona.inquiry(again)?.templateId).toBe(STEP_UP_TEMPLATE_ID);
    expect(record(harness, user.identityId).purposes.step_up).toMatchObject({ inquiry_id: again, status: 'created' });
    await decide(harness, again, 'approved');
    expect((await settingsGate(harness, user.identityId)).status).toBe(204);
  });

  it('opens a step-up of its own template when the approval is due under REVERIFY_AFTER, never a re-verification', async () => {
    harness = await startHarness({ ...ENV, REVERIFY_AFTER: '30d' });
    const { identityId, inquiryId: onboarding } = harness.identityInState('approved', {
      decidedAgoMs: 40 * 24 * 60 * MINUTE,
    });
    const before = record(harness, identityId);

    const inquiryId = await startStepUp(harness, { cookie: harness.kratos.createSession(identityId).cookie });

    expect(harness.persona.inquiry(inquiryId)?.templateId).toBe(STEP_UP_TEMPLATE_ID);
    expect(record(harness, identityId)).toMatchObject({
      inquiry_id: onboarding,
      purposes: { step_up: { inquiry_id: inquiryId } },
      decision: before.decision,
    });
  });

  it('without a step-up template, offers none: never an inquiry of the identity’s own template', async () => {
    harness = await startHarness({ ...ENV, PERSONA_STEP_UP_TEMPLATE_ID: '', SUPPORT_URL: 'https://help.example.com' });
    const user = approvedUser(harness);
    const before = record(harness, user.identityId);

    const page = await get(harness, '/persona/start', { cookie: user.session.cookie }, { purpose: 'step_up' }).set(
      'Accept',
      'text/html',
    );

    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Verification not available</h1>');
    expect(page.text).toContain('<a href="https://help.example.com">Contact support</a>');
    expect(creates(harness)).toHaveLength(0);
    expect(record(harness, user.identityId)).toEqual(before);
    expect(harness.logs).toContainEqual(
      expect.objectContaining({ level: 40, msg: expect.stringContaining('PERSONA_STEP_UP_TEMPLATE_ID is unset') }),
    );
    const status = await get(harness, '/persona/status', { cookie: user.session.cookie }, { purpose: 'step_up' });
    expect(status.body).toMatchObject({ verification_required: false, verify_url: null, step_up: { fresh: false } });
    expect((await settingsGate(harness, user.identityId)).status).toBe(403);
  });

  it('sends an identity never verified to its own verification first', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const inquiryId = await startStepUp(harness, { cookie: harness.kratos.createSession(identity.id).cookie });
    expect(harness.persona.inquiry(inquiryId)?.templateId).toBe(TEMPLATE_ID);
    expect(record(harness, identity.id)).toMatchObject({ inquiry_id: inquiryId, purpose: 'onboarding' });
  });
});

describe('signed links carry their purpose', () => {
  it('opens a step-up with the link the settings gate gives a native app, and only a step-up', async () => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const blocked = await harness.postHook('/persona/settings?method=password', {
      identity_id: user.identityId,
      persona: mirror(harness, user.identityId),
      session_cookie: false,
    });
    const reading = readAsKratos(blocked.status, blocked.text);
    const link = new URL(String(reading.kind === 'interrupt' ? reading.context['verify_url'] : ''));
    const token = link.searchParams.get('token') as string;

    const asVerification = await get(harness, '/persona/start', { token });
    expect(asVerification.status).toBe(403);
    expect(asVerification.body).toMatchObject({ error: { code: 'link_purpose' } });

    const inquiryId = await startStepUp(harness, { token });
    expect(harness.persona.inquiry(inquiryId)?.templateId).toBe(STEP_UP_TEMPLATE_ID);
  });

  it('never opens a step-up with a verification link', async () => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const token = signStartToken(
      user.identityId,
      Math.floor(harness.clock.now / 1000) + 600,
      harness.config.start.linkSigningKeys[0] as Buffer,
    );
    const response = await get(harness, '/persona/start', { token }, { purpose: 'step_up' });
    expect(response.status).toBe(403);
    expect(creates(harness)).toHaveLength(0);
  });
});

describe('GET /persona/status?max_age', () => {
  it('answers whether an approval that fresh exists, and links to a step-up when not', async () => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const cookie = { cookie: user.session.cookie };

    const hour = await get(harness, '/persona/status', cookie, { max_age: '2h' });
    expect(hour.body).toMatchObject({
      status: 'approved',
      verification_required: false,
      verify_url: null,
      step_up: {
        fresh: true,
        max_age_seconds: 7_200,
        verified_at: record(harness, user.identityId).decision.decided_at,
      },
    });

    const tenMinutes = await get(harness, '/persona/status', cookie, { max_age: '10m', return_to: BACK });
    expect(tenMinutes.body).toMatchObject({
      verification_required: true,
      verify_url: `https://idv.example.com/persona/start?purpose=step_up&max_age=10m&return_to=${encodeURIComponent(BACK)}`,
      step_up: { fresh: false, max_age_seconds: 600, status: null },
    });
    expect(harness.persona.requests).toHaveLength(0);
    expect(harness.kratos.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);

    // The link it hands out honours the same max_age, so the application's check and start agree.
    const inquiryId = await startStepUp(harness, cookie, { max_age: '10m' });
    await decide(harness, inquiryId, 'approved');
    const fresh = await get(harness, '/persona/status', cookie, { max_age: '10m' });
    expect(fresh.body).toMatchObject({ verification_required: false, step_up: { fresh: true, status: 'approved' } });
  });

  it.each([['1s'], ['yesterday'], ['400d']])('refuses max_age=%s', async (maxAge) => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const response = await get(harness, '/persona/status', { cookie: user.session.cookie }, { max_age: maxAge });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: 'invalid_max_age' } });
  });

  it('refuses max_age for the identity’s own verification, and an unknown purpose', async () => {
    harness = await startHarness(ENV);
    const user = approvedUser(harness);
    const cookie = { cookie: user.session.cookie };
    expect((await get(harness, '/persona/status', cookie, { purpose: 'verification', max_age: '10m' })).status).toBe(
      400,
    );
    expect((await get(harness, '/persona/status', cookie, { purpose: 'recovery' })).status).toBe(400);
  });
});
