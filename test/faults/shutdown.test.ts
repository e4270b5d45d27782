import { afterEach, describe, expect, it } from 'vitest';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { freePort, startServerProcess, waitForAnswer } from '../support/serverProcess.js';

let kratos: KratosStandIn;
afterEach(() => kratos.close());

describe('graceful shutdown', () => {
  it('finishes a request in flight when SIGTERM arrives, refuses new connections, and exits 0', async () => {
    kratos = await startKratosStandIn();
    const identity = kratos.createIdentity();
    const port = await freePort();
    const server = startServerProcess({
      ORY_WEBHOOK_SECRET: 'shutdown-test-secret-0123456789',
      KRATOS_ADMIN_URL: kratos.adminUrl,
      KRATOS_PUBLIC_URL: kratos.public.url,
      PERSONA_API_KEY: 'persona_sandbox_shutdown',
      PERSONA_TEMPLATE_ID: 'itmpl_Shutdown',
      PERSONA_WEBHOOK_SECRET: 'wbhsec_shutdown_0123456789',
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    await waitForAnswer(`http://127.0.0.1:${port}/healthz`);
    // The login gate's fallback read will take a second and a half.
    kratos.inject({ method: 'GET', path: `/admin/identities/${identity.id}`, delayMs: 1_500 });

    const inFlight = fetch(`http://127.0.0.1:${port}/persona/validate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': 'shutdown-test-secret-0123456789' },
      body: JSON.stringify({ identity_id: identity.id, persona: null }),
    });
    // Kratos has seen the start-up check already: wait for the gate's read of this identity.
    const gateRead = () => kratos.requests.some((request) => request.path === `/admin/identities/${identity.id}`);
    while (!gateRead()) await new Promise((resolve) => setTimeout(resolve, 10));
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));

    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect((await inFlight).status).toBe(204);
    expect(await server.exited).toBe(0);
  });
});
