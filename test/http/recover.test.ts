import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { PERSONA_CALLS_PER_IDENTITY } from '../../src/http/personaEntries.js';
import { RECOVERIES_PER_IDENTIFIER } from '../../src/recovery/recoveryStarts.js';
import { sealRecoveryToken } from '../../src/security/recoveryToken.js';
import { credential, type Credentials } from '../../sandbox/kratosCredentials.js';
import type { ReferenceIds } from '../../sandbox/personaStandIn.js';
import { startWebhookReceiver } from '../../sandbox/webhookReceiver.js';
import {
  RECOVERY_TEMPLATE_ID,
  STEP_UP_TEMPLATE_ID,
  TEMPLATE_ID,
  startHarness,
  type Harness,
} from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const ENV = {
  PUBLIC_BASE_URL: 'https://idv.example.com',
  RETURN_TO_ALLOWLIST: 'https://app.example.com',
  RECOVERY_BY_VERIFICATION: 'true',
  PERSONA_RECOVERY_TEMPLATE_ID: RECOVERY_TEMPLATE_ID,
};
const HOSTED = 'https://inquiry.withpersona.com/verify';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Whether Persona's inquiries carry their reference id, or only their account does (2025-12-08 examples). */
const REFERENCE_MODES: ReferenceIds[] = ['echoed', 'on-account-only'];

/** An identity in `status` (approved a day ago) whose credentials carry `email` as identifier. */
function person(h: Harness, email: string, status = 'approved', extra: Credentials = {}) {
  const { identityId, inquiryId } = h.identityInState(status, { decidedAgoMs: 86_400_000 });
  const stored = h.kratos.identity(identityId);
  h.kratos.createIdentity({
    ...stored,
    traits: { email },
    credentials: { password: credential('password', [email]), ...extra },
  });
  return { identityId, inquiryId, session: h.kratos.createSession(identityId) };
}

const SECOND_FACTORS: Credentials = {
  totp: credential('totp'),
  lookup_secret: credential('lookup_secret'),
  webauthn: credential('webauthn', [], {
    credentials: [
      { id: 'key-second-factor', is_passwordless: false },
      { id: 'key-passwordless', is_passwordless: true },
    ],
  }),
};

/** The browser asks to recover the account of `identifier`. */
async function requestRecovery(h: Harness, identifier: string) {
  const response = await request(h.app)
    .post('/persona/recover')
    .set('Content-Type', 'application/x-www-form-urlencoded')
    .set('Accept', 'text/html')
    .set('Sec-Fetch-Site', 'same-origin')
    .send(new URLSearchParams({ identifier }).toString());
  const location = new URL(response.headers['location'] ?? 'http://none');
  const setCookie = String(response.headers['set-cookie'] ?? '');
  return {
    response,
    inquiryId: location.searchParams.get('inquiry-id') as string,
    redirectUri: location.searchParams.get('redirect-uri') as string,
    cookie: setCookie.split(';')[0] as string,
    setCookie,
  };
}

/** The person gives up in Persona's hosted flow; Persona sends the browser back with what it appends. */
async function failInPersona(h: Harness, started: { inquiryId: string; redirectUri: string }) {
  const back = await fetch(`${h.persona.hostedFlowUrl}/sandbox/inquiries/${started.inquiryId}/decline`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'redirect-uri': started.redirectUri }).toString(),
    redirect: 'manual',
  });
  return new URL(back.headers.get('location') ?? '').searchParams;
}

/** Persona sends the browser back to the service. */
const returnFromPersona = (h: Harness, cookie?: string, accept = 'application/json') => {
  const test = request(h.app).get('/persona/recover/return').set('Accept', accept);
  if (cookie !== undefined) test.set('Cookie', `theme=dark; ${cookie}`);
  return test;
};

