import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_ROUTES } from '../../src/admin/adminRoutes.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startKratosStandIn } from '../../sandbox/kratosStandIn.js';
import { ADMIN_ENV, ADMIN_TOKEN, adminClient, startAdminHarness } from '../support/admin.js';
import { startHarness, type Harness } from '../support/harness.js';
import { freePort, startServerProcess, waitForAnswer } from '../support/serverProcess.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const ROTATED = 'admin-token-next-abcdefghij0123456789';

/** A valid request to each route, by operationId: every route of the table needs one here. */
const SAMPLES: Record<string, (identityId: string) => { query?: string; body?: unknown }> = {
  getVerification: () => ({ query: '?actor=agent-1' }),
  createVerificationLink: () => ({ body: { actor: 'agent-1' } }),
  requireReverification: () => ({ body: { actor: 'agent-1', reason: 'role_change' } }),
  requireCohortReverification: (id) => ({
    body: { actor: 'agent-1', reason: 'incident', identity_ids: [id], dry_run: true },
  }),
  redactIdentity: () => ({ body: { actor: 'agent-1', dry_run: true } }),
  listAudit: () => ({}),
  getOpenApiDocument: () => ({}),
};

const calls = (identityId: string) =>
  ADMIN_ROUTES.map((route) => {
    const sample = SAMPLES[route.operationId]?.(identityId) ?? {};
    return {
      name: `${route.method.toUpperCase()} ${route.path}`,
      method: route.method,
      path: `${route.path.replace('{id}', identityId)}${sample.query ?? ''}`,
      body: sample.body,
    };
  });

const send = (app: Harness['app'], call: ReturnType<typeof calls>[number], token: string | null) => {
  const client = adminClient(app);
  return call.method === 'get' ? client.get(call.path, token) : client.post(call.path, call.body, token);
};

