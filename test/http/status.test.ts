import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const ENV = { PUBLIC_BASE_URL: 'https://idv.example.com', RETURN_TO_ALLOWLIST: 'https://app.example.com' };

const status = (h: Harness, identityId: string, query = '') =>
  request(h.app)
    .get(`/persona/status${query}`)
    .set('Cookie', h.kratos.createSession(identityId).cookie)
    .set('Accept', 'application/json');

describe('GET /persona/status', () => {
  it('asks an identity without an inquiry to verify, with the link to start', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const response = await status(harness, identity.id, '?return_to=https%3A%2F%2Fapp.example.com%2Fspa');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      status: 'not_started',
      inquiry_status: 'not_started',
      verification_required: true,
      verify_url: 'https://idv.example.com/persona/start?return_to=https%3A%2F%2Fapp.example.com%2Fspa',
      inquiry_id: null,
    });
    expect(harness.persona.requests).toHaveLength(0);
    expect(harness.kratos.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0);
  });

  it.each([
    ['created', true],
    ['pending', true],
    ['expired', true],
    ['completed', false],
    ['needs_review', false],
    ['approved', false],
    ['declined', false],
    ['failed', false],
  ])('reports %s (verification required: %s) without calling Persona', async (state, required) => {
    harness = await startHarness(ENV);
    const { identityId, inquiryId } = harness.identityInState(state);
    const response = await status(harness, identityId);
    expect(response.body).toEqual({
      status: state,
      inquiry_status: state,
      verification_required: required,
      verify_url: required ? 'https://idv.example.com/persona/start' : null,
      inquiry_id: inquiryId,
    });
    expect(harness.persona.requests).toHaveLength(0);
  });

  it('hands a signed link back to a caller who came with one', async () => {
    harness = await startHarness({ ...ENV, LOGIN_POLICY: 'require-approved' });
    const { identityId } = harness.identityInState('pending');
    const blocked = await harness.postHook('/persona/validate', {
      identity_id: identityId,
      persona: { status: 'pending' },
    });
    const link = new URL(blocked.body.messages[0].messages[0].context.verify_url);
    const response = await request(harness.app).get(`/persona/status${link.search}`);
    // The same link, so the same expiry: asking again never keeps a link alive longer.
    expect(response.body.verify_url).toBe(link.href);
    harness.clock.now += 14 * 60_000;
    const later = await request(harness.app).get(`/persona/status${new URL(response.body.verify_url).search}`);
    expect(later.body.verify_url).toBe(link.href);
    harness.clock.now += 60_000;
    const expired = await request(harness.app).get(`/persona/status${link.search}`).set('Accept', 'application/json');
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('link_expired');
  });

  it('gives the embedded SDK a session token for a pending inquiry', async () => {
    harness = await startHarness({ ...ENV, PERSONA_INQUIRY_TYPE: 'embedded' });
    const { identityId, inquiryId } = harness.identityInState('pending');
    const response = await status(harness, identityId);
    expect(response.body).toMatchObject({
      status: 'pending',
      inquiry_id: inquiryId,
      session_token: expect.stringMatching(/^pst_/),
    });
  });

  it('answers relative links when PUBLIC_BASE_URL is not set', async () => {
    harness = await startHarness();
    const { identityId } = harness.identityInState('created');
    expect((await status(harness, identityId)).body.verify_url).toBe('/persona/start');
  });

  it('refuses unauthenticated callers and foreign return_to', async () => {
    harness = await startHarness(ENV);
    expect((await request(harness.app).get('/persona/status')).status).toBe(401);
    const identity = harness.kratos.createIdentity();
    expect((await status(harness, identity.id, '?return_to=https%3A%2F%2Fevil.example.net')).status).toBe(400);
  });

  it('lets allowlisted origins, and no others, read it with credentials', async () => {
    harness = await startHarness(ENV);
    const identity = harness.kratos.createIdentity();
    const allowed = await status(harness, identity.id).set('Origin', 'https://app.example.com');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    const foreign = await status(harness, identity.id).set('Origin', 'https://evil.example.net');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();

    const preflight = await request(harness.app)
      .options('/persona/status')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'x-session-token');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toBe('X-Session-Token');
  });
});