const approve = (h: Harness, inquiryId: string) =>
  h.persona.simulate(inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
const codesCreated = (h: Harness) => h.kratos.requests.filter((r) => r.path === '/admin/recovery/code');
const record = (h: Harness, identityId: string) =>
  h.kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, any>;

describe('POST /persona/recover never tells whether the account exists', () => {
  it('answers a recoverable identity, an unknown identifier, an unverified and a declined identity alike', async () => {
    harness = await startHarness(ENV);
    person(harness, 'jane@example.com');
    person(harness, 'carl@example.com', 'pending');
    person(harness, 'dora@example.com', 'declined');

    const answers = [];
    for (const identifier of ['Jane@Example.com ', 'nobody@example.com', 'carl@example.com', 'dora@example.com']) {
      const kratosBefore = harness.kratos.requests.length;
      const personaBefore = harness.persona.requests.length;
      const { response, inquiryId, setCookie } = await requestRecovery(harness, identifier);
      const location = new URL(response.headers['location'] ?? '');
      answers.push({
        status: response.status,
        location: `${location.origin}${location.pathname}?${[...location.searchParams.keys()].join('&')}`,
        redirectUri: location.searchParams.get('redirect-uri'),
        inquiryIdLength: inquiryId.length,
        cookie: setCookie.replace(/=r1\.[A-Za-z0-9_-]+;/, (token) => `=<${token.length}>;`),
        body: response.text.replace(inquiryId, '<inquiry>'),
        calls: {
          kratos: harness.kratos.requests.slice(kratosBefore).map((r) => `${r.method} ${r.path}`),
          persona: harness.persona.requests.slice(personaBefore).map((r) => `${r.method} ${r.path}`),
        },
      });
    }

    expect(answers[0]).toEqual({
      status: 303,
      location: `${HOSTED}?inquiry-id&redirect-uri`,
      redirectUri: 'https://idv.example.com/persona/recover/return',
      inquiryIdLength: expect.any(Number),
      // __Host-: only this host, Path=/ and Secure, so a sibling subdomain cannot toss a cookie of its own.
      cookie: expect.stringMatching(
        /^__Host-persona_recovery=<\d+>; Path=\/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax$/,
      ),
      body: expect.any(String),
      calls: { kratos: ['GET /admin/identities'], persona: ['POST /api/v1/inquiries'] },
    });
    for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
    // Only the recoverable identity's inquiry belongs to its Persona account; the others to decoys
    // that look alike.
    const references = harness.persona
      .inquiries()
      .filter((i) => i.templateId === RECOVERY_TEMPLATE_ID)
      .map((i) => i.referenceId);
    const identities = new Set(harness.kratos.identities().map((identity) => identity.id));
    expect(references.map((reference) => identities.has(reference as string))).toEqual([true, false, false, false]);
    for (const reference of references) expect(reference).toMatch(UUID);
    expect(new Set(references).size).toBe(4);
  });

  it('comes back from Persona with a reference id either way, the same one on every try', async () => {
    harness = await startHarness(ENV);
    const jane = person(harness, 'jane@example.com');
    const returned: Record<string, string[]> = {};
    let decoyInquiry = '';
    for (const identifier of ['jane@example.com', 'nobody@example.com', 'Jane@example.com', ' NOBODY@example.com']) {
      const started = await requestRecovery(harness, identifier);
      const back = await failInPersona(harness, started);
      const key = identifier.trim().toLowerCase();
      returned[key] = [...(returned[key] ?? []), back.get('reference-id') as string];
      if (key === 'nobody@example.com') decoyInquiry = started.inquiryId;
    }
    const [known, unknown] = [returned['jane@example.com'] ?? [], returned['nobody@example.com'] ?? []];
    expect(known).toEqual([jane.identityId, jane.identityId]);
    expect(unknown).toEqual([expect.stringMatching(UUID), unknown[0]]);
    expect(unknown[0]).not.toBe(jane.identityId);
    // The decoy's webhooks name no identity, and are acknowledged.
    await harness.postEvent(harness.persona.eventFor(decoyInquiry, 'inquiry.declined')).expect(200);
    expect(harness.logs).toContainEqual(expect.objectContaining({ outcome: 'ignored', reason: 'unknown_identity' }));
  });

  it('opens at most RECOVERY_INQUIRIES_PER_MINUTE inquiries a minute, for every identifier alike (429)', async () => {
    harness = await startHarness({ ...ENV, RECOVERY_INQUIRIES_PER_MINUTE: '3', HOST: '127.0.0.1' });
    person(harness, 'jane@example.com');
    const statuses = [];
    for (const identifier of ['a@example.com', 'jane@example.com', 'b@example.com']) {
      statuses.push((await requestRecovery(harness, identifier)).response.status);
    }
    const kratosBefore = harness.kratos.requests.length;
    const personaBefore = harness.persona.requests.length;
    const refused = await requestRecovery(harness, 'jane@example.com');

    expect(statuses).toEqual([303, 303, 303]);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers['retry-after']).toBe('20');
    expect(refused.response.text).toContain('Please wait a moment');
    expect(refused.setCookie).toBe('');
    expect(harness.kratos.requests.length).toBe(kratosBefore);
    expect(harness.persona.requests.length).toBe(personaBefore);
    const metrics = await request(harness.app).get('/metrics');
    expect(metrics.text).toContain('recovery_by_verification_total{result="rate_limited"} 1');
    // One more every 20 seconds.
    harness.clock.now += 20_000;
    expect((await requestRecovery(harness, 'jane@example.com')).response.status).toBe(303);
    expect((await requestRecovery(harness, 'jane@example.com')).response.status).toBe(429);
  });

  it('starts three recoveries of one identifier, then one a minute, answering alike whether it names an account', async () => {
    harness = await startHarness(ENV);
    person(harness, 'jane@example.com');
    const answers = async (identifiers: string[]) => {
      const statuses: number[] = [];
      for (const identifier of identifiers) statuses.push((await requestRecovery(harness, identifier)).response.status);
      return statuses;
    };
    // Kratos's normalisation: case and surrounding spaces name the same identifier.
    expect(await answers(['jane@example.com', 'Jane@Example.com', ' jane@example.com '])).toEqual([303, 303, 303]);
    expect(await answers(['nobody@example.com', 'NOBODY@example.com', 'nobody@example.com'])).toEqual([303, 303, 303]);
    const kratosBefore = harness.kratos.requests.length;
    const personaBefore = harness.persona.requests.length;

    const known = (await requestRecovery(harness, 'jane@example.com')).response;
    const unknown = (await requestRecovery(harness, 'nobody@example.com')).response;

    for (const refused of [known, unknown]) {
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('60');
      expect(refused.headers['set-cookie']).toBeUndefined();
    }
    expect(known.text).toBe(unknown.text);
    expect(harness.kratos.requests.length).toBe(kratosBefore);
    expect(harness.persona.requests.length).toBe(personaBefore);
    // Others are not held up, and the identifier gets one more a minute later.
    expect(await answers(['someone.else@example.com'])).toEqual([303]);
    harness.clock.now += 60_000;
    expect(await answers(['jane@example.com', 'jane@example.com'])).toEqual([303, 429]);
  });

  it('reads Persona for one recovery cookie within the inquiry’s limit of calls, however often it comes back', async () => {
    harness = await startHarness(ENV);
    const started = await requestRecovery(harness, 'nobody@example.com');
    const reads = () => harness.persona.requests.filter((r) => r.method === 'GET').length;

    const statuses: number[] = [];
    for (let call = 0; call < 50; call += 1) statuses.push((await returnFromPersona(harness, started.cookie)).status);

    expect(reads()).toBe(PERSONA_CALLS_PER_IDENTITY.burst);
    expect(statuses.slice(0, PERSONA_CALLS_PER_IDENTITY.burst)).toEqual([303, 303, 303, 303, 303]);
    expect(new Set(statuses.slice(PERSONA_CALLS_PER_IDENTITY.burst))).toEqual(new Set([429]));
    harness.clock.now += PERSONA_CALLS_PER_IDENTITY.refillMs;
    expect((await returnFromPersona(harness, started.cookie)).status).toBe(303);
    expect(reads()).toBe(PERSONA_CALLS_PER_IDENTITY.burst + 1);
  });

  it('takes about as long for an unknown identifier as for a recoverable identity', async () => {
    harness = await startHarness({ ...ENV, RECOVERY_INQUIRIES_PER_MINUTE: '1000' });
    person(harness, 'jane@example.com');
    const timings: Record<string, number[]> = { known: [], unknown: [] };
    for (let round = 0; round < 20; round += 1) {
      // Jane's own limit has room again: both do the whole work.
      harness.clock.now += RECOVERIES_PER_IDENTIFIER.refillMs;
      const pair = [
        ['known', 'jane@example.com'],
        ['unknown', `nobody-${round}@example.com`],
      ] as const;
      // Alternating which goes first, so neither gains from what the other warmed up.
      for (const [kind, identifier] of round % 2 === 0 ? pair : [...pair].reverse()) {
        const started = performance.now();
        await requestRecovery(harness, identifier);
        timings[kind]?.push(performance.now() - started);
      }
    }
    const median = (values: number[] = []) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const ratio = median(timings['known']) / median(timings['unknown']);
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });
});

