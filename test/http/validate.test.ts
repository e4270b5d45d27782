import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { ORY_WEBHOOK_SECRET, startHarness, type Harness } from '../support/harness.js';
import { readAsKratos } from '../../sandbox/kratosResponse.js';

let harness: Harness;
afterEach(() => harness.close());

const HOUR = 3_600_000;
const writes = (h: Harness) => h.kratos.requests.filter((r) => r.method !== 'GET');
const adminReads = (h: Harness) => h.kratos.requests.filter((r) => r.method === 'GET').length;

function gate(h: Harness, body: Record<string, unknown>) {
  return h.postHook('/persona/validate', body);
}

const answer = (response: { status: number; text: string }) => [response.status, response.text] as const;

/**
 * What the login Jsonnet sends for an identity whose public mirror says `persona`: a mirror as this
 * version writes it (with `inquiry_status`) unless the test gives one.
 */
const loginBody = (identityId: string, persona: unknown, identityCreatedAt = new Date().toISOString()) => ({
  identity_id: identityId,
  identity_created_at: identityCreatedAt,
  persona:
    persona !== null && typeof persona === 'object' && 'status' in persona && !('inquiry_status' in persona)
      ? { ...persona, inquiry_status: (persona as { status: unknown }).status }
      : persona,
});

/** An identity whose admin record says `status` (decided one hour ago). */
function identityWithRecord(h: Harness, status: string | null) {
  const decidedAt = new Date(h.clock.now - HOUR).toISOString();
  return h.kratos.createIdentity({
    metadata_admin:
      status === null
        ? null
        : {
            persona: {
              inquiry_id: 'inq_Stored1',
              status,
              template_id: 'itmpl_Ours1234567890',
              created_at: decidedAt,
              updated_at: decidedAt,
              decided_at: status === 'approved' || status === 'declined' ? decidedAt : null,
              last_event_id: null,
              history: [],
            },
          },
  });
}

