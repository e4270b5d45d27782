import { describe, expect, it, vi } from 'vitest';
import { startKratosStandIn } from '../../sandbox/kratosStandIn.js';
import { freePort, startServerProcess, waitForAnswer } from '../support/serverProcess.js';

const REQUIRED = {
  ORY_WEBHOOK_SECRET: 'process-test-secret-0123456789',
  KRATOS_ADMIN_URL: 'http://127.0.0.1:9',
  PERSONA_API_KEY: 'persona_sandbox_process_test',
  PERSONA_TEMPLATE_ID: 'itmpl_ProcessTest',
  PERSONA_WEBHOOK_SECRET: 'wbhsec_process_test_0123456789',
};

describe('the server process', () => {
  it('starts with only the required variables and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const server = startServerProcess({ ...REQUIRED, PORT: String(port), HOST: '127.0.0.1' });
    const health = await waitForAnswer(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stdout()).not.toContain(REQUIRED.ORY_WEBHOOK_SECRET);
    expect(server.stdout()).toContain(
      'single-instance mode (no DATABASE_URL): run exactly one replica, one process, with Recreate rollouts',
    );
  });

  it('says at start how it runs, what is off and why, and that Kratos does not answer', async () => {
    const port = await freePort();
    const server = startServerProcess({ ...REQUIRED, PORT: String(port), HOST: '127.0.0.1' });
    await waitForAnswer(`http://127.0.0.1:${port}/healthz`);
    await vi.waitFor(() => expect(server.stdout()).toContain('Kratos admin API unreachable'), { timeout: 5_000 });
    server.child.kill('SIGTERM');
    await server.exited;

    const lines = server
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line['msg'] === 'ory-persona-idv listening')).toMatchObject({
      level: 30,
      port,
      mode: 'single-instance',
      login_policy: 'block-declined',
      persona_environment: 'sandbox',
      features: { verify_links: 'off: PUBLIC_BASE_URL is unset' },
    });
    const warnings = lines.filter((line) => line['level'] === 40);
    // On loopback, /metrics is served without a token: no METRICS_TOKEN warning here.
    expect(warnings.map((line) => line['setting'] ?? line['msg'])).toEqual([
      'RETURN_TO_ALLOWLIST',
      expect.stringMatching(/^Kratos admin API unreachable or unhealthy at start/),
    ]);
  });

  it('lists every configuration problem by name, without values, and exits 1', async () => {
    const server = startServerProcess({
      ORY_WEBHOOK_SECRET: 'too-short',
      PORT: 'eighty',
      LOGIN_POLICY: 'allow-everyone',
    });
    expect(await server.exited).toBe(1);
    const names = [...server.stderr().matchAll(/^ {2}- ([A-Z_]+):/gm)].map((match) => match[1]);
    expect(names).toEqual([
      'PORT',
      'ORY_WEBHOOK_SECRET',
      'KRATOS_ADMIN_URL',
      'PERSONA_API_KEY',
      'PERSONA_TEMPLATE_ID',
      'PERSONA_WEBHOOK_SECRET',
      'LOGIN_POLICY',
    ]);
    expect(server.stderr()).not.toMatch(/too-short|eighty|allow-everyone/);
  });

  it('serves /metrics on METRICS_PORT only, when set', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const server = startServerProcess({
      ...REQUIRED,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      METRICS_TOKEN: 'metrics-token-0123456789abcdef',
    });
    await waitForAnswer(`http://127.0.0.1:${port}/healthz`);
    const refused = await waitForAnswer(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: { code: 'unauthorized', message: 'missing or wrong bearer token' } });
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
      headers: { Authorization: 'Bearer metrics-token-0123456789abcdef' },
    });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('process_cpu_user_seconds_total');
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it.each([
    ['left at its default, the admin URL', true],
    ['set to the public API', false],
  ])('probes KRATOS_PUBLIC_URL once at start, and names it when it redirects: %s', async (_name, pointsAtAdmin) => {
    const kratos = await startKratosStandIn();
    const port = await freePort();
    const server = startServerProcess({
      ...REQUIRED,
      KRATOS_ADMIN_URL: kratos.adminUrl,
      ...(!pointsAtAdmin && { KRATOS_PUBLIC_URL: kratos.public.url }),
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    try {
      await waitForAnswer(`http://127.0.0.1:${port}/healthz`);
      const probes = () => [...kratos.requests, ...kratos.public.requests].filter((r) => r.path === '/sessions/whoami');
      for (let wait = 0; wait < 100 && probes().length === 0; wait += 1) await new Promise((r) => setTimeout(r, 20));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const errors = server
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"level":50'));
      expect(probes()).toHaveLength(1);
      if (pointsAtAdmin) {
        expect(probes()[0]?.status).toBe(307);
        expect(errors).toEqual([expect.stringContaining('"setting":"KRATOS_PUBLIC_URL"')]);
        expect(errors[0]).toContain("KRATOS_PUBLIC_URL answers Kratos's session check with a redirect");
        expect(kratos.public.requests).toHaveLength(0);
      } else {
        expect(errors).toEqual([]);
      }
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await kratos.close();
    }
  });
});
