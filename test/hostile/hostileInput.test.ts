import { createHmac } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStartToken } from '../../src/security/signedLink.js';
import { ORY_WEBHOOK_SECRET, PERSONA_WEBHOOK_SECRET, startHarness, type Harness } from '../support/harness.js';

/**
 * What a public webhook endpoint meets: malformed and malicious requests across every route, each
 * answered with a 4xx and no state change, the service healthy afterwards.
 */

let harness: Harness;
let identityId: string;
let inquiryId: string;

beforeAll(async () => {
  harness = await startHarness({
    PUBLIC_BASE_URL: 'https://idv.example.com',
    RETURN_TO_ALLOWLIST: 'https://app.example.com',
    LOGIN_POLICY: 'require-approved',
  });
  ({ identityId, inquiryId } = harness.identityInState('created'));
});
afterAll(() => harness.close());

const now = () => Math.floor(harness.clock.now / 1000);
const sign = (body: string | Buffer, timestamp = now(), secret = PERSONA_WEBHOOK_SECRET) =>
  `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;

const hook = (path: string, body: string | Buffer, headers: Record<string, string> = {}) => {
  const test = request(harness.app).post(path);
  for (const [name, value] of Object.entries({
    'Content-Type': 'application/json',
    'X-Webhook-Secret': ORY_WEBHOOK_SECRET,
    ...headers,
  })) {
    if (value !== '') test.set(name, value);
  }
  // Bytes go out as they are (supertest would serialise a Buffer to JSON).
  return test.serialize((value: unknown) => value as string).send(body);
};
const initiate = (body: string | Buffer, headers?: Record<string, string>) => hook('/persona/initiate', body, headers);
const validate = (body: string | Buffer, headers?: Record<string, string>) => hook('/persona/validate', body, headers);
const callback = (body: string | Buffer, headers: Record<string, string> = {}) => {
  const test = request(harness.app).post('/persona/callback');
  for (const [name, value] of Object.entries({
    'Content-Type': 'application/json',
    'Persona-Signature': sign(body),
    ...headers,
  })) {
    if (value !== '') test.set(name, value);
  }
  // Bytes go out as they are (supertest would serialise a Buffer to JSON).
  return test.serialize((value: unknown) => value as string).send(body);
};
const get = (path: string, headers: Record<string, string> = {}) => {
  const test = request(harness.app).get(path).set('Accept', 'application/json');
  for (const [name, value] of Object.entries(headers)) test.set(name, value);
  return test;
};

const json = (value: unknown) => JSON.stringify(value);
const event = (attributes: Record<string, unknown>, data: Record<string, unknown> = {}) =>
  json({
    data: {
      type: 'event',
      id: 'evt_Hostile1',
      attributes: { name: 'inquiry.approved', 'created-at': new Date().toISOString(), ...attributes },
      ...data,
    },
  });
const inquiryPayload = (changes: Record<string, unknown>) => ({
  payload: {
    data: {
      type: 'inquiry',
      id: inquiryId,
      attributes: { status: 'approved', 'reference-id': identityId, 'created-at': new Date().toISOString() },
      relationships: { 'inquiry-template': { data: { type: 'inquiry-template', id: 'itmpl_Ours1234567890' } } },
      ...changes,
    },
  },
});
const invalidUtf8 = Buffer.concat([
  Buffer.from('{"identity_id":"'),
  Buffer.from([0xc3, 0x28, 0xff]),
  Buffer.from('"}'),
]);
const huge = (size: number) => json({ identity_id: identityId, traits: { blob: 'x'.repeat(size) } });
const token = (id: string, expiresIn: number, key = harness.config.start.linkSigningKeys[0] as Buffer) =>
  signStartToken(id, now() + expiresIn, key);

type Row = [string, () => request.Test, number];

const rows: Row[] = [
  // POST /persona/initiate
  [
    'initiate without the webhook secret',
    () => initiate(json({ identity_id: identityId }), { 'X-Webhook-Secret': '' }),
    401,
  ],
  [
    'initiate with a wrong secret',
    () => initiate(json({ identity_id: identityId }), { 'X-Webhook-Secret': 'wrong-secret-0123456789' }),
    401,
  ],
  [
    'initiate with a prefix of the secret',
    () => initiate(json({ identity_id: identityId }), { 'X-Webhook-Secret': ORY_WEBHOOK_SECRET.slice(0, -1) }),
    401,
  ],
  [
    'initiate with the secret plus a suffix',
    () => initiate(json({ identity_id: identityId }), { 'X-Webhook-Secret': `${ORY_WEBHOOK_SECRET}x` }),
    401,
  ],
  [
    'initiate with a 4 KB secret',
    () => initiate(json({ identity_id: identityId }), { 'X-Webhook-Secret': 'a'.repeat(4096) }),
    401,
  ],
  ['initiate as text/plain', () => initiate(json({ identity_id: identityId }), { 'Content-Type': 'text/plain' }), 415],
  [
    'initiate as a form',
    () => initiate(`identity_id=${identityId}`, { 'Content-Type': 'application/x-www-form-urlencoded' }),
    415,
  ],
  ['initiate without a content type', () => initiate(json({ identity_id: identityId }), { 'Content-Type': '' }), 415],
  [
    'initiate in UTF-16',
    () => initiate(json({ identity_id: identityId }), { 'Content-Type': 'application/json; charset=utf-16' }),
    415,
  ],
  [
    'initiate with a compressed body',
    () => initiate(json({ identity_id: identityId }), { 'Content-Encoding': 'gzip' }),
    415,
  ],
  [
    'initiate with a made-up encoding',
    () => initiate(json({ identity_id: identityId }), { 'Content-Encoding': 'br2' }),
    415,
  ],
  ['initiate with broken JSON', () => initiate('{"identity_id":'), 400],
  ['initiate with a JSON string', () => initiate('"hello"'), 400],
  ['initiate with JSON null', () => initiate('null'), 400],
  ['initiate with a JSON array', () => initiate(json([{ identity_id: identityId }])), 400],
  ['initiate with an empty object', () => initiate('{}'), 400],
  ['initiate with a numeric identity id', () => initiate(json({ identity_id: 12345 })), 400],
  ['initiate with an email as identity id', () => initiate(json({ identity_id: 'jane@example.com' })), 400],
  ['initiate with SQL in the identity id', () => initiate(json({ identity_id: "' OR 1=1 --" })), 400],
  [
    'initiate with a path in the identity id',
    () => initiate(json({ identity_id: `../../admin/identities/${identityId}` })),
    400,
  ],
  ['initiate with a UUID plus a suffix', () => initiate(json({ identity_id: `${identityId}/x` })), 400],
  ['initiate with the nil UUID', () => initiate(json({ identity_id: '00000000-0000-0000-0000-000000000000' })), 400],
  ['initiate with traits as an array', () => initiate(json({ identity_id: identityId, traits: ['a'] })), 400],
  ['initiate with traits as a string', () => initiate(json({ identity_id: identityId, traits: 'x' })), 400],
  ['initiate with the id hidden in __proto__', () => initiate(`{"__proto__":{"identity_id":"${identityId}"}}`), 400],
  [
    'initiate with constructor.prototype pollution',
    () => initiate(`{"constructor":{"prototype":{"identity_id":"${identityId}"}}}`),
    400,
  ],
  ['initiate with invalid UTF-8', () => initiate(invalidUtf8), 400],
  ['initiate with a 200 KB body', () => initiate(huge(200_000)), 413],
  // POST /persona/callback
  ['callback without a signature', () => callback(event(inquiryPayload({})), { 'Persona-Signature': '' }), 401],
  [
    'callback signed over a different body',
    () => callback(event(inquiryPayload({})), { 'Persona-Signature': sign('{}') }),
    401,
  ],
  [
    'callback with a replayed, 10-minute-old signature',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, { 'Persona-Signature': sign(body, now() - 600) });
    },
    401,
  ],
  [
    'callback signed 10 minutes in the future',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, { 'Persona-Signature': sign(body, now() + 600) });
    },
    401,
  ],
  [
    'callback signed with another secret',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, { 'Persona-Signature': sign(body, now(), 'wbhsec_attacker_secret_0000') });
    },
    401,
  ],
  [
    'callback with a bare HMAC',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, {
        'Persona-Signature': createHmac('sha256', PERSONA_WEBHOOK_SECRET).update(body).digest('hex'),
      });
    },
    401,
  ],
  [
    'callback with only X-Persona-Signature',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, { 'Persona-Signature': '', 'X-Persona-Signature': sign(body) });
    },
    401,
  ],
  [
    'callback with a garbage signature header',
    () => callback(event(inquiryPayload({})), { 'Persona-Signature': 't=,v1=,,,=' }),
    401,
  ],
  [
    'callback with a signature header of 8 KB',
    () => callback(event(inquiryPayload({})), { 'Persona-Signature': `t=${now()},v1=${'a'.repeat(8000)}` }),
    401,
  ],
  ['callback as text/plain', () => callback(event(inquiryPayload({})), { 'Content-Type': 'text/plain' }), 415],
  [
    'callback with the amplification header of 1,800 empty sets',
    () =>
      callback(event(inquiryPayload({})), {
        'Persona-Signature': Array.from({ length: 1_800 }, () => 't=1,v1=').join(' '),
      }),
    401,
  ],
  [
    'callback with five signature sets, one of them valid',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, { 'Persona-Signature': Array.from({ length: 5 }, () => sign(body)).join(' ') });
    },
    401,
  ],
  [
    'callback with five v1 values in one set',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, { 'Persona-Signature': `${sign(body)}${',v1=00'.repeat(4)}` });
    },
    401,
  ],
  [
    'callback with two valid sets 3 KB apart',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, { 'Persona-Signature': `${sign(body)}${' '.repeat(3_000)}${sign(body)}` });
    },
    401,
  ],
  [
    'callback whose only valid set is an hour old, next to fresh garbage sets',
    () => {
      const body = event(inquiryPayload({}));
      return callback(body, { 'Persona-Signature': `${sign(body, now() - 3_600)} t=${now()},v1=${'0'.repeat(64)}` });
    },
    401,
  ],
  [
    'callback announcing a body beyond its limit, validly signed',
    () => callback(json({ data: { type: 'event', id: 'evt_Big', attributes: { pad: 'x'.repeat(300_000) } } })),
    413,
  ],
  [
    'callback in Latin-1',
    () => callback(event(inquiryPayload({})), { 'Content-Type': 'application/json; charset=iso-8859-1' }),
    415,
  ],
  [
    'callback with two media types',
    () => callback(event(inquiryPayload({})), { 'Content-Type': 'application/json, text/html' }),
    415,
  ],
  [
    'callback with a 2 MB body',
    () =>
      callback(json({ data: { type: 'event', id: 'evt_Big', attributes: { name: 'x', pad: 'x'.repeat(2_000_000) } } })),
    413,
  ],
  ['callback with a compressed body', () => callback(event(inquiryPayload({})), { 'Content-Encoding': 'gzip' }), 415],
  ['callback with signed broken JSON', () => callback('{"data":'), 400],
  ['callback with signed invalid UTF-8', () => callback(invalidUtf8), 400],
  ['callback with a signed JSON array', () => callback('[]'), 400],
  [
    'callback with a signed non-event',
    () => callback(json({ data: { type: 'inquiry', id: inquiryId, attributes: {} } })),
    400,
  ],
  ['callback with a malformed event id', () => callback(event(inquiryPayload({}), { id: '../../etc/passwd' })), 400],
  ['callback with a malformed inquiry id', () => callback(event(inquiryPayload({ id: 'inq_../../x' }))), 400],
  [
    'callback with a non-date event time',
    () => callback(event({ ...inquiryPayload({}), 'created-at': 'yesterday' })),
    400,
  ],
  [
    'callback with a script as status',
    () =>
      callback(
        event(
          inquiryPayload({
            attributes: {
              status: '<script>alert(1)</script>',
              'reference-id': identityId,
              'created-at': new Date().toISOString(),
            },
          }),
        ),
      ),
    400,
  ],
  [
    'callback with a status of the wrong type',
    () => callback(event(inquiryPayload({ attributes: { status: { $ne: null }, 'reference-id': identityId } }))),
    400,
  ],
  [
    'callback with a payload that is not an inquiry',
    () => callback(event({ payload: { data: { type: 'account', id: 'act_1' } } })),
    400,
  ],
  // POST /persona/validate
  [
    'validate without the webhook secret',
    () => validate(json({ identity_id: identityId }), { 'X-Webhook-Secret': '' }),
    401,
  ],
  [
    'validate with a wrong secret',
    () => validate(json({ identity_id: identityId }), { 'X-Webhook-Secret': 'wrong-secret-0123456789' }),
    401,
  ],
  [
    'validate as a form',
    () => validate(`identity_id=${identityId}`, { 'Content-Type': 'application/x-www-form-urlencoded' }),
    415,
  ],
  ['validate with broken JSON', () => validate('{'), 400],
  ['validate with the nil UUID', () => validate(json({ identity_id: '00000000-0000-0000-0000-000000000000' })), 400],
  ['validate with a non-UUID identity id', () => validate(json({ identity_id: 'admin' })), 400],
  ['validate with a 64 KB body', () => validate(huge(64_000)), 413],
  ['validate with invalid UTF-8', () => validate(invalidUtf8), 400],
  // GET /persona/start and /persona/status
  ['start to another origin', () => get('/persona/start?return_to=https%3A%2F%2Fevil.example.net%2F'), 400],
  ['start to a protocol-relative URL', () => get('/persona/start?return_to=%2F%2Fevil.example.net'), 400],
  ['start to javascript:', () => get('/persona/start?return_to=javascript%3Aalert(1)'), 400],
  [
    'start to userinfo trickery',
    () => get('/persona/start?return_to=https%3A%2F%2Fapp.example.com%40evil.example.net%2F'),
    400,
  ],
  [
    'start with two return_to',
    () => get('/persona/start?return_to=https%3A%2F%2Fapp.example.com&return_to=https%3A%2F%2Fevil.example.net'),
    400,
  ],
  ['start with a 10 KB return_to', () => get(`/persona/start?return_to=${'a'.repeat(10_000)}`), 400],
  ['start without a session', () => get('/persona/start'), 401],
  ['start with a forged session cookie', () => get('/persona/start', { Cookie: 'ory_kratos_session=forged' }), 401],
  [
    'start with a token signed by another key',
    () => get(`/persona/start?token=${token(identityId, 600, Buffer.from('attacker-key-0123456789abcdef'))}`),
    401,
  ],
  ['start with an expired token', () => get(`/persona/start?token=${token(identityId, -1)}`), 401],
  ['start with two tokens', () => get(`/persona/start?token=${token(identityId, 600)}&token=x`), 400],
  ['status without a session', () => get('/persona/status'), 401],
  [
    'status with a genuine link valid for a hundred years',
    () => get(`/persona/status?token=${token(identityId, 5200 * 7 * 86_400)}`),
    401,
  ],
  [
    'status with a token moved to another identity',
    () =>
      get(
        `/persona/status?token=${token(identityId, 600).replace(identityId, '0b9d7a4c-1e2f-4a3b-8c5d-6e7f8a9b0c1d')}`,
      ),
    401,
  ],
  // Everything else
  ['GET on a webhook route', () => get('/persona/initiate'), 404],
  ['an unknown route', () => get('/admin/identities'), 404],
  ['metrics without a token on a service listening beyond loopback', () => get('/metrics'), 404],
  ['a path traversal', () => get('/persona/../../etc/passwd'), 404],
];

describe('hostile input', () => {
  it('has at least 50 cases', () => {
    expect(rows.length).toBeGreaterThanOrEqual(50);
  });

  it.each(rows)('answers %s with %i, without a stack or internals', async (_name, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.text).not.toMatch(/at .+\.(?:ts|js):\d+|node_modules|stack|ECONN|127\.0\.0\.1/);
  });

  it('changed no state, and the service is still healthy and working', async () => {
    expect(harness.kratos.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    expect(harness.persona.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    expect(harness.kratos.identity(identityId)?.metadata_admin?.['persona']).toMatchObject({ status: 'created' });
    expect(({} as Record<string, unknown>)['identity_id']).toBeUndefined();

    await get('/healthz').expect(200, { status: 'ok' });
    const fresh = harness.kratos.createIdentity();
    await harness.postHook('/persona/initiate', { identity_id: fresh.id }).expect(200);
    expect(harness.kratos.identity(fresh.id)?.metadata_admin?.['persona']).toMatchObject({ status: 'created' });
  });

  it('never lets a header be injected through return_to', async () => {
    const { cookie } = harness.kratos.createSession(identityId);
    const response = await get('/persona/start?return_to=https%3A%2F%2Fapp.example.com%2F%0D%0ASet-Cookie%3A%20x%3D1', {
      Cookie: cookie,
    });
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(String(response.headers['location'] ?? '')).not.toMatch(/[\r\n]/);
  });
});