describe('POST /persona/validate: block-declined (default)', () => {
  it('lets an approved user in from the mirror without any outbound call', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const response = await gate(
      harness,
      loginBody(identity.id, { status: 'approved', verified_at: new Date().toISOString() }),
    );
    expect(response.status).toBe(204);
    expect(readAsKratos(response.status, response.text).kind).toBe('continue');
    expect(harness.kratos.requests).toHaveLength(0);
    expect(harness.persona.requests).toHaveLength(0);
  });

  it.each(['created', 'pending', 'completed', 'failed', 'expired', 'needs_review', 'not_started', 'a_new_status'])(
    'lets a %s user in',
    async (status) => {
      harness = await startHarness();
      const response = await gate(
        harness,
        loginBody(harness.kratos.createIdentity().id, { status, verified_at: null }),
      );
      expect(response.status).toBe(204);
    },
  );

  it('blocks a declined user with the message Kratos shows', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const response = await gate(harness, loginBody(identity.id, { status: 'declined', verified_at: null }));

    expect(response.status).toBe(403);
    expect(readAsKratos(response.status, response.text)).toEqual({
      kind: 'interrupt',
      id: 4100001,
      text: 'Your identity verification was declined. Please contact support.',
      type: 'error',
      context: { reason: 'declined', status: 'declined' },
      formLevel: true,
    });
    expect(harness.kratos.requests).toHaveLength(0);
  });

  it("answers in the browser's language, by the Accept-Language Kratos forwards", async () => {
    harness = await startHarness({ LOGIN_POLICY: 'require-approved' });
    const identityId = harness.kratos.createIdentity().id;
    const inGerman = { ...loginBody(identityId, null, '2020-01-01T00:00:00Z'), accept_language: 'de-AT,en;q=0.5' };
    expect(readAsKratos(...answer(await gate(harness, inGerman)))).toMatchObject({
      id: 4100002,
      text: 'Bitte bestätigen Sie Ihre Identität, um fortzufahren.',
    });
    for (const odd of ['tlh', '', 42, null]) {
      const response = await gate(harness, { ...inGerman, accept_language: odd });
      expect(readAsKratos(...answer(response)), String(odd)).toMatchObject({
        id: 4100002,
        text: 'Please verify your identity to continue.',
      });
    }
  });

  it('carries SUPPORT_URL in every block message, so even a decline leads somewhere', async () => {
    harness = await startHarness({ SUPPORT_URL: 'https://example.com/help', LOGIN_POLICY: 'require-approved' });
    const identityId = harness.kratos.createIdentity().id;
    for (const persona of [{ status: 'declined' }, null]) {
      const reading = readAsKratos(
        ...answer(await gate(harness, loginBody(identityId, persona, '2020-01-01T00:00:00Z'))),
      );
      expect(reading).toMatchObject({ kind: 'interrupt', context: { support_url: 'https://example.com/help' } });
    }
  });

  it('uses the configured text, in every language', async () => {
    harness = await startHarness({ LOGIN_MESSAGE_DECLINED: 'Verification failed. Write to help@example.com.' });
    const identityId = harness.kratos.createIdentity().id;
    for (const language of [undefined, 'de']) {
      const body = { ...loginBody(identityId, { status: 'declined' }), accept_language: language };
      expect(readAsKratos(...answer(await gate(harness, body)))).toMatchObject({
        text: 'Verification failed. Write to help@example.com.',
      });
    }
  });

  it('falls back to the admin record when the mirror is absent', async () => {
    harness = await startHarness();
    const declined = identityWithRecord(harness, 'declined');
    const approved = identityWithRecord(harness, 'approved');
    const none = identityWithRecord(harness, null);

    expect((await gate(harness, loginBody(declined.id, null))).status).toBe(403);
    expect((await gate(harness, loginBody(approved.id, undefined))).status).toBe(204);
    expect((await gate(harness, loginBody(none.id, null))).status).toBe(204);
    expect(adminReads(harness)).toBe(3);
    expect(writes(harness)).toHaveLength(0);
  });

  it('treats a malformed mirror as absent', async () => {
    harness = await startHarness();
    const declined = identityWithRecord(harness, 'declined');
    expect((await gate(harness, loginBody(declined.id, 'approved'))).status).toBe(403);
    expect((await gate(harness, loginBody(declined.id, { verified_at: 'x' }))).status).toBe(403);
  });

  it('reads only the admin record when the mirror is switched off', async () => {
    harness = await startHarness({ METADATA_PUBLIC_MIRROR: 'false' });
    const declined = identityWithRecord(harness, 'declined');
    const response = await gate(harness, loginBody(declined.id, { status: 'approved', verified_at: null }));
    expect(response.status).toBe(403);
    expect(adminReads(harness)).toBe(1);
  });

  it('lets users in when the record cannot be read, since only declined users are blocked', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'GET', status: 500, times: 10 });
    const response = await gate(harness, loginBody(identity.id, null));
    expect(response.status).toBe(204);
    expect(harness.logs.some((line) => line['msg'] === 'gate could not read the verification record')).toBe(true);
  });
});

