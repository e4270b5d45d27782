import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import type { KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../sandbox/webhookReceiver.js';

/**
 * One receiver that accepts the connection and never answers (a hung endpoint, a black-holing
 * proxy) holds up no other channel: each has a lane of its own (review of issue 18).
 */

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let sandbox: SandboxEnvironment | undefined;
let healthy: WebhookReceiver | undefined;
let hung: Server | undefined;
afterEach(async () => {
  await sandbox?.close();
  await healthy?.close();
  hung?.closeAllConnections();
  await new Promise((resolve) => (hung?.listening ? hung.close(resolve) : resolve(undefined)));
});

/** A receiver that reads each request and never answers; it notes when each request ends. */
async function startHungReceiver() {
  const requests: { endedAt: number | undefined }[] = [];
  const server = createServer((req) => {
    const request = { endedAt: undefined as number | undefined };
    requests.push(request);
    req.resume();
    req.socket.on('close', () => (request.endedAt = performance.now()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, requests, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` };
}

const until = async (condition: () => boolean, what: string, rounds = 200) => {
  for (let round = 0; round < rounds && !condition(); round += 1) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

describe('a receiver that hangs', () => {
  it('holds up no other receiver: the next event reaches the healthy one while the hung request is open', async () => {
    const black = await startHungReceiver();
    hung = black.server;
    healthy = await startWebhookReceiver({ secret: SECRET });
    sandbox = await startSandbox({
      env: { NOTIFY_WEBHOOK_URLS: `${black.endpoint},${healthy.endpoint}`, NOTIFY_WEBHOOK_SECRET: SECRET },
    });
    const kratos = sandbox.kratos as KratosStandIn;
    const inquiryOf = (identityId: string) =>
      (kratos.identity(identityId)?.metadata_admin?.['persona'] as { inquiry_id: string }).inquiry_id;

    const first = await kratos.register({ email: 'first@example.com' });
    await sandbox.persona.settled();
    sandbox.persona.simulate(inquiryOf(first.identityId), ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    await sandbox.persona.settled();
    await until(() => healthy!.verified.length === 1 && black.requests.length === 1, 'the first decline');

    const second = await kratos.register({ email: 'second@example.com' });
    await sandbox.persona.settled();
    sandbox.persona.simulate(inquiryOf(second.identityId), ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    await sandbox.persona.settled();
    // The hung attempt is given up after 15 s; the second decline arrives before or after that.
    await until(() => healthy!.verified.length === 2, 'the second decline', 500);
    const secondArrivedAt = healthy.requests.filter((request) => request.status === 204)[1]?.receivedAt;
    expect(secondArrivedAt).toBeDefined();

    // The hung receiver's first request was still open when the healthy one got the second event.
    expect(black.requests[0]?.endedAt ?? Infinity).toBeGreaterThan(secondArrivedAt as number);
  }, 40_000);
});