describe.each(REFERENCE_MODES)('recovery by verification, end to end (reference ids %s)', (referenceIds) => {
  it('issues one code for an approved inquiry: second factors removed, sessions revoked, recorded', async () => {
    harness = await startHarness({ ...ENV, RECOVERY_REMOVE_SECOND_FACTORS: 'true' }, { referenceIds });
    const jane = person(harness, 'jane@example.com', 'approved', SECOND_FACTORS);
    const standing = record(harness, jane.identityId).decision;
    const { cookie, inquiryId } = await requestRecovery(harness, 'jane@example.com');
    expect(harness.persona.inquiry(inquiryId)).toMatchObject({
      referenceId: jane.identityId,
      templateId: RECOVERY_TEMPLATE_ID,
      fields: {},
    });
    approve(harness, inquiryId);

    const done = await returnFromPersona(harness, cookie);

    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      status: 'code_issued',
      recovery_code: expect.stringMatching(/^\d{6}$/),
      recovery_link: expect.stringMatching(/\/sandbox\/recovery\?flow=[0-9a-f-]{36}$/),
      expires_at: expect.any(String),
    });
    expect(codesCreated(harness).map((r) => r.body)).toEqual([{ identity_id: jane.identityId, expires_in: '10m' }]);
    expect(Object.keys(harness.kratos.identity(jane.identityId)?.credentials ?? {}).sort()).toEqual([
      'password',
      'webauthn',
    ]);
    expect(harness.kratos.identity(jane.identityId)?.credentials['webauthn']?.config.credentials).toEqual([
      { id: 'key-passwordless', is_passwordless: true },
    ]);
    expect(harness.kratos.sessionActive(jane.session.token)).toBe(false);
    expect(record(harness, jane.identityId)).toMatchObject({
      decision: standing,
      purposes: { recovery: { inquiry_id: inquiryId, status: 'approved', outcome: 'approved' } },
      recovery_code: {
        inquiry_id: inquiryId,
        inquiry_created_at: harness.persona.inquiry(inquiryId)?.createdAt,
        decided_at: expect.any(String),
        issued_at: expect.any(String),
        second_factors_removed: true,
      },
      actions: { sessions_revoked_at: expect.any(String), pending: [] },
    });
    expect(done.headers['set-cookie']).toEqual([
      '__Host-persona_recovery=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax',
    ]);
    expect(harness.logs).toContainEqual(
      expect.objectContaining({
        msg: 'recovery by verification: recovery code issued, sessions revoked',
        identity_id: jane.identityId,
      }),
    );
    expect(harness.logText()).not.toContain(done.body.recovery_code);
    expect(harness.logText()).not.toContain('jane@example.com');

    // A second return with the same browser mints no second code.
    const again = await returnFromPersona(harness, cookie);
    expect(again.body).toEqual({ status: 'already_issued' });
    expect(codesCreated(harness)).toHaveLength(1);

    // The code recovers the account through Kratos's recovery flow (its recovery.after hook is the
    // login gate), and the recovery's approval is fresh enough to set a new password.
    await harness.serve();
    const flowId = new URL(done.body.recovery_link).searchParams.get('flow') as string;
    const recovered = await harness.kratos.recover(flowId, done.body.recovery_code);
    expect(recovered).toMatchObject({ kind: 'recovered', hook: { status: 204 } });
    const session = recovered.kind === 'recovered' ? recovered.session.token : '';
    expect(await harness.kratos.changeSettings(session, { method: 'password' })).toMatchObject({ saved: true });
  });

  it('shows the code on a page to a browser', async () => {
    harness = await startHarness(ENV, { referenceIds });
    person(harness, 'jane@example.com');
    const { cookie, inquiryId } = await requestRecovery(harness, 'jane@example.com');
    approve(harness, inquiryId);
    const page = await returnFromPersona(harness, cookie, 'text/html');
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toMatch(/<h1>Your recovery code<\/h1>[\s\S]*<p><strong>\d{6}<\/strong><\/p>/);
    expect(page.text).toMatch(/<a href="http:\/\/127\.0\.0\.1:\d+\/sandbox\/recovery\?flow=[0-9a-f-]+">Continue<\/a>/);
  });

  it('refuses an identity without an approved verification, after the same verification', async () => {
    harness = await startHarness(ENV, { referenceIds });
    const carl = person(harness, 'carl@example.com', 'pending');
    const before = harness.kratos.identity(carl.identityId);
    const { cookie, inquiryId } = await requestRecovery(harness, 'carl@example.com');
    approve(harness, inquiryId);

    const done = await returnFromPersona(harness, cookie);

    expect(done.body).toEqual({ status: 'not_recovered' });
    expect(codesCreated(harness)).toHaveLength(0);
    expect(harness.kratos.identity(carl.identityId)).toEqual(before);
    expect(harness.kratos.sessionActive(carl.session.token)).toBe(true);
  });

  it('never issues a code for an approval of an inquiry opened for another identity', async () => {
    harness = await startHarness(ENV, { referenceIds });
    const jane = person(harness, 'jane@example.com');
    person(harness, 'eve@example.com');
    const eve = await requestRecovery(harness, 'eve@example.com');
    approve(harness, eve.inquiryId);
    // Even a token naming Jane with Eve's approved inquiry (which only this service could seal) is refused.
    const forged = sealRecoveryToken(
      {
        identityId: jane.identityId,
        inquiryId: eve.inquiryId,
        expiresAtSeconds: Math.floor(harness.clock.now / 1000) + 600,
      },
      harness.config.start.linkSigningKeys[0] as Buffer,
    );

    const done = await returnFromPersona(harness, `__Host-persona_recovery=${forged}`);

    expect(done.body).toEqual({ status: 'not_recovered' });
    expect(codesCreated(harness)).toHaveLength(0);
    expect(record(harness, jane.identityId).purposes.recovery).toBeUndefined();
    expect(harness.logs).toContainEqual(
      expect.objectContaining({ msg: 'recovery by verification refused', reason: 'not_our_inquiry' }),
    );
  });

  it('issues the owner’s code although an outsider opened a newer recovery for the same email, and counts it for step-up', async () => {
    harness = await startHarness({ ...ENV, PERSONA_STEP_UP_TEMPLATE_ID: STEP_UP_TEMPLATE_ID }, { referenceIds });
    await harness.serve();
    const jane = person(harness, 'jane@example.com');
    const owner = await requestRecovery(harness, 'jane@example.com');
    // The outsider types Jane's email and merely opens Persona's flow: a newer recovery inquiry.
    const outsider = await requestRecovery(harness, 'jane@example.com');
    harness.persona.simulate(outsider.inquiryId, ['start_inquiry']);
    await harness.postEvent(harness.persona.eventFor(outsider.inquiryId, 'inquiry.started')).expect(200);
    expect(record(harness, jane.identityId).purposes.recovery).toMatchObject({ inquiry_id: outsider.inquiryId });
    approve(harness, owner.inquiryId);

    const done = await returnFromPersona(harness, owner.cookie);

    expect(done.body).toMatchObject({ status: 'code_issued' });
    expect(codesCreated(harness)).toHaveLength(1);
    const after = record(harness, jane.identityId);
    expect(after.purposes.recovery).toMatchObject({ inquiry_id: outsider.inquiryId, status: 'pending' });
    expect(after.recovery_code).toMatchObject({ inquiry_id: owner.inquiryId });
    // The approval that issued the code is a fresh verification: the new password is not blocked.
    const mirror = harness.kratos.identity(jane.identityId)?.metadata_public?.['persona'] as Record<string, unknown>;
    expect(mirror['step_up_verified_at']).toBe(after.recovery_code.decided_at);
    const flowId = new URL(done.body.recovery_link).searchParams.get('flow') as string;
    const recovered = await harness.kratos.recover(flowId, done.body.recovery_code);
    const session = recovered.kind === 'recovered' ? recovered.session.token : '';
    expect(await harness.kratos.changeSettings(session, { method: 'password' })).toMatchObject({ saved: true });
  });

  it('issues one code per recovery: none for an inquiry created before the one a code was issued for', async () => {
    harness = await startHarness(ENV, { referenceIds });
    person(harness, 'jane@example.com');
    const first = await requestRecovery(harness, 'jane@example.com');
    harness.clock.now += 1_000;
    const second = await requestRecovery(harness, 'jane@example.com');
    approve(harness, second.inquiryId);
    expect((await returnFromPersona(harness, second.cookie)).body).toMatchObject({ status: 'code_issued' });
    approve(harness, first.inquiryId);

    expect((await returnFromPersona(harness, first.cookie)).body).toEqual({ status: 'not_recovered' });
    expect(codesCreated(harness)).toHaveLength(1);
    expect(harness.logs).toContainEqual(
      expect.objectContaining({ msg: 'recovery by verification refused', reason: 'superseded' }),
    );
  });

  it('mints one code for two returns at once', async () => {
    harness = await startHarness(ENV, { referenceIds });
    person(harness, 'jane@example.com');
    const { cookie, inquiryId } = await requestRecovery(harness, 'jane@example.com');
    approve(harness, inquiryId);
    const answers = await Promise.all([returnFromPersona(harness, cookie), returnFromPersona(harness, cookie)]);
    expect(answers.map((answer) => answer.body.status).sort()).toEqual(['already_issued', 'code_issued']);
    expect(codesCreated(harness)).toHaveLength(1);
  });

  it('refuses while the account holds a verification the service did not open, which the template might compare with', async () => {
    harness = await startHarness(ENV, { referenceIds });
    const jane = person(harness, 'jane@example.com');
    // A stranger opened the onboarding template's link with Jane's id and passed with their own documents.
    harness.persona.addInquiry({ referenceId: jane.identityId, templateId: TEMPLATE_ID, status: 'approved' });
    // Merely opened, another holds no capture: it changes nothing.
    harness.persona.addInquiry({ referenceId: jane.identityId, templateId: RECOVERY_TEMPLATE_ID, status: 'created' });
    const { cookie, inquiryId } = await requestRecovery(harness, 'jane@example.com');
    approve(harness, inquiryId);

    expect((await returnFromPersona(harness, cookie)).body).toEqual({ status: 'not_recovered' });
    expect(codesCreated(harness)).toHaveLength(0);
    expect(harness.kratos.sessionActive(jane.session.token)).toBe(true);
    expect(harness.logs).toContainEqual(
      expect.objectContaining({ msg: 'recovery by verification refused', reason: 'foreign_verification' }),
    );
  });

  it('gives the code only to the browser that went through the inquiry', async () => {
    harness = await startHarness(ENV, { referenceIds });
    person(harness, 'jane@example.com');
    const { inquiryId } = await requestRecovery(harness, 'jane@example.com');
    approve(harness, inquiryId);

    const elsewhere = await returnFromPersona(harness);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body).toEqual({ status: 'expired' });
    harness.clock.now += 3_601_000;
    expect((await returnFromPersona(harness, '__Host-persona_recovery=r1.tampered')).status).toBe(400);
    expect(codesCreated(harness)).toHaveLength(0);
  });

  it('records a declined recovery inquiry and changes nothing else: no ON_DECLINE, no lock-out', async () => {
    harness = await startHarness({ ...ENV, ON_DECLINE: 'revoke_sessions,deactivate' }, { referenceIds });
    const jane = person(harness, 'jane@example.com');
    const before = record(harness, jane.identityId);
    const { cookie, inquiryId } = await requestRecovery(harness, 'jane@example.com');
    harness.persona.simulate(inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);

    await harness.postEvent(harness.persona.eventFor(inquiryId, 'inquiry.declined')).expect(200);

    const after = record(harness, jane.identityId);
    expect(after.purposes.recovery).toMatchObject({ inquiry_id: inquiryId, status: 'declined', outcome: 'declined' });
    expect(after.decision).toEqual(before.decision);
    expect(after.actions).toEqual(before.actions);
    expect(harness.kratos.identity(jane.identityId)?.state).toBe('active');
    expect(harness.kratos.sessionActive(jane.session.token)).toBe(true);
    expect(harness.logs).toContainEqual(
      expect.objectContaining({ msg: 'recovery verification declined', identity_id: jane.identityId }),
    );
    expect((await returnFromPersona(harness, cookie)).body).toEqual({ status: 'not_recovered' });
    const login = await harness.postHook('/persona/validate', {
      identity_id: jane.identityId,
      persona: harness.kratos.identity(jane.identityId)?.metadata_public?.['persona'],
    });
    expect(login.status).toBe(204);
  });

  it('never blocks through the mirror for a declined recovery when the record cannot be interpreted', async () => {
    harness = await startHarness(ENV, { referenceIds });
    const jane = person(harness, 'jane@example.com');
    const { inquiryId } = await requestRecovery(harness, 'jane@example.com');
    const stored = harness.kratos.identity(jane.identityId);
    harness.kratos.createIdentity({ ...stored, metadata_admin: { persona: { broken: true } } });
    harness.persona.simulate(inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);

    await harness.postEvent(harness.persona.eventFor(inquiryId, 'inquiry.declined')).expect(503);

    expect(harness.kratos.identity(jane.identityId)?.metadata_public).toEqual(stored?.metadata_public);
    expect(harness.kratos.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });

  it('sends an unfinished verification back to Persona, and asks to wait while it is decided', async () => {
    harness = await startHarness(ENV, { referenceIds });
    person(harness, 'jane@example.com');
    const { cookie, inquiryId } = await requestRecovery(harness, 'jane@example.com');

    const created = await returnFromPersona(harness, cookie);
    expect(created.status).toBe(303);
    expect(new URL(created.headers['location'] ?? '').searchParams.get('inquiry-id')).toBe(inquiryId);

    harness.persona.simulate(inquiryId, ['start_inquiry', 'complete_inquiry']);
    expect((await returnFromPersona(harness, cookie)).body).toEqual({ status: 'checking' });
    expect(codesCreated(harness)).toHaveLength(0);
  });
});

