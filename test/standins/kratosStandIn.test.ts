import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readAsKratos } from '../../sandbox/kratosResponse.js';
import { startKratosStandIn, type KratosStandIn, type KratosStandInOptions } from '../../sandbox/kratosStandIn.js';
import { collectViolations } from '../support/conformance/checkExchange.js';
import { credential } from '../../sandbox/kratosCredentials.js';

let kratos: KratosStandIn;
let service: Server | undefined;
afterEach(async () => {
  await kratos.close();
  await new Promise((resolve) => (service ? service.close(resolve) : resolve(undefined)));
  service = undefined;
});

/** A stand-in whose exchanges are checked here, so requests malformed on purpose can be asserted. */
async function standIn(options: KratosStandInOptions = {}) {
  const conformance = collectViolations();
  kratos = await startKratosStandIn({ inspect: conformance.inspect, ...options });
  return conformance.violations;
}

const patch = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${kratos.adminUrl}/admin/identities/${id}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('Kratos stand-in: admin API', () => {
  it('creates missing parents on replace and keeps sibling keys', async () => {
    const violations = await standIn();
    const identity = kratos.createIdentity({ metadata_public: { plan: 'free' } });
    const response = await patch(identity.id, [
      { op: 'replace', path: '/metadata_admin/persona', value: { status: 'created' } },
      { op: 'replace', path: '/metadata_public/persona', value: { status: 'created' } },
    ]);
    expect(response.status).toBe(200);
    expect(kratos.identity(identity.id)).toMatchObject({
      metadata_admin: { persona: { status: 'created' } },
      metadata_public: { plan: 'free', persona: { status: 'created' } },
    });
    expect(violations).toEqual([]);
  });

  it('accepts an empty JSON Patch and changes nothing, as jsonx.ApplyJSONPatch does', async () => {
    const violations = await standIn();
    const identity = kratos.createIdentity({ metadata_admin: { keep: true } });
    const response = await patch(identity.id, []);
    expect(response.status).toBe(200);
    expect(kratos.identity(identity.id)?.metadata_admin).toEqual({ keep: true });
    expect(violations).toEqual([]);
  });

  it.each([
    ['a test operation', [{ op: 'test', path: '/metadata_admin', value: null }]],
    ['a move operation', [{ op: 'move', from: '/traits', path: '/metadata_admin/traits' }]],
    ['a copy operation', [{ op: 'copy', from: '/traits', path: '/metadata_admin/traits' }]],
    ['a patch of the id', [{ op: 'replace', path: '/id', value: 'x' }]],
    ['a patch of credentials', [{ op: 'replace', path: '/credentials/oidc', value: {} }]],
    ['removing a missing path', [{ op: 'remove', path: '/metadata_admin/persona' }]],
    ['an unknown member', [{ op: 'add', path: '/verified', value: true }]],
    ['a prototype path', [{ op: 'add', path: '/metadata_admin/__proto__/x', value: 1 }]],
  ])('answers 400 to %s and changes nothing', async (_name, body) => {
    const violations = await standIn();
    const identity = kratos.createIdentity();
    const response = await patch(identity.id, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 400 } });
    expect(kratos.identity(identity.id)).toEqual(identity);
    expect(violations).toEqual([]);
  });

  it('answers 400 to a body that is not a JSON Patch array, which the conformance check names too', async () => {
    const violations = await standIn();
    const identity = kratos.createIdentity();
    expect((await patch(identity.id, { op: 'add', path: '/metadata_admin', value: {} })).status).toBe(400);
    expect(violations).toEqual([
      expect.objectContaining({
        operation: 'patchIdentity (PATCH /admin/identities/{id})',
        side: 'request',
        field: 'body /',
      }),
    ]);
  });

  it('applies a patch wholly or not at all', async () => {
    await standIn();
    const identity = kratos.createIdentity();
    const response = await patch(identity.id, [
      { op: 'add', path: '/metadata_admin/a', value: 1 },
      { op: 'remove', path: '/metadata_admin/b' },
    ]);
    expect(response.status).toBe(400);
    expect(kratos.identity(identity.id)?.metadata_admin).toBeNull();
  });

  it('requires the bearer key when configured, as Ory Network does', async () => {
    const violations = await standIn({ apiKey: 'ory_pat_test' });
    const identity = kratos.createIdentity();
    expect((await fetch(`${kratos.adminUrl}/admin/identities/${identity.id}`)).status).toBe(401);
    const authorized = await fetch(`${kratos.adminUrl}/admin/identities/${identity.id}`, {
      headers: { Authorization: 'Bearer ory_pat_test' },
    });
    expect(authorized.status).toBe(200);
    expect(await authorized.json()).toMatchObject({ id: identity.id, metadata_admin: null });
    expect(violations).toEqual([]);
  });

  it('lists identities by id in pages, with the Link header of keyset pagination, as Kratos v26 does', async () => {
    const violations = await standIn();
    const ids = Array.from({ length: 5 }, () => kratos.createIdentity().id).sort();
    const pages: string[][] = [];
    let url: string | undefined = `${kratos.adminUrl}/admin/identities?page_size=2`;
    while (url !== undefined) {
      const response: Response = await fetch(url);
      expect(response.status).toBe(200);
      pages.push(((await response.json()) as { id: string }[]).map((identity) => identity.id));
      const links = response.headers.get('link') ?? '';
      expect(links).toMatch(/<\/admin\/identities\?page_size=2&page_token=[^>]+>; rel="first"/);
      const next = /<([^>]+)>; rel="next"/.exec(links)?.[1];
      url = next === undefined ? undefined : `${kratos.adminUrl}${next}`;
    }
    expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
    const selected = await fetch(`${kratos.adminUrl}/admin/identities?ids=${ids[3]}&ids=${ids[0]}`);
    expect(((await selected.json()) as { id: string }[]).map((identity) => identity.id)).toEqual([ids[0], ids[3]]);
    expect(violations).toEqual([]);
  });

  it('refuses a page size out of bounds and a page token it did not issue', async () => {
    await standIn();
    for (const query of ['page_size=0', 'page_size=501', 'page_token=not-a-token']) {
      expect((await fetch(`${kratos.adminUrl}/admin/identities?${query}`)).status).toBe(400);
    }
  });

  it('answers 404 for unknown identities', async () => {
    await standIn();
    expect((await fetch(`${kratos.adminUrl}/admin/identities/5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34`)).status).toBe(404);
  });
});

