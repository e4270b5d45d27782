import { once } from 'node:events';
import { createServer, get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReferenceIds } from '../../sandbox/personaStandIn.js';
import { serviceNote } from '../../src/persona/inquiry.js';
import { signStartToken } from '../../src/security/signedLink.js';
import { TEMPLATE_ID, startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const DAY = 86_400_000;
const HOSTED = 'https://inquiry.withpersona.com/verify';
const ENV = {
  PUBLIC_BASE_URL: 'https://idv.example.com',
  RETURN_TO_ALLOWLIST: 'https://app.example.com',
  DEFAULT_RETURN_TO: 'https://app.example.com/home',
};

type Credentials = { cookie: string } | { sessionToken: string } | { token: string };

/** GET /persona/start as a browser (HTML) with the given credentials. */
function start(h: Harness, credentials: Credentials, query: Record<string, string> = {}, accept = 'text/html') {
  const params = new URLSearchParams(query);
  if ('token' in credentials) params.set('token', credentials.token);
  const test = request(h.app)
    .get(`/persona/start${params.size > 0 ? `?${params}` : ''}`)
    .set('Accept', accept);
  if ('cookie' in credentials) test.set('Cookie', `theme=dark; ${credentials.cookie}`);
  if ('sessionToken' in credentials) test.set('X-Session-Token', credentials.sessionToken);
  return test;
}

const signedIn = (h: Harness, identityId: string) => ({ cookie: h.kratos.createSession(identityId).cookie });
const personaCalls = (h: Harness) => h.persona.requests.map((r) => `${r.method} ${r.path}`);
const record = (h: Harness, identityId: string) =>
  h.kratos.identity(identityId)?.metadata_admin?.['persona'] as Record<string, unknown> | undefined;

/** A GET whose path goes out exactly as written. */
async function rawGet(h: Harness, path: string, headers: Record<string, string>) {
  const server = createServer(h.app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      httpGet({ host: '127.0.0.1', port, path, headers }, resolve).on('error', reject),
    );
    let text = '';
    for await (const chunk of response) text += String(chunk);
    return { status: response.statusCode, text, headers: response.headers };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const location = (response: { headers: Record<string, string> }) => new URL(response.headers['location'] ?? '');

describe('GET /persona/start: each state', () => {
  it('creates the inquiry for an identity without one, records it, and redirects to the hosted flow', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();

    const response = await start(harness, signedIn(harness, identity.id), {
      return_to: 'https://app.example.com/after',
    });

    expect(response.status).toBe(303);
    const [inquiry] = harness.persona.inquiries();
    expect(inquiry?.referenceId).toBe(identity.id);
    expect(location(response).origin + location(response).pathname).toBe(HOSTED);
    expect(Object.fromEntries(location(response).searchParams)).toEqual({
      'inquiry-id': inquiry?.id,
      'redirect-uri': 'https://app.example.com/after',
    });
    expect(record(harness, identity.id)).toMatchObject({ inquiry_id: inquiry?.id, status: 'created' });
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });

  it('opens a created inquiry by its id without calling Persona', async () => {
    harness = await startHarness(ENV);
    const { identityId, inquiryId } = harness.identityInState('created');
    const response = await start(harness, signedIn(harness, identityId));
    expect(response.status).toBe(303);
    expect(location(response).searchParams.get('inquiry-id')).toBe(inquiryId);
    expect(personaCalls(harness)).toEqual([]);
  });

  it('hands a pending inquiry over with a one-time link of explicit expiry', async () => {
    harness = await startHarness(ENV);
    const { identityId, inquiryId } = harness.identityInState('pending');
    const response = await start(harness, signedIn(harness, identityId));
    expect(response.status).toBe(303);
    expect(personaCalls(harness)).toEqual([`POST /api/v1/inquiries/${inquiryId}/generate-one-time-link`]);
    expect(harness.persona.requests[0]?.body).toEqual({ meta: { 'expires-in-seconds': 900 } });
    expect(location(response).pathname).toBe('/verify');
    expect(location(response).searchParams.get('code')).toMatch(/^otl_/);
    expect(location(response).searchParams.get('redirect-uri')).toBe('https://app.example.com/home');
  });

  it('resumes an expired inquiry and continues with its session token', async () => {
    harness = await startHarness(ENV);
    const { identityId, inquiryId } = harness.identityInState('expired');
    const response = await start(harness, signedIn(harness, identityId));
    expect(response.status).toBe(303);
    expect(personaCalls(harness)).toEqual([`POST /api/v1/inquiries/${inquiryId}/resume`]);
    expect(location(response).searchParams.get('inquiry-id')).toBe(inquiryId);
    expect(location(response).searchParams.get('session-token')).toMatch(/^pst_/);
    expect(harness.persona.inquiry(inquiryId)?.status).toBe('pending');
  });

  it('sends an approved user straight back', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('approved');
    const response = await start(harness, signedIn(harness, identityId), { return_to: 'https://app.example.com/x' });
    expect(response.status).toBe(303);
    expect(response.headers['location']).toBe('https://app.example.com/x');
    expect(personaCalls(harness)).toEqual([]);
  });

  it('tells an approved user they are verified when there is nowhere to go back to', async () => {
    harness = await startHarness();
    const { identityId } = harness.identityInState('approved');
    const response = await start(harness, signedIn(harness, identityId), {}, 'application/json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'approved',
      inquiry_status: 'approved',
      verification_required: false,
      verify_url: null,
    });
  });

  it.each(['completed', 'needs_review'])(
    'tells a %s user the result is pending, as a page or as JSON',
    async (status) => {
      harness = await startHarness(ENV);
      const { identityId } = harness.identityInState(status);
      const page = await start(harness, signedIn(harness, identityId));
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('<h1>Verification in review</h1>');
      const json = await start(harness, signedIn(harness, identityId), {}, 'application/json');
      expect(json.body).toEqual({ status, inquiry_status: status, verification_required: false, verify_url: null });
      expect(personaCalls(harness)).toEqual([]);
    },
  );

  it('tells a declined user so, without a new attempt', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('declined');
    const response = await start(harness, signedIn(harness, identityId));
    expect(response.status).toBe(200);
    expect(response.text).toContain('<h1>Verification declined</h1>');
    expect(personaCalls(harness)).toEqual([]);
  });

  it('tells a failed user so, without a new attempt', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('failed');
    const response = await start(harness, signedIn(harness, identityId), {}, 'application/json');
    expect(response.body).toMatchObject({ status: 'failed', verification_required: false });
    expect(personaCalls(harness)).toEqual([]);
  });

  it.each(['declined', 'failed'])(
    'opens a new inquiry after %s when retries are allowed, keeping the old in history',
    async (status) => {
      harness = await startHarness({ ...ENV, ALLOW_RETRIES: 'true' });
      const { identityId, inquiryId } = harness.identityInState(status, { decidedAgoMs: DAY });
      const response = await start(harness, signedIn(harness, identityId));
      expect(response.status).toBe(303);
      const created = harness.persona.inquiries().find((inquiry) => inquiry.id !== inquiryId);
      expect(location(response).searchParams.get('inquiry-id')).toBe(created?.id);
      expect(record(harness, identityId)).toMatchObject({
        inquiry_id: created?.id,
        status: 'created',
        history: [{ inquiry_id: inquiryId, status }],
      });
    },
  );
});

