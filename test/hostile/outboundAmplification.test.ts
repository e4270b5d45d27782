import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { ENTRY_REUSE_MS, PERSONA_CALLS_PER_IDENTITY } from '../../src/http/personaEntries.js';
import { RECOVERIES_PER_IDENTIFIER } from '../../src/recovery/recoveryStarts.js';
import { RECOVERY_TEMPLATE_ID, startHarness, type Harness } from '../support/harness.js';

/**
 * A signed-in user reloading /persona/start or /persona/status must not spend the Persona rate
 * limit (about 300 calls a minute for the whole environment): a pending inquiry's link is reused
 * while it is valid, and the calls one identity causes are rate limited.
 */

let harness: Harness;
afterEach(() => harness.close());

const ENV = { PUBLIC_BASE_URL: 'https://idv.example.com', DEFAULT_RETURN_TO: 'https://app.example.com/home' };

const personaPosts = (h: Harness) => h.persona.requests.filter((r) => r.method === 'POST');

function get(h: Harness, path: string, cookie: string, accept = 'application/json') {
  return request(h.app).get(path).set('Cookie', cookie).set('Accept', accept);
}

describe('200 calls of /persona/start', () => {
  it('for a pending inquiry, make one Persona call and hand out the same link', async () => {
    harness = await startHarness(ENV);
    const { identityId, inquiryId } = harness.identityInState('pending');
    const { cookie } = harness.kratos.createSession(identityId);

    const locations = new Set<string>();
    for (let batch = 0; batch < 4; batch += 1) {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => get(harness, '/persona/start', cookie, 'text/html')),
      );
      for (const response of responses) {
        expect(response.status).toBe(303);
        locations.add(response.headers['location'] as string);
      }
    }

    expect(personaPosts(harness).map((r) => r.path)).toEqual([`/api/v1/inquiries/${inquiryId}/generate-one-time-link`]);
    expect(locations.size).toBe(1);
  });

  it('for a pending inquiry, make a new link once the old one is no longer handed out', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('pending');
    const { cookie } = harness.kratos.createSession(identityId);
    const first = await get(harness, '/persona/start', cookie, 'text/html');
    harness.clock.now += ENTRY_REUSE_MS - 1;
    const reused = await get(harness, '/persona/start', cookie, 'text/html');
    harness.clock.now += 1;
    const renewed = await get(harness, '/persona/start', cookie, 'text/html');

    expect(reused.headers['location']).toBe(first.headers['location']);
    expect(renewed.headers['location']).not.toBe(first.headers['location']);
    expect(personaPosts(harness)).toHaveLength(2);
  });

  it('while Persona fails, make at most the burst of calls and then answer 429 with Retry-After', async () => {
    harness = await startHarness(ENV);
    const { identityId } = harness.identityInState('pending');
    const { cookie } = harness.kratos.createSession(identityId);
    harness.persona.inject({ method: 'POST', status: 500, times: 1_000 });

    const statuses: number[] = [];
    let refused: request.Response | undefined;
    for (let call = 0; call < 200; call += 1) {
      const response = await get(harness, '/persona/start', cookie);
      statuses.push(response.status);
      if (response.status === 429) refused ??= response;
    }

    const { burst } = PERSONA_CALLS_PER_IDENTITY;
    // Each call is tried at most three times (retries within the request's budget).
    expect(personaPosts(harness).length).toBeLessThanOrEqual(burst * 3);
    expect(statuses.filter((status) => status === 503)).toHaveLength(burst);
    expect(statuses.filter((status) => status === 429)).toHaveLength(200 - burst);
    expect(refused?.headers['retry-after']).toBe('60');
    expect(refused?.body).toEqual({
      error: {
        code: 'too_many_requests',
        message: 'You have tried several times in a short while. Please wait a minute, then try again.',
      },
    });

    // A minute later the identity may try once more; the page says to wait, in a browser too.
    harness.clock.now += 60_000;
    expect((await get(harness, '/persona/start', cookie)).status).toBe(503);
    const page = await get(harness, '/persona/start', cookie, 'text/html');
    expect(page.status).toBe(429);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<h1>Please wait a moment</h1>');
    expect(page.text).toContain('Please wait a minute, then try again.');
  });

  it('limits each identity on its own: another user still gets through', async () => {
    harness = await startHarness(ENV);
    const noisy = harness.identityInState('expired');
    const quiet = harness.identityInState('expired');
    harness.persona.inject({ method: 'POST', status: 500, times: 1_000 });
    const noisyCookie = harness.kratos.createSession(noisy.identityId).cookie;
    for (let call = 0; call < 20; call += 1) await get(harness, '/persona/start', noisyCookie);
    harness.persona.clearFaults();

    expect((await get(harness, '/persona/start', noisyCookie)).status).toBe(429);
    const other = await get(
      harness,
      '/persona/start',
      harness.kratos.createSession(quiet.identityId).cookie,
      'text/html',
    );
    expect(other.status).toBe(303);
  });

  it('counts the inquiries start creates against the same limit', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const { cookie } = harness.kratos.createSession(identity.id);
    // Kratos refuses every write: the record never says the inquiry exists, so each visit would create it again.
    harness.kratos.inject({ method: 'PATCH', status: 500, times: 1_000 });

    const statuses: number[] = [];
    for (let call = 0; call < 50; call += 1) statuses.push((await get(harness, '/persona/start', cookie)).status);

    expect(harness.persona.requests.filter((r) => r.path === '/api/v1/inquiries')).toHaveLength(
      PERSONA_CALLS_PER_IDENTITY.burst,
    );
    expect(statuses.filter((status) => status === 429)).toHaveLength(50 - PERSONA_CALLS_PER_IDENTITY.burst);
  });
});