describe('Kratos stand-in: the public and the admin listener', () => {
  it('checks sessions on the public API, without metadata_admin', async () => {
    const violations = await standIn();
    const identity = kratos.createIdentity({ metadata_admin: { secret: true } });
    const { token, cookie } = kratos.createSession(identity.id);
    const credentials: Record<string, string>[] = [{ 'X-Session-Token': token }, { Cookie: `theme=dark; ${cookie}` }];
    for (const headers of credentials) {
      const response = await fetch(`${kratos.public.url}/sessions/whoami`, { headers });
      expect(response.status).toBe(200);
      const session = (await response.json()) as { identity: Record<string, unknown> };
      expect(session.identity['id']).toBe(identity.id);
      expect(session.identity).not.toHaveProperty('metadata_admin');
    }
    expect((await fetch(`${kratos.public.url}/sessions/whoami`)).status).toBe(401);
    expect(violations).toEqual([]);
  });

  it('answers whoami on the admin port with a 307 to the public one, as session/handler.go does', async () => {
    const violations = await standIn();
    // The admin port serves every route with and without /admin; the query goes along.
    for (const [path, query] of [
      ['/sessions/whoami', '?tokenize_as=jwt'],
      ['/admin/sessions/whoami', ''],
    ] as const) {
      const response = await fetch(`${kratos.adminUrl}${path}${query}`, { redirect: 'manual' });
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe(`${kratos.public.url}/sessions/whoami${query}`);
    }
    expect(violations).toEqual([]);
  });

  it('answers the identity routes on the public port with a 307 to the admin one', async () => {
    await standIn();
    const identity = kratos.createIdentity();
    const response = await fetch(`${kratos.public.url}/admin/identities/${identity.id}`, { redirect: 'manual' });
    expect(response.status).toBe(307);
    expect(response.headers.get('location')).toBe(`${kratos.adminUrl}/admin/identities/${identity.id}`);
  });

  it('revokes all sessions of an identity, and answers 404 when it has none, as Kratos does', async () => {
    kratos = await startKratosStandIn();
    const identity = kratos.createIdentity();
    const other = kratos.createIdentity();
    const sessions = [kratos.createSession(identity.id), kratos.createSession(identity.id)];
    const kept = kratos.createSession(other.id);
    const whoami = (token: string) =>
      fetch(`${kratos.public.url}/sessions/whoami`, { headers: { 'X-Session-Token': token } }).then((r) => r.status);
    const revoke = () => fetch(`${kratos.url}/admin/identities/${identity.id}/sessions`, { method: 'DELETE' });

    expect((await revoke()).status).toBe(204);
    for (const session of sessions) expect(await whoami(session.token)).toBe(401);
    expect(await whoami(kept.token)).toBe(200);
    expect((await revoke()).status).toBe(404);
  });

  it('accepts only active and inactive as state, and refuses the sessions of an inactive identity', async () => {
    kratos = await startKratosStandIn();
    const identity = kratos.createIdentity();
    const session = kratos.createSession(identity.id);
    expect((await patch(identity.id, [{ op: 'replace', path: '/state', value: 'banned' }])).status).toBe(400);
    expect(kratos.identity(identity.id)?.state).toBe('active');
    expect((await patch(identity.id, [{ op: 'replace', path: '/state', value: 'inactive' }])).status).toBe(200);
    const whoami = await fetch(`${kratos.public.url}/sessions/whoami`, {
      headers: { 'X-Session-Token': session.token },
    });
    expect(whoami.status).toBe(401);
  });
});