describe('GET /persona/start: re-verification', () => {
  it('keeps an approval exactly as old as REVERIFY_AFTER, and renews one a moment older', async () => {
    harness = await startHarness({ ...ENV, REVERIFY_AFTER: '365d' });
    const { identityId, inquiryId } = harness.identityInState('approved', { decidedAgoMs: 365 * DAY });

    const fresh = await start(harness, signedIn(harness, identityId));
    expect(fresh.headers['location']).toBe('https://app.example.com/home');

    harness.clock.now += 1;
    const due = await start(harness, signedIn(harness, identityId));
    expect(due.status).toBe(303);
    const renewed = record(harness, identityId);
    expect(renewed?.['inquiry_id']).not.toBe(inquiryId);
    expect(renewed).toMatchObject({
      status: 'created',
      purpose: 'reverification',
      history: [{ inquiry_id: inquiryId, status: 'approved' }],
      decision: { outcome: 'approved', inquiry_id: inquiryId },
    });
    // The old approval still stands (and is still too old for the gate) until the new one decides.
    const approvedAt = (renewed?.['decision'] as { decided_at: string }).decided_at;
    expect(harness.kratos.identity(identityId)?.metadata_public?.['persona']).toEqual({
      status: 'approved',
      verified_at: approvedAt,
      inquiry_status: 'created',
      step_up_verified_at: null,
      reverification_required: false,
    });
    const again = await start(harness, signedIn(harness, identityId));
    expect(location(again).searchParams.get('inquiry-id')).toBe(renewed?.['inquiry_id']);
  });
});