describe('POST /persona/validate: require-approved', () => {
  it.each(['created', 'pending', 'completed', 'failed', 'expired', 'needs_review', 'not_started'])(
    'blocks a %s user with "verification required"',
    async (status) => {
      harness = await startHarness({ LOGIN_POLICY: 'require-approved' });
      const identity = harness.kratos.createIdentity();
      const response = await gate(harness, loginBody(identity.id, { status, verified_at: null }));
      expect(readAsKratos(response.status, response.text)).toMatchObject({
        kind: 'interrupt',
        id: 4100002,
        text: 'Please verify your identity to continue.',
        context: { reason: 'verification_required', status },
      });
    },
  );

  it('blocks a user without any record, and lets an approved user in', async () => {
    harness = await startHarness({ LOGIN_POLICY: 'require-approved' });
    const none = identityWithRecord(harness, null);
    const approved = identityWithRecord(harness, 'approved');
    const blocked = await gate(harness, loginBody(none.id, null));
    expect(readAsKratos(blocked.status, blocked.text)).toMatchObject({ id: 4100002, context: { status: null } });
    expect((await gate(harness, loginBody(approved.id, null))).status).toBe(204);
  });

  it('still blocks declined users with the declined message', async () => {
    harness = await startHarness({ LOGIN_POLICY: 'require-approved', LOGIN_GRACE_PERIOD: '24h' });
    const response = await gate(harness, loginBody(harness.kratos.createIdentity().id, { status: 'declined' }));
    expect(readAsKratos(response.status, response.text)).toMatchObject({ id: 4100001 });
  });

  it('lets a new user in during the grace period and blocks them after it', async () => {
    harness = await startHarness({ LOGIN_POLICY: 'require-approved', LOGIN_GRACE_PERIOD: '24h' });
    const identity = harness.kratos.createIdentity();
    const registeredAt = new Date(harness.clock.now - 24 * HOUR).toISOString();

    harness.clock.now -= 1;
    expect((await gate(harness, loginBody(identity.id, { status: 'pending' }, registeredAt))).status).toBe(204);
    harness.clock.now += 1;
    const after = await gate(harness, loginBody(identity.id, { status: 'pending' }, registeredAt));
    expect(readAsKratos(after.status, after.text)).toMatchObject({ id: 4100002 });
  });

  it('blocks with "unavailable" when the record cannot be read', async () => {
    harness = await startHarness({ LOGIN_POLICY: 'require-approved' });
    const identity = harness.kratos.createIdentity();
    await harness.kratos.close();
    const response = await gate(harness, loginBody(identity.id, null));
    expect(readAsKratos(response.status, response.text)).toMatchObject({
      kind: 'interrupt',
      id: 4100004,
      context: { reason: 'verification_unavailable' },
    });
  });
});

describe('POST /persona/validate: bad requests still speak Kratos', () => {
  it.each([
    [
      'a wrong secret',
      () => request(harness.app).post('/persona/validate').set('X-Webhook-Secret', 'nope-nope-nope-nope').send({}),
    ],
    ['a missing identity id', () => harness.postHook('/persona/validate', { persona: null })],
    [
      'the nil UUID',
      () => harness.postHook('/persona/validate', { identity_id: '00000000-0000-0000-0000-000000000000' }),
    ],
    [
      'a body that is not JSON',
      () =>
        request(harness.app)
          .post('/persona/validate')
          .set('X-Webhook-Secret', ORY_WEBHOOK_SECRET)
          .set('Content-Type', 'application/json')
          .send('{'),
    ],
    [
      'a form body',
      () =>
        request(harness.app)
          .post('/persona/validate')
          .set('X-Webhook-Secret', ORY_WEBHOOK_SECRET)
          .type('form')
          .send('a=b'),
    ],
  ])('answers %s with a 4xx Kratos message, never 5xx or 429', async (_name, send) => {
    harness = await startHarness();
    const response = await send();
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.status).not.toBe(429);
    expect(readAsKratos(response.status, response.text)).toMatchObject({ kind: 'interrupt', id: 4100004 });
    expect(writes(harness)).toHaveLength(0);
  });
});