describe('the recovery pages', () => {
  it('serve a form whose answer may redirect to Persona, and refuse a cross-site post', async () => {
    harness = await startHarness(ENV);
    const form = await request(harness.app).get('/persona/recover').set('Accept', 'text/html');
    expect(form.status).toBe(200);
    expect(form.text).toContain('<form method="post" action="/persona/recover">');
    expect(form.text).toContain('name="identifier"');
    expect(form.headers['content-security-policy']).toContain("form-action 'self' https://inquiry.withpersona.com");

    const crossSite = await request(harness.app)
      .post('/persona/recover')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Sec-Fetch-Site', 'cross-site')
      .send('identifier=jane%40example.com');
    expect(crossSite.status).toBe(403);
    expect(harness.persona.requests).toHaveLength(0);
  });

  it('speak the browser’s language', async () => {
    harness = await startHarness(ENV);
    const form = await request(harness.app)
      .get('/persona/recover')
      .set('Accept', 'text/html')
      .set('Accept-Language', 'de');
    expect(form.text).toContain('<h1>Konto wiederherstellen</h1>');
    expect(form.text).toContain('Weiter zur Überprüfung');
  });

  it('refuse an empty identifier and a JSON body', async () => {
    harness = await startHarness(ENV);
    const empty = await request(harness.app)
      .post('/persona/recover')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('identifier=%20');
    expect(empty.status).toBe(400);
    const json = await request(harness.app).post('/persona/recover').set('Content-Type', 'application/json').send('{}');
    expect(json.status).toBe(415);
    expect(harness.kratos.requests).toHaveLength(0);
  });

  it('do not exist unless RECOVERY_BY_VERIFICATION=true', async () => {
    harness = await startHarness({ PUBLIC_BASE_URL: 'https://idv.example.com' });
    expect((await request(harness.app).get('/persona/recover')).status).toBe(404);
    expect((await request(harness.app).get('/persona/recover/return')).status).toBe(404);
  });
});