describe('GET /persona/start: who is asking', () => {
  it('accepts a native app session token', async () => {
    harness = await startHarness(ENV);
    const { identityId, inquiryId } = harness.identityInState('created');
    const response = await start(harness, { sessionToken: harness.kratos.createSession(identityId).token });
    expect(response.status).toBe(303);
    expect(location(response).searchParams.get('inquiry-id')).toBe(inquiryId);
    const whoami = harness.kratos.public.requests.find((r) => r.path === '/sessions/whoami');
    expect(whoami?.headers['x-session-token']).toBeDefined();
  });

  it('forwards the browser cookies to toSession', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('created');
    const { cookie } = harness.kratos.createSession(identityId);
    await start(harness, { cookie });
    expect(harness.kratos.public.requests.find((r) => r.path === '/sessions/whoami')?.headers['cookie']).toBe(
      `theme=dark; ${cookie}`,
    );
  });

  it('never follows a redirect of the session check: KRATOS_PUBLIC_URL at the admin port is an error naming it', async () => {
    // Unset, KRATOS_PUBLIC_URL falls back to KRATOS_ADMIN_URL, whose whoami answers 307 to the
    // public API; following it would drop the cookie, and the browser would get a silent 401.
    harness = await startHarness({ ...ENV, KRATOS_PUBLIC_URL: undefined });
    const { identityId } = harness.identityInState('created');
    const session = harness.kratos.createSession(identityId);

    const response = await start(harness, { cookie: session.cookie });

    expect(response.status).toBe(503);
    expect(harness.kratos.requests.find((r) => r.path === '/sessions/whoami')?.status).toBe(307);
    expect(harness.kratos.public.requests).toHaveLength(0);
    const logged = harness.logs.find((line) => line['level'] === 50);
    expect(logged?.['msg']).toContain('KRATOS_PUBLIC_URL');
    expect(harness.logText()).not.toContain(session.token);
  });

  it('accepts the signed link from a login block message', async () => {
    harness = await startHarness({ ...ENV, LOGIN_POLICY: 'require-approved' });
    const { identityId, inquiryId } = harness.identityInState('created');
    const blocked = await harness.postHook('/persona/validate', {
      identity_id: identityId,
      persona: { status: 'created', verified_at: null },
      return_to: 'https://app.example.com/dashboard',
    });
    const link = new URL(blocked.body.messages[0].messages[0].context.verify_url);
    expect(link.origin + link.pathname).toBe('https://idv.example.com/persona/start');

    const response = await request(harness.app)
      .get(link.pathname + link.search)
      .set('Accept', 'text/html');

    expect(response.status).toBe(303);
    expect(location(response).searchParams.get('inquiry-id')).toBe(inquiryId);
    expect(location(response).searchParams.get('redirect-uri')).toBe('https://app.example.com/dashboard');
    expect(harness.kratos.public.requests.some((r) => r.path === '/sessions/whoami')).toBe(false);
  });

  it.each([
    ['no credentials', {}],
    ['an unknown session cookie', { cookie: 'ory_kratos_session=ory_st_forged' }],
    ['an unknown session token', { sessionToken: 'ory_st_forged' }],
  ])('refuses %s with 401 and changes nothing', async (_name, credentials) => {
    harness = await startHarness(ENV);
    harness.kratos.createIdentity();
    const test = request(harness.app).get('/persona/start').set('Accept', 'application/json');
    if ('cookie' in credentials) test.set('Cookie', credentials.cookie);
    if ('sessionToken' in credentials) test.set('X-Session-Token', credentials.sessionToken);
    const response = await test;
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthenticated');
    expect(harness.persona.requests).toHaveLength(0);
  });

  it('refuses a session still waiting for its second factor', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const { cookie } = harness.kratos.createSession(identity.id, { aal2Required: true });
    expect((await start(harness, { cookie }, {}, 'application/json')).status).toBe(401);
  });

  describe('signed links', () => {
    const key = (h: Harness) => h.config.start.linkSigningKeys[0] as Buffer;
    const inAMinute = (h: Harness) => Math.floor(h.clock.now / 1000) + 60;

    it.each([
      [
        'forged with another key',
        (h: Harness, id: string) => signStartToken(id, inAMinute(h), Buffer.from('not-our-key-0123456789abcdef')),
      ],
      ['expired', (h: Harness, id: string) => signStartToken(id, Math.floor(h.clock.now / 1000), key(h))],
      [
        'moved to another identity',
        (h: Harness, id: string) => {
          const other = h.kratos.createIdentity().id;
          const [, expiry, signature] = signStartToken(other, inAMinute(h), key(h)).split('.');
          return `${id}.${expiry}.${signature}`;
        },
      ],
      ['malformed', () => 'not-a-token'],
    ])('refuses a link %s', async (_name, token) => {
      harness = await startHarness(ENV);
      const { identityId } = harness.identityInState('created');
      const response = await start(harness, { token: token(harness, identityId) }, {}, 'application/json');
      expect(response.status).toBe(401);
      expect(['invalid_link', 'link_expired']).toContain(response.body.error.code);
      expect(harness.persona.requests).toHaveLength(0);
    });

    it('stops accepting a link once SIGNED_LINK_TTL has passed', async () => {
      harness = await startHarness({ ...ENV, LOGIN_POLICY: 'require-approved', SIGNED_LINK_TTL: '10m' });
      const { identityId } = harness.identityInState('created');
      const blocked = await harness.postHook('/persona/validate', {
        identity_id: identityId,
        persona: { status: 'created' },
      });
      const link = new URL(blocked.body.messages[0].messages[0].context.verify_url);
      harness.clock.now += 10 * 60_000 - 1_000;
      expect((await request(harness.app).get(link.pathname + link.search)).status).toBe(303);
      harness.clock.now += 1_000;
      const expired = await request(harness.app)
        .get(link.pathname + link.search)
        .set('Accept', 'application/json');
      expect(expired.status).toBe(401);
      expect(expired.body.error.code).toBe('link_expired');
    });

    it('refuses a link signed while SIGNED_LINK_TTL had no bound, valid for a hundred years', async () => {
      harness = await startHarness(ENV);
      const { identityId } = harness.identityInState('pending');
      const hundredYears = Math.floor(harness.clock.now / 1000) + 5200 * 7 * 86_400;
      const token = signStartToken(identityId, hundredYears, harness.config.start.linkSigningKeys[0] as Buffer);

      for (const path of ['/persona/start', '/persona/status']) {
        const response = await request(harness.app).get(`${path}?token=${token}`).set('Accept', 'application/json');
        expect(response.status).toBe(401);
        expect(response.body.error.code).toBe('link_expired');
      }
      expect(harness.persona.requests).toEqual([]);
    });
  });
});