describe('Kratos stand-in: web hooks, as its resilient client calls them', () => {
  /** A service answering the scripted statuses and bodies in turn (the last one from then on). */
  async function scriptedService(answers: { status: number; body?: string; hangMs?: number }[]) {
    const calls: IncomingHttpHeaders[] = [];
    service = createServer((request, response) => {
      const answer = answers[Math.min(calls.length, answers.length - 1)] ?? { status: 204 };
      calls.push(request.headers);
      request.resume();
      setTimeout(() => {
        if (!response.destroyed) response.writeHead(answer.status).end(answer.body ?? '');
      }, answer.hangMs ?? 0);
    });
    await new Promise<void>((resolve) => service?.listen(0, '127.0.0.1', resolve));
    const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    return { target: { serviceUrl, secret: 'hook-secret-0123456789abcdef' }, calls };
  }
  const FAST = { attemptTimeoutMs: 200, waitsMs: [10, 20] };

  it('calls a post-persist hook up to 3 times on 5xx, with one trigger id and a request id per attempt', async () => {
    const { target, calls } = await scriptedService([{ status: 503 }]);
    await standIn({ hooks: target, hookClient: FAST });
    const result = await kratos.register({ email: 'ann@example.com' });
    expect(result.hook.statuses).toEqual([503, 503, 503]);
    expect(result.hook.reading).toEqual({ kind: 'error_page', why: 'retried status 503' });
    expect(result.session).toBeNull();
    expect(new Set(calls.map((headers) => headers['ory-webhook-trigger-id'])).size).toBe(1);
    expect(new Set(calls.map((headers) => headers['ory-webhook-request-id'])).size).toBe(3);
    expect(kratos.identity(result.identityId)).toBeDefined();
  });

  it('retries a hook that times out, and continues once it answers', async () => {
    const { target, calls } = await scriptedService([{ status: 200, hangMs: 1_000 }, { status: 200 }]);
    await standIn({ hooks: target, hookClient: FAST });
    const result = await kratos.register({ email: 'ann@example.com' });
    expect(result.hook.statuses).toEqual([0, 200]);
    expect(calls).toHaveLength(2);
    expect(result.hook.reading).toEqual({ kind: 'continue' });
  });

  it('does not retry 501 or a 4xx', async () => {
    const { target, calls } = await scriptedService([{ status: 501 }]);
    await standIn({ hooks: target, hookClient: FAST });
    const result = await kratos.register({ email: 'ann@example.com' });
    expect(calls).toHaveLength(1);
    expect(result.hook.reading.kind).toBe('error_page');
  });

  it('fails a parsed hook whose 200 body is not JSON, as parseWebhookResponse does', async () => {
    const { target } = await scriptedService([{ status: 200, body: 'ok' }]);
    await standIn({ hooks: target, hookClient: FAST });
    const identity = kratos.createIdentity();
    const result = await kratos.login(identity.id);
    expect(result.hook.reading).toEqual({ kind: 'error_page', why: 'a 200 body that is not a JSON object' });
    expect(result.session).toBeNull();
  });

  it.each([
    [200, '', 'error_page'],
    [200, 'not json', 'error_page'],
    [200, '[]', 'error_page'],
    [200, '{}', 'continue'],
    [200, 'null', 'continue'],
    [200, '{"identity":{"traits":{}}}', 'continue'],
    [204, '', 'continue'],
  ])('reads a parsed hook answering %d %j as %s', (status, body, kind) => {
    expect(readAsKratos(status, body).kind).toBe(kind);
  });
});

