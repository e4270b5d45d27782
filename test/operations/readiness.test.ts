import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startHarness, type Harness } from '../support/harness.js';

let harness: Harness;
let restarted: KratosStandIn | undefined;
afterEach(async () => {
  await harness.close();
  await restarted?.close();
  restarted = undefined;
});

const READY = { status: 'ready', coordination: 'single-instance', dependencies: { kratos: 'up' } };
const DEGRADED = {
  status: 'degraded',
  reason: 'kratos_unavailable',
  coordination: 'single-instance',
  dependencies: { kratos: 'down' },
};

const probes = (kratos: KratosStandIn) =>
  kratos.requests.filter((r) => r.path.includes('health') || r.path === '/admin/identities');

describe('GET /healthz and /readyz', () => {
  it('says degraded (still 200) when Kratos stops and ready again when it returns, checking at most every 5 s', async () => {
    harness = await startHarness();
    const port = Number(new URL(harness.kratos.url).port);
    await request(harness.app).get('/healthz').expect(200, { status: 'ok' });
    await request(harness.app).get('/readyz').expect(200, READY);
    expect(probes(harness.kratos).map((r) => r.path)).toEqual(['/admin/health/ready']);

    await harness.kratos.close();
    harness.clock.now += 4_999;
    await request(harness.app).get('/readyz').expect(200);
    harness.clock.now += 1;
    await request(harness.app).get('/readyz').expect(200, DEGRADED);
    await request(harness.app).get('/healthz').expect(200);

    restarted = await startKratosStandIn({ port });
    harness.clock.now += 5_000;
    await request(harness.app).get('/readyz').expect(200, READY);
  });

  it('shares one check among concurrent probes', async () => {
    harness = await startHarness();
    await Promise.all(Array.from({ length: 20 }, () => request(harness.app).get('/readyz').expect(200)));
    expect(probes(harness.kratos)).toHaveLength(1);
  });

  it('checks Ory Network with an authenticated call', async () => {
    harness = await startHarness({ ORY_API_KEY: 'ory_pat_ready' }, { kratosApiKey: 'ory_pat_ready' });
    await request(harness.app).get('/readyz').expect(200);
    const [probe] = probes(harness.kratos);
    expect(probe).toMatchObject({ method: 'GET', path: '/admin/identities', status: 200 });
    expect(probe?.headers['authorization']).toBe('Bearer ory_pat_ready');
  });

  // Every replica sees a revoked or rate-limited key at once: taken out of rotation together, they
  // would refuse every login, although the gate needs no admin call.
  it('keeps the login gate in rotation, degraded, when Ory Network refuses the API key', async () => {
    harness = await startHarness({ ORY_API_KEY: 'ory_pat_revoked' }, { kratosApiKey: 'ory_pat_current' });
    const { identityId } = harness.identityInState('approved');
    await harness.serve();
    await request(harness.app).get('/readyz').expect(200, DEGRADED);
    const login = await harness.kratos.login(identityId);
    expect(login.hook.status).toBe(204);
    expect(login.session).not.toBeNull();
  });

  // The same rule for a wrong setting every replica shares: a KRATOS_PUBLIC_URL left unset on
  // self-hosted Kratos (the admin port redirects session checks) must not take the logins down.
  it('stays in rotation, degraded and naming KRATOS_PUBLIC_URL, while that URL redirects session checks', async () => {
    harness = await startHarness({ KRATOS_PUBLIC_URL: undefined });
    const { identityId } = harness.identityInState('approved');
    await harness.serve();
    const response = await request(harness.app).get('/readyz').expect(200);
    expect(response.body).toEqual({
      status: 'degraded',
      reason: 'kratos_public_url_redirects',
      message: expect.stringContaining('KRATOS_PUBLIC_URL'),
      coordination: 'single-instance',
      dependencies: { kratos: 'down' },
    });
    expect(harness.kratos.requests.filter((r) => r.path === '/sessions/whoami').map((r) => r.status)).toEqual([307]);
    const login = await harness.kratos.login(identityId);
    expect(login.hook.status).toBe(204);
    expect(login.session).not.toBeNull();
  });
});