describe('GET /persona/start: return_to', () => {
  it.each([
    'https://evil.example.net/',
    '//evil.example.net/',
    'javascript:alert(1)',
    'https://app.example.com@evil.example.net/',
    'https://app.example.com.evil.example.net/',
    'https://evil.example.net\\@app.example.com/',
    'http://app.example.com/',
  ])('refuses %s with 400 before anything else happens', async (returnTo) => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('approved');
    const response = await start(harness, signedIn(harness, identityId), { return_to: returnTo }, 'application/json');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_return_to');
    expect(response.headers['location']).toBeUndefined();
    expect(harness.kratos.requests).toHaveLength(0);
  });
});

describe('GET /persona/start: embedded SDK', () => {
  it('answers the inquiry id of a created inquiry', async () => {
    harness = await startHarness({ ...ENV, PERSONA_INQUIRY_TYPE: 'embedded' });
    const { identityId, inquiryId } = harness.identityInState('created');
    const response = await start(harness, signedIn(harness, identityId), {}, 'application/json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'created', inquiry_id: inquiryId, session_token: null });
  });

  it('answers a session token for a pending inquiry', async () => {
    harness = await startHarness({ ...ENV, PERSONA_INQUIRY_TYPE: 'embedded' });
    const { identityId, inquiryId } = harness.identityInState('pending');
    const response = await start(harness, signedIn(harness, identityId), {}, 'application/json');
    expect(response.body).toEqual({
      status: 'pending',
      inquiry_id: inquiryId,
      session_token: expect.stringMatching(/^pst_/),
    });
    expect(personaCalls(harness)).toEqual([`POST /api/v1/inquiries/${inquiryId}/resume`]);
  });

  it('reads the seed value hosted-embedded as hosted', async () => {
    harness = await startHarness({ ...ENV, PERSONA_INQUIRY_TYPE: 'hosted-embedded' });
    const { identityId } = harness.identityInState('created');
    expect((await start(harness, signedIn(harness, identityId))).status).toBe(303);
  });
});

describe('GET /persona/start: failures and pages', () => {
  it('answers 503 with a page when Persona is down, writing nothing', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    harness.persona.inject({ path: '/api/v1/inquiries', status: 500, times: 10 });
    const response = await start(harness, signedIn(harness, identity.id));
    expect(response.status).toBe(503);
    expect(response.text).toContain('Identity verification is temporarily unavailable');
    expect(harness.kratos.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });

  it('starts nothing for a record it cannot interpret, and says so without its content', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity({ metadata_admin: { persona: { owner: 'Jane Doe' } } });
    const response = await start(harness, signedIn(harness, identity.id));
    expect(response.status).toBe(503);
    expect(response.text).toContain('Identity verification is temporarily unavailable');
    expect(harness.persona.requests).toHaveLength(0);
    expect(harness.kratos.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
    expect(harness.logText()).not.toContain('Jane Doe');
    expect(harness.logs).toContainEqual(
      expect.objectContaining({ identity_id: identity.id, reason: 'no_status', level: 50 }),
    );
  });

  it('serves minimal, self-contained, escaped pages', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    harness.persona.inject({ path: '/api/v1/inquiries', status: 500, times: 10 });
    // Sent raw, as a hostile client may (supertest would encode it); the retry link repeats the query.
    const response = await rawGet(harness, '/persona/start?x="><script>alert(1)</script>&y=1', {
      Accept: 'text/html',
      Cookie: signedIn(harness, identity.id).cookie,
    });
    expect(response.status).toBe(503);
    expect(response.text).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(response.text).toContain('href="?x=&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#38;y=1"');
    expect(response.text).not.toMatch(/<script|src=|<link/);
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('GET /persona/start: after a failed create, one inquiry per identity', () => {
  const creates = (h: Harness) =>
    h.persona.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/inquiries');
  const lookups = (h: Harness) =>
    h.persona.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/inquiries');
  const accountLookups = (h: Harness) =>
    h.persona.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/accounts');

  it('reaches the hosted flow although Persona replays the failure stored under the first key', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    // Persona saves each 503 under its Idempotency-Key and replays it for 24 hours.
    harness.persona.inject({ method: 'POST', path: '/api/v1/inquiries', status: 503, times: 2 });
    await harness
      .postHook('/persona/initiate', { identity_id: identity.id })
      .expect(200, { status: 'not_started', inquiry_id: null });

    const response = await start(harness, signedIn(harness, identity.id));

    expect(response.status).toBe(303);
    const [inquiry] = harness.persona.inquiries();
    expect(harness.persona.inquiries()).toHaveLength(1);
    expect(location(response).origin + location(response).pathname).toBe(HOSTED);
    expect(location(response).searchParams.get('inquiry-id')).toBe(inquiry?.id);
    expect(record(harness, identity.id)).toMatchObject({ status: 'created', inquiry_id: inquiry?.id });
    // Each failed key was used once; before each new key, the identity's account was looked up:
    // Persona had made none (nor an inquiry), so there was no inquiry to list.
    expect(creates(harness).map((r) => r.status)).toEqual([503, 503, 201]);
    expect(new Set(creates(harness).map((r) => r.headers['idempotency-key'])).size).toBe(3);
    expect(accountLookups(harness).map((r) => Object.fromEntries(r.query))).toEqual([
      expect.objectContaining({ 'filter[reference-id]': identity.id }),
      expect.objectContaining({ 'filter[reference-id]': identity.id }),
    ]);
    expect(lookups(harness)).toEqual([]);
  });

  // Persona documents `filter[reference-id]` on inquiries as the inquiry's own reference id, which
  // its examples show null where the account alone carries it: the lookup goes through the account.
  it.each<ReferenceIds>(['echoed', 'on-account-only'])(
    'uses the inquiry a failed create made all the same, instead of creating a second (reference ids %s)',
    async (referenceIds) => {
      harness = await startHarness(ENV, { referenceIds });
      const identity = harness.kratos.createIdentity();
      // Persona created the inquiry, then failed the answer (and saved the failure under the key).
      const made = harness.persona.addInquiry({ referenceId: identity.id, note: serviceNote('onboarding') });
      harness.persona.inject({ method: 'POST', path: '/api/v1/inquiries', status: 500 });

      await harness
        .postHook('/persona/initiate', { identity_id: identity.id })
        .expect(200, { status: 'created', inquiry_id: made.id });

      expect(harness.persona.inquiries()).toHaveLength(1);
      expect(creates(harness)).toHaveLength(1);
      expect(record(harness, identity.id)).toMatchObject({ inquiry_id: made.id, status: 'created' });
      expect(accountLookups(harness).map((r) => r.query.get('filter[reference-id]'))).toEqual([identity.id]);
      expect(lookups(harness).map((r) => Object.fromEntries(r.query))).toEqual([
        expect.objectContaining({ 'filter[account-id]': made.accountId, 'filter[inquiry-template-id]': TEMPLATE_ID }),
      ]);
    },
  );

  it("never adopts an inquiry the service did not open, though it carries the identity's reference id", async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    // Anybody can open one from a template link with a guessed reference id: it has no note.
    const strangers = harness.persona.addInquiry({ referenceId: identity.id });
    harness.persona.inject({ method: 'POST', path: '/api/v1/inquiries', status: 500 });

    const initiated = await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);

    expect(initiated.body.inquiry_id).not.toBe(strangers.id);
    expect(harness.persona.inquiries().map((inquiry) => inquiry.id)).toEqual([strangers.id, initiated.body.inquiry_id]);
    expect(record(harness, identity.id)).toMatchObject({ inquiry_id: initiated.body.inquiry_id, status: 'created' });
  });

  it('keeps one inquiry when Kratos calls the hook three times and the user clicks start twice', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const cookie = signedIn(harness, identity.id);
    harness.persona.inject({ method: 'POST', path: '/api/v1/inquiries', status: 500 });
    harness.persona.inject({ method: 'POST', path: '/api/v1/inquiries', delayMs: 300 });

    const initiate = () => harness.postHook('/persona/initiate', { identity_id: identity.id });
    const [hooks, starts] = await Promise.all([
      Promise.all([initiate(), initiate(), initiate()]),
      Promise.all([start(harness, cookie), start(harness, cookie)]),
    ]);

    const inquiries = harness.persona.inquiries().filter((inquiry) => inquiry.referenceId === identity.id);
    expect(inquiries).toHaveLength(1);
    const inquiryId = inquiries[0]?.id;
    expect(hooks.map((hook) => hook.body)).toEqual(Array(3).fill({ status: 'created', inquiry_id: inquiryId }));
    expect(starts.map((response) => response.status)).toEqual([303, 303]);
    expect(starts.map((response) => location(response).searchParams.get('inquiry-id'))).toEqual([inquiryId, inquiryId]);
    expect(record(harness, identity.id)).toMatchObject({ inquiry_id: inquiryId, status: 'created' });
  });
});