describe('admin API authentication', () => {
  it('has a sample request for every route', () => {
    expect(ADMIN_ROUTES.map((route) => route.operationId).sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it('refuses every route without a token, or with a wrong one, before reading anything', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    for (const call of calls(id)) {
      for (const token of [null, 'admin-token-wrong-0123456789abcdef', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1)]) {
        const response = await send(harness.app, call, token);
        expect({ call: call.name, status: response.status }).toEqual({ call: call.name, status: 401 });
        expect(response.body).toEqual({ error: { code: 'unauthorized', message: 'missing or wrong bearer token' } });
        expect(response.headers['www-authenticate']).toBe('Bearer realm="admin"');
      }
    }
    expect(harness.kratos.requests).toEqual([]);
    // A scheme other than Bearer, or the token in another header, is no token.
    const basic = await request(harness.app).get('/admin/openapi.json').set('Authorization', `Basic ${ADMIN_TOKEN}`);
    expect(basic.status).toBe(401);
    // The scheme is case-insensitive: a client writing `bearer` is let in.
    const lowerCase = await request(harness.app)
      .get('/admin/openapi.json')
      .set('Authorization', `bearer ${ADMIN_TOKEN}`);
    expect(lowerCase.status).toBe(200);
    const unknown = await request(harness.app).get('/admin/nothing-here');
    expect(unknown.status).toBe(401);
  });

  it('accepts each token of a rotation list on every route', async () => {
    harness = await startAdminHarness({ ADMIN_API_TOKEN: `${ROTATED},${ADMIN_TOKEN}` });
    const { id } = harness.kratos.createIdentity();
    for (const call of calls(id)) {
      for (const token of [ROTATED, ADMIN_TOKEN]) {
        const response = await send(harness.app, call, token);
        expect({ call: call.name, status: response.status }).not.toEqual({ call: call.name, status: 401 });
        // Without DATABASE_URL the audit is the log only: that route answers 501, the others 200.
        expect(response.status).toBe(call.path.startsWith('/admin/audit') ? 501 : 200);
      }
    }
  });

  it('is off without ADMIN_API_TOKEN: every route is unknown, with or without a token', async () => {
    harness = await startHarness({ PUBLIC_BASE_URL: ADMIN_ENV.PUBLIC_BASE_URL });
    const { id } = harness.kratos.createIdentity();
    for (const call of calls(id)) {
      for (const token of [null, ADMIN_TOKEN]) {
        const test = call.method === 'get' ? request(harness.app).get(call.path) : request(harness.app).post(call.path);
        const response = await (token === null ? test : test.set('Authorization', `Bearer ${token}`));
        expect({ call: call.name, status: response.status }).toEqual({ call: call.name, status: 404 });
      }
    }
    expect((await request(harness.app).get('/persona/start/code')).status).toBe(404);
  });

  it('answers an unknown admin path 404 once authenticated', async () => {
    harness = await startAdminHarness();
    const response = await request(harness.app).get('/admin/identities').set('Authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'not_found', message: 'no such admin route' } });
  });
});

describe('ADMIN_PORT', () => {
  const REQUIRED = {
    ORY_WEBHOOK_SECRET: 'admin-port-test-secret-0123456789',
    PERSONA_API_KEY: 'persona_sandbox_admin_port',
    PERSONA_TEMPLATE_ID: 'itmpl_AdminPort',
    PERSONA_WEBHOOK_SECRET: 'wbhsec_admin_port_0123456789',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...ADMIN_ENV,
  };

  it('serves the admin API on its own listener only, and the code entry page on the public one', async () => {
    const kratos = await startKratosStandIn();
    const [port, adminPort] = [await freePort(), await freePort()];
    const server = startServerProcess({
      ...REQUIRED,
      KRATOS_ADMIN_URL: kratos.adminUrl,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
    });
    try {
      await waitForAnswer(`http://127.0.0.1:${port}/healthz`);
      const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };
      const publicPort = await fetch(`http://127.0.0.1:${port}/admin/openapi.json`, { headers: auth });
      expect(publicPort.status).toBe(404);
      const onAdminPort = await waitForAnswer(`http://127.0.0.1:${adminPort}/admin/openapi.json`);
      expect(onAdminPort.status).toBe(401);
      const document = await fetch(`http://127.0.0.1:${adminPort}/admin/openapi.json`, { headers: auth });
      expect(document.status).toBe(200);
      expect(((await document.json()) as { openapi: string }).openapi).toBe('3.1.0');
      // The admin listener serves nothing else.
      expect((await fetch(`http://127.0.0.1:${adminPort}/persona/start/code`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/persona/start/code`)).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      await kratos.close();
    }
  });

  it('refuses ADMIN_PORT without ADMIN_API_TOKEN, or on the service port, naming the variable', async () => {
    const port = await freePort();
    const withoutToken = startServerProcess({
      ...REQUIRED,
      ADMIN_API_TOKEN: '',
      KRATOS_ADMIN_URL: 'http://127.0.0.1:9',
      PORT: String(port),
      ADMIN_PORT: String(port + 1),
    });
    expect(await withoutToken.exited).toBe(1);
    expect(withoutToken.stderr()).toContain('ADMIN_PORT: is set, but the admin API is off without ADMIN_API_TOKEN');
    const samePort = startServerProcess({
      ...REQUIRED,
      KRATOS_ADMIN_URL: 'http://127.0.0.1:9',
      PORT: String(port),
      ADMIN_PORT: String(port),
    });
    expect(await samePort.exited).toBe(1);
    expect(samePort.stderr()).toContain('ADMIN_PORT: must differ from PORT and METRICS_PORT');
    expect(samePort.stderr()).not.toContain(ADMIN_TOKEN);
  });
});

describe('ADMIN_API_TOKEN', () => {
  const env = {
    ORY_WEBHOOK_SECRET: 'admin-config-hook-secret-0123456789',
    KRATOS_ADMIN_URL: 'http://127.0.0.1:9',
    PERSONA_API_KEY: 'persona_sandbox_admin_config',
    PERSONA_TEMPLATE_ID: 'itmpl_AdminConfig',
    PERSONA_WEBHOOK_SECRET: 'wbhsec_admin_config_0123456789',
  };
  const problems = (extra: Record<string, string>) => {
    try {
      loadConfig({ ...env, ...extra });
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it('is held to the secret policy: long, varied, not a placeholder, no other secret', () => {
    expect(problems({ ADMIN_API_TOKEN: `${ADMIN_TOKEN},${ROTATED}` })).toEqual([]);
    for (const token of ['short-token', 'CHANGE-ME-ADMIN_API_TOKEN', 'abababababababababab', env.ORY_WEBHOOK_SECRET]) {
      const found = problems({ ADMIN_API_TOKEN: token });
      expect(found, token).toEqual([expect.stringMatching(/^ADMIN_API_TOKEN: /)]);
      expect(found.join(''), token).not.toContain(token);
    }
  });
});
