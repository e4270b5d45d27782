import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_WRONG_ATTEMPTS } from '../../src/admin/shortCodes/shortCode.js';
import { PUBLIC_BASE_URL, admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const MINUTE = 60_000;
const CODE = /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;

const issueCode = async (identityId: string, body: Record<string, unknown> = {}) => {
  const response = await admin(harness).post(`/admin/identities/${identityId}/verification-links`, {
    actor: 'agent-7',
    kind: 'short_code',
    ...body,
  });
  expect(response.status).toBe(200);
  return response.body as { code: string; expires_at: string; code_entry_url: string };
};

/** Types a code at /persona/start/code, as JSON (or as the page's form, for a browser). */
const enter = (code: string, as: 'json' | 'form' = 'json') =>
  as === 'json'
    ? request(harness.app).post('/persona/start/code').set('Content-Type', 'application/json').send({ code })
    : request(harness.app).post('/persona/start/code').set('Accept', 'text/html').type('form').send({ code });

/** A code of another handle than `code`'s. */
const otherHandle = (code: string) => `${code.startsWith('Z') ? 'Y' : 'Z'}${code.slice(1)}`;

/** The same code with one symbol of its secret changed. */
const wrongSecret = (code: string) => `${code.slice(0, -1)}${code.endsWith('Z') ? 'Y' : 'Z'}`;

describe('short codes', () => {
  it('are issued for phone support: ten symbols, fifteen minutes, five wrong tries', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const response = await admin(harness).post(`/admin/identities/${id}/verification-links`, {
      actor: 'agent-7',
      kind: 'short_code',
    });
    expect(response.body).toEqual({
      identity_id: id,
      kind: 'short_code',
      purpose: 'verification',
      expires_at: new Date(harness.clock.now + 15 * MINUTE).toISOString(),
      url: null,
      code: expect.stringMatching(CODE),
      code_entry_url: `${PUBLIC_BASE_URL}/persona/start/code`,
      attempts_allowed: MAX_WRONG_ATTEMPTS,
      next_step: 'create',
    });
    expect(harness.logText()).not.toContain(response.body.code);
    expect(auditLines(harness)).toEqual([
      expect.objectContaining({ actor: 'agent-7', action: 'short_code.issue', identity_id: id, outcome: 'ok' }),
    ]);
    const tooLong = await admin(harness).post(`/admin/identities/${id}/verification-links`, {
      actor: 'agent-7',
      kind: 'short_code',
      expires_in: '2h',
    });
    expect(tooLong.body.error).toEqual({
      code: 'invalid_request',
      message: 'expires_in: must be between 1m and 1h for a short_code',
    });
  });

  it("lead the person typing one into their identity's verification, once", async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const { code } = await issueCode(id);

    const page = await request(harness.app).get('/persona/start/code').set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<form method="post" action="/persona/start/code">');
    expect(page.headers['content-security-policy']).toContain("form-action 'self'");

    const entered = await enter(code, 'form');
    expect(entered.status).toBe(200);
    const link = /<a href="([^"]+)">Continue<\/a>/.exec(entered.text)?.[1]?.replaceAll('&#38;', '&') ?? '';
    expect(link).toMatch(new RegExp(`^${PUBLIC_BASE_URL}/persona/start\\?token=${id}\\.`));
    const { pathname, search } = new URL(link);
    const started = await request(harness.app).get(`${pathname}${search}`).set('Accept', 'text/html');
    expect(started.status).toBe(303);
    expect(harness.persona.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(auditLines(harness).at(-1)).toMatchObject({
      actor: 'code_holder',
      action: 'short_code.redeem',
      identity_id: id,
      outcome: 'redeemed',
      details: { issued_by: 'agent-7' },
    });

    const again = await enter(code);
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_code');
  });

  it("lift no decline: a declined person's code, for verification or step-up, leads to the decline", async () => {
    harness = await startAdminHarness();
    const { identityId } = harness.identityInState('declined');
    for (const purpose of ['verification', 'step_up']) {
      const { code } = await issueCode(identityId, { purpose });
      const entered = await enter(code);
      expect(entered.status).toBe(200);
      const { pathname, search } = new URL(entered.body.verify_url as string);
      const opened = await request(harness.app).get(`${pathname}${search}`).set('Accept', 'application/json');
      expect([opened.status, opened.body.status], purpose).toEqual([200, 'declined']);
    }
    expect(harness.persona.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(harness.kratos.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
  });

  it('are read as people type them: lower case, spaces, O for zero, I and L for one', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const { code } = await issueCode(id);
    const typed = code.toLowerCase().replace('-', ' ').replaceAll('0', 'o').replaceAll('1', 'l');
    const response = await enter(`  ${typed} `);
    expect(response.status).toBe(200);
    expect(response.body.verify_url).toMatch(new RegExp(`^${PUBLIC_BASE_URL}/persona/start\\?token=${id}\\.`));
  });

  it('expire', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const { code } = await issueCode(id, { expires_in: '5m' });
    harness.clock.now += 5 * MINUTE;
    const response = await enter(code);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_code');
  });

  it('take at most five wrong tries, then are destroyed: the right code comes too late', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const { code } = await issueCode(id);
    for (let attempt = 1; attempt <= MAX_WRONG_ATTEMPTS; attempt += 1) {
      const response = await enter(wrongSecret(code));
      expect(response.status).toBe(400);
    }
    const late = await enter(code);
    expect(late.status).toBe(400);
    expect(late.body.error.code).toBe('invalid_code');
    expect(auditLines(harness).at(-1)).toMatchObject({
      action: 'short_code.redeem',
      identity_id: id,
      outcome: 'destroyed',
    });
  });

  it('answer a wrong secret and a code that does not exist alike, so no code can be found first', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const { code } = await issueCode(id);
    const [wrong, unknown] = [await enter(wrongSecret(code)), await enter(otherHandle(code))];
    expect(wrong.status).toBe(unknown.status);
    expect(wrong.body).toEqual(unknown.body);
  });

  it('bound the failed tries of a client: after ten, it waits, even with a right code', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const { code } = await issueCode(id, { expires_in: '1h' });
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      expect((await enter(`${otherHandle(code).slice(0, -1)}${attempt % 10}`)).status).toBe(400);
    }
    const blocked = await enter(code);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    harness.clock.now += 15 * MINUTE;
    expect((await enter(code)).status).toBe(200);
  });

  it('are one per identity: a new code replaces the one before', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const first = await issueCode(id);
    const second = await issueCode(id);
    expect((await enter(first.code)).status).toBe(400);
    expect((await enter(second.code)).status).toBe(200);
  });

  it('are refused in a form the page does not send', async () => {
    harness = await startAdminHarness();
    const response = await request(harness.app).post('/persona/start/code').set('Content-Type', 'text/plain').send('x');
    expect(response.status).toBe(415);
  });
});