describe('/persona/status with the embedded SDK', () => {
  it('gives 200 polls of a pending inquiry the same session token from one Persona call', async () => {
    harness = await startHarness({ ...ENV, PERSONA_INQUIRY_TYPE: 'embedded' });
    const { identityId, inquiryId } = harness.identityInState('pending');
    const { cookie } = harness.kratos.createSession(identityId);

    const tokens = new Set<unknown>();
    for (let call = 0; call < 200; call += 1) {
      const response = await get(harness, '/persona/status', cookie);
      expect(response.status).toBe(200);
      tokens.add(response.body.session_token);
    }

    expect(personaPosts(harness).map((r) => r.path)).toEqual([`/api/v1/inquiries/${inquiryId}/resume`]);
    expect(tokens.size).toBe(1);
  });
});

describe('made-up session cookies', () => {
  it('cost one Kratos session check each, also while Kratos answers 429', async () => {
    harness = await startHarness(ENV);
    const sessionChecks = () => harness.kratos.public.requests.filter((r) => r.path === '/sessions/whoami').length;
    for (let call = 0; call < 20; call += 1)
      expect((await get(harness, '/persona/status', `ory_kratos_session=made-up-${call}`)).status).toBe(401);
    expect(sessionChecks()).toBe(20);

    // Ory Network's rate limit, reached: trying again within the request would spend more of it.
    harness.kratos.public.inject({ path: '/sessions/whoami', status: 429, times: 1_000 });
    const statuses = new Set<number>();
    for (let call = 0; call < 20; call += 1)
      statuses.add((await get(harness, '/persona/status', `ory_kratos_session=made-up-${call}`)).status);

    expect(sessionChecks()).toBe(40);
    expect([...statuses]).toEqual([503]);
  });
});

describe('anonymous recoveries (RECOVERY_BY_VERIFICATION=true)', () => {
  const RECOVERY = { ...ENV, RECOVERY_BY_VERIFICATION: 'true', PERSONA_RECOVERY_TEMPLATE_ID: RECOVERY_TEMPLATE_ID };
  // A script: no cookie, no Sec-Fetch-Site.
  const recover = (h: Harness, identifier: string) =>
    request(h.app)
      .post('/persona/recover')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(new URLSearchParams({ identifier }).toString());
  const inquiriesCreated = (h: Harness) =>
    h.persona.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/inquiries').length;
  const lookups = (h: Harness) => h.kratos.requests.filter((r) => r.path.startsWith('/admin/identities')).length;

  it('200 of them, each for another identifier, open RECOVERY_INQUIRIES_PER_MINUTE inquiries', async () => {
    harness = await startHarness(RECOVERY);
    const statuses: number[] = [];
    for (let call = 0; call < 200; call += 1)
      statuses.push((await recover(harness, `nobody${call}@example.com`)).status);

    expect(inquiriesCreated(harness)).toBe(harness.config.recovery.inquiriesPerMinute);
    expect(lookups(harness)).toBe(harness.config.recovery.inquiriesPerMinute);
    expect(statuses.filter((status) => status === 429)).toHaveLength(200 - harness.config.recovery.inquiriesPerMinute);
  });

  it('200 of them for one identifier open three inquiries, and leave the others their share', async () => {
    harness = await startHarness(RECOVERY);
    for (let call = 0; call < 200; call += 1) await recover(harness, 'jane@example.com');

    expect(inquiriesCreated(harness)).toBe(RECOVERIES_PER_IDENTIFIER.burst);
    expect((await recover(harness, 'someone@example.com')).status).toBe(303);
  });

  it('100 returns with one recovery cookie read Persona at most the inquiry’s burst of calls', async () => {
    harness = await startHarness(RECOVERY);
    const started = await recover(harness, 'nobody@example.com');
    const cookie = String(started.headers['set-cookie']).split(';')[0] as string;
    const before = harness.persona.requests.length;
    for (let call = 0; call < 100; call += 1)
      await request(harness.app).get('/persona/recover/return').set('Cookie', cookie).set('Accept', 'application/json');

    expect(harness.persona.requests.length - before).toBe(PERSONA_CALLS_PER_IDENTITY.burst);
  });
});