describe('Kratos stand-in: credentials and recovery codes', () => {
  const json = (path: string, init: RequestInit = {}) =>
    fetch(`${kratos.adminUrl}${path}`, init).then(async (response) => ({
      status: response.status,
      body: response.status === 204 ? undefined : ((await response.json()) as any),
    }));

  it('finds an identity by credentials identifier, normalised as Kratos normalises it, and never shows secrets', async () => {
    const violations = await standIn();
    const jane = kratos.createIdentity({
      credentials: { password: credential('password', ['Jane@Example.com']), oidc: credential('oidc', ['google:Abc']) },
    });
    kratos.createIdentity({ credentials: { password: credential('password', ['john@example.com']) } });

    const byEmail = await json(`/admin/identities?credentials_identifier=${encodeURIComponent('  JANE@example.com ')}`);
    expect(byEmail.body.map((identity: { id: string }) => identity.id)).toEqual([jane.id]);
    expect(byEmail.body[0].credentials.password).toEqual({
      type: 'password',
      identifiers: ['jane@example.com'],
      version: 0,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    // Social sign-in identifiers match exactly.
    expect((await json('/admin/identities?credentials_identifier=google%3AAbc')).body).toHaveLength(1);
    expect((await json('/admin/identities?credentials_identifier=google%3Aabc')).body).toEqual([]);
    expect((await json('/admin/identities?credentials_identifier=nobody%40example.com')).body).toEqual([]);
    const session = kratos.createSession(jane.id);
    const whoami = await json('/sessions/whoami', { headers: { 'X-Session-Token': session.token } });
    expect(whoami.body.identity).not.toHaveProperty('credentials');
    expect(violations).toEqual([]);
  });

  it('derives recovery and verifiable addresses from the email trait, as Kratos does from its schema', async () => {
    const violations = await standIn();
    const jane = kratos.createIdentity({ traits: { email: ' Jane@Example.com' } });

    const read = (await json(`/admin/identities/${jane.id}`)).body;
    expect(read.verifiable_addresses).toEqual([
      {
        id: expect.any(String),
        value: 'jane@example.com',
        verified: false,
        via: 'email',
        status: 'sent',
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    ]);
    expect(read.recovery_addresses).toEqual([
      {
        id: expect.any(String),
        value: 'jane@example.com',
        via: 'email',
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    ]);
    expect(kratos.createIdentity({ traits: { username: 'jdoe' } })).toMatchObject({
      verifiable_addresses: [],
      recovery_addresses: [],
    });
    expect(violations).toEqual([]);
  });

  it('deletes credentials by type as Kratos does: second factors, WebAuthn keeping passwordless keys, never the last first factor', async () => {
    const violations = await standIn();
    const identity = kratos.createIdentity({
      credentials: {
        password: credential('password', ['jane@example.com']),
        totp: credential('totp'),
        lookup_secret: credential('lookup_secret'),
        webauthn: credential('webauthn', [], {
          credentials: [
            { id: 'second', is_passwordless: false },
            { id: 'first', is_passwordless: true },
          ],
        }),
        passkey: credential('passkey'),
      },
    });
    const remove = (type: string) => json(`/admin/identities/${identity.id}/credentials/${type}`, { method: 'DELETE' });

    expect((await remove('totp')).status).toBe(204);
    expect((await remove('totp')).status).toBe(404);
    expect((await remove('lookup_secret')).status).toBe(204);
    expect((await remove('webauthn')).status).toBe(204);
    expect((await remove('passkey')).status).toBe(400);
    expect((await remove('password')).status).toBe(400);
    expect(kratos.identity(identity.id)?.credentials['webauthn']?.config.credentials).toEqual([
      { id: 'first', is_passwordless: true },
    ]);
    expect(Object.keys(kratos.identity(identity.id)?.credentials ?? {}).sort()).toEqual([
      'passkey',
      'password',
      'webauthn',
    ]);
    expect(
      (await json(`/admin/identities/5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34/credentials/totp`, { method: 'DELETE' }))
        .status,
    ).toBe(404);
    expect(violations).toEqual([]);
  });

  it('creates recovery codes as Kratos’s admin API does, and its recovery form refuses a wrong code', async () => {
    const violations = await standIn();
    const identity = kratos.createIdentity();
    const create = (body: unknown) =>
      json('/admin/recovery/code', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });

    expect((await create({ identity_id: identity.id, expires_in: 'ten minutes' })).status).toBe(400);
    expect((await create({ identity_id: identity.id, expires_in: '0s' })).status).toBe(400);
    expect((await create({ identity_id: identity.id, flow_type: 'native' })).status).toBe(400);
    expect((await create({ identity_id: '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34' })).status).toBe(404);
    const created = await create({ identity_id: identity.id, expires_in: '1m30s' });
    expect(created).toEqual({
      status: 201,
      body: {
        recovery_link: expect.stringMatching(/\/sandbox\/recovery\?flow=[0-9a-f-]{36}$/),
        recovery_code: expect.stringMatching(/^\d{6}$/),
        expires_at: expect.any(String),
      },
    });
    expect(Date.parse(created.body.expires_at) - Date.now()).toBeGreaterThan(85_000);
    expect(Date.parse(created.body.expires_at) - Date.now()).toBeLessThanOrEqual(90_000);

    const flowId = new URL(created.body.recovery_link).searchParams.get('flow') as string;
    const wrong = created.body.recovery_code === '000000' ? '111111' : '000000';
    expect(await kratos.recover(flowId, wrong)).toMatchObject({ kind: 'invalid' });
    // Only the request malformed on purpose breaks Kratos's published document; every answer keeps to it.
    expect(violations).toEqual([
      expect.objectContaining({
        side: 'request',
        field: 'body /expires_in',
        operation: expect.stringContaining('createRecoveryCodeForIdentity'),
      }),
    ]);
  });
});
