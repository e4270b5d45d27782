import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, PUBLIC_BASE_URL, admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const HOUR = 3_600_000;
const issue = (identityId: string, body: Record<string, unknown> = {}) =>
  admin(harness).post(`/admin/identities/${identityId}/verification-links`, { actor: 'agent-7', ...body });

/** Opens a link as a browser would, with an optional session cookie. */
const open = (url: string, cookie?: string) => {
  const { pathname, search } = new URL(url);
  const test = request(harness.app).get(`${pathname}${search}`).set('Accept', 'application/json');
  return cookie === undefined ? test : test.set('Cookie', cookie);
};
const tokenOf = (url: string) => new URL(url).searchParams.get('token') ?? '';

describe('POST /admin/identities/{id}/verification-links: a signed link', () => {
  it('links to /persona/start for this identity and purpose, valid 24 hours by default', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const response = await issue(id);
    expect(response.status).toBe(200);
    const expiresAt = harness.clock.now + 24 * HOUR;
    expect(response.body).toEqual({
      identity_id: id,
      kind: 'link',
      purpose: 'verification',
      expires_at: new Date(expiresAt).toISOString(),
      url: expect.stringMatching(new RegExp(`^${PUBLIC_BASE_URL}/persona/start\\?token=`)),
      code: null,
      code_entry_url: null,
      attempts_allowed: null,
      next_step: 'create',
    });
    const [identity, expiry, purpose] = tokenOf(response.body.url).split('.');
    expect([identity, Number(expiry), purpose]).toEqual([id, Math.floor(expiresAt / 1000), 'verification']);

    // The person opens it: the service creates their inquiry and sends them to Persona.
    const opened = await open(response.body.url).set('Accept', 'text/html');
    expect(opened.status).toBe(303);
    const created = harness.persona.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/inquiries');
    expect(created?.body).toMatchObject({ meta: { 'auto-create-account-reference-id': id } });
  });

  it('stops working when it expires, and takes an expiry within bounds', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const response = await issue(id, { expires_in: '30m' });
    expect(response.body.expires_at).toBe(new Date(harness.clock.now + 30 * 60_000).toISOString());
    harness.clock.now += 31 * 60_000;
    const expired = await open(response.body.url);
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('link_expired');

    for (const [expiresIn, message] of [
      ['73h', 'expires_in: must be between 5m and 72h for a link'],
      ['1m', 'expires_in: must be between 5m and 72h for a link'],
      ['a day', 'expires_in: must be a duration such as 15m, 24h or 3d'],
    ]) {
      const refused = await issue(id, { expires_in: expiresIn });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toEqual({ code: 'invalid_request', message });
    }
  });

  it("works for its longest lifetime, 72 hours, though SIGNED_LINK_TTL bounds the service's own links at 24", async () => {
    harness = await startAdminHarness({ SIGNED_LINK_TTL: '24h' });
    const { id } = harness.kratos.createIdentity();
    const response = await issue(id, { expires_in: '72h' });
    expect(response.status).toBe(200);
    // Opened at once (the whole lifetime ahead) and in its last minute, the link leads to Persona.
    expect((await open(response.body.url)).status).toBe(303);
    harness.clock.now += 72 * HOUR - 60_000;
    expect((await open(response.body.url)).status).toBe(303);
    harness.clock.now += 60_000;
    expect((await open(response.body.url)).body.error.code).toBe('link_expired');
  });

  it('is refused in a browser signed in as another account, and changes nothing', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const other = harness.kratos.createIdentity();
    const { url } = (await issue(id)).body as { url: string };
    const response = await open(url, harness.kratos.createSession(other.id).cookie);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('link_for_another_account');
    expect(harness.persona.requests).toEqual([]);
    expect(harness.kratos.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });

  it('grants a declined person no retry: the agent is told, and the person sees the decline', async () => {
    harness = await startAdminHarness();
    const { identityId } = harness.identityInState('declined');
    const response = await issue(identityId);
    expect(response.body.next_step).toBe('declined');
    const opened = await open(response.body.url);
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({ status: 'declined' });
    expect(harness.persona.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('carries an allowed return_to and refuses another', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const allowed = await issue(id, { return_to: 'https://app.example.com/account' });
    expect(new URL(allowed.body.url).searchParams.get('return_to')).toBe('https://app.example.com/account');
    const refused = await issue(id, { return_to: 'https://evil.example.net/' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_return_to');
  });

  it('is audited and counted without the link itself', async () => {
    harness = await startAdminHarness({ HOST: '127.0.0.1' });
    const { id } = harness.kratos.createIdentity();
    const { url } = (await issue(id)).body as { url: string };
    expect(auditLines(harness)).toEqual([
      expect.objectContaining({
        actor: 'agent-7',
        action: 'link.issue',
        identity_id: id,
        outcome: 'ok',
        details: { purpose: 'verification', expires_at: expect.any(String) },
      }),
    ]);
    expect(harness.logText()).not.toContain(tokenOf(url));
    // ... and counted, with the outcome: one link issued, one refused for an identity Kratos lacks.
    await issue('5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34');
    const metrics = (await request(harness.app).get('/metrics').expect(200)).text;
    expect(metrics).toContain('admin_actions_total{action="link.issue",outcome="ok"} 1');
    expect(metrics).toContain('admin_actions_total{action="link.issue",outcome="unknown_identity"} 1');
  });

  it('cannot be issued without PUBLIC_BASE_URL, nor for an unknown identity', async () => {
    harness = await startAdminHarness({ PUBLIC_BASE_URL: undefined });
    const { id } = harness.kratos.createIdentity();
    const response = await issue(id);
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('links_unavailable');
    await harness.close();
    harness = await startAdminHarness();
    const unknown = await issue('5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_identity');
  });

  it.each([
    ['no actor', { actor: undefined }, 'actor: '],
    ['an unknown kind', { kind: 'email' }, 'kind: '],
    ['a purpose /persona/start does not serve', { purpose: 'recovery' }, 'purpose: '],
    ['an unknown field', { lifetime: '1h' }, 'Unrecognized key: "lifetime"'],
  ])('refuses %s with 400 naming the field', async (_case, body, message) => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const response = await issue(id, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain(message);
  });

  it('takes JSON only', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const path = `/admin/identities/${id}/verification-links`;
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    const form = await request(harness.app).post(path).set(auth).type('form').send('actor=agent-7');
    expect([form.status, form.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const broken = await request(harness.app).post(path).set(auth).set('Content-Type', 'application/json').send('{');
    expect([broken.status, broken.body.error.code]).toEqual([400, 'invalid_json']);
  });
});