describe('recovery by verification, told', () => {
  it('is one recovery.completed to the webhook receivers, however often the browser returns', async () => {
    const secret = `whsec_${Buffer.from('recovery-test-signing-secret-32b').toString('base64')}`;
    const receiver = await startWebhookReceiver({ secret });
    try {
      harness = await startHarness({
        ...ENV,
        NOTIFY_WEBHOOK_URLS: receiver.endpoint,
        NOTIFY_WEBHOOK_SECRET: secret,
        NOTIFY_EVENTS: 'recovery.completed',
      });
      const jane = person(harness, 'jane@example.com');
      const { cookie, inquiryId } = await requestRecovery(harness, 'jane@example.com');
      approve(harness, inquiryId);
      expect((await returnFromPersona(harness, cookie)).body).toMatchObject({ status: 'code_issued' });
      expect((await returnFromPersona(harness, cookie)).body).toEqual({ status: 'already_issued' });
      await harness.notifications.relay.runOnce();

      expect(receiver.verified.map((webhook) => webhook.body)).toEqual([
        {
          type: 'recovery.completed',
          timestamp: record(harness, jane.identityId)['recovery_code'].issued_at,
          data: expect.objectContaining({
            identity_id: jane.identityId,
            inquiry_id: inquiryId,
            purpose: 'recovery',
            status: 'approved',
            standing_decision: expect.objectContaining({ outcome: 'approved' }),
          }),
        },
      ]);
    } finally {
      await receiver.close();
    }
  });
});