describe('POST /persona/validate: the way back to Persona', () => {
  const LINK_ENV = {
    LOGIN_POLICY: 'require-approved',
    PUBLIC_BASE_URL: 'https://idv.example.com',
    RETURN_TO_ALLOWLIST: 'https://app.example.com',
  };
  const contextOf = (response: { status: number; text: string }) => {
    const reading = readAsKratos(response.status, response.text);
    if (reading.kind !== 'interrupt') throw new Error(`not an interruption: ${reading.kind}`);
    return reading.context;
  };

  it('puts a signed start link, back to the allowed return_to, in a "verification required" block', async () => {
    harness = await startHarness(LINK_ENV);
    const identity = harness.kratos.createIdentity();
    const response = await gate(harness, {
      ...loginBody(identity.id, { status: 'pending' }),
      return_to: 'https://app.example.com/x',
    });
    const link = new URL(String(contextOf(response)['verify_url']));
    expect(link.origin + link.pathname).toBe('https://idv.example.com/persona/start');
    expect(link.searchParams.get('token')).toMatch(
      new RegExp(`^${identity.id}\\.\\d+\\.verification\\.[A-Za-z0-9_-]{43}$`),
    );
    expect(link.searchParams.get('return_to')).toBe('https://app.example.com/x');
  });

  it('signs the link for the identity id in lower case, as Kratos writes it, without any outbound call', async () => {
    harness = await startHarness(LINK_ENV);
    const identity = harness.kratos.createIdentity();
    const requestsBefore = harness.kratos.requests.length;
    const response = await gate(harness, loginBody(identity.id.toUpperCase(), { status: 'pending' }));
    const link = new URL(String(contextOf(response)['verify_url']));
    expect(link.searchParams.get('token')?.split('.')[0]).toBe(identity.id);
    expect(harness.kratos.requests.length).toBe(requestsBefore);
  });

  it('leaves out a return_to that is not allowed', async () => {
    harness = await startHarness(LINK_ENV);
    const identity = harness.kratos.createIdentity();
    const response = await gate(harness, {
      ...loginBody(identity.id, { status: 'pending' }),
      return_to: 'https://evil.example.net/',
    });
    expect(new URL(String(contextOf(response)['verify_url'])).searchParams.has('return_to')).toBe(false);
  });

  it('carries no link without PUBLIC_BASE_URL, and none for a decline unless retries are allowed', async () => {
    harness = await startHarness({ LOGIN_POLICY: 'require-approved' });
    const identity = harness.kratos.createIdentity();
    expect(contextOf(await gate(harness, loginBody(identity.id, { status: 'pending' })))).not.toHaveProperty(
      'verify_url',
    );
    await harness.close();

    harness = await startHarness(LINK_ENV);
    expect(contextOf(await gate(harness, loginBody(identity.id, { status: 'declined' })))).not.toHaveProperty(
      'verify_url',
    );
    await harness.close();

    harness = await startHarness({ ...LINK_ENV, ALLOW_RETRIES: 'true' });
    expect(contextOf(await gate(harness, loginBody(identity.id, { status: 'declined' })))).toHaveProperty('verify_url');
  });

  it('asks for re-verification when the approval is older than REVERIFY_AFTER, not before', async () => {
    harness = await startHarness({ ...LINK_ENV, REVERIFY_AFTER: '365d' });
    const identity = harness.kratos.createIdentity();
    const verifiedAt = new Date(harness.clock.now - 365 * 24 * HOUR).toISOString();
    const body = loginBody(identity.id, { status: 'approved', verified_at: verifiedAt });
    expect((await gate(harness, body)).status).toBe(204);
    harness.clock.now += 1;
    const blocked = await gate(harness, body);
    expect(readAsKratos(blocked.status, blocked.text)).toMatchObject({
      id: 4100003,
      text: 'Please verify your identity again to continue.',
      context: { reason: 'reverification_required', status: 'approved', verify_url: expect.any(String) },
    });
  });

  it('blocks with a link once the grace period is over', async () => {
    harness = await startHarness({ ...LINK_ENV, LOGIN_GRACE_PERIOD: '24h' });
    const identity = harness.kratos.createIdentity();
    const registeredAt = new Date(harness.clock.now - 24 * HOUR).toISOString();
    const response = await gate(harness, loginBody(identity.id, { status: 'created' }, registeredAt));
    expect(readAsKratos(response.status, response.text)).toMatchObject({
      id: 4100002,
      context: { verify_url: expect.any(String) },
    });
  });
});
