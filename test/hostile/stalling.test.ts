import { randomUUID } from 'node:crypto';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UNVERIFIED_BODY_DEADLINE_MS } from '../../src/http/body.js';
import { createHttpServer } from '../../src/http/httpServer.js';
import {
  ORY_WEBHOOK_SECRET,
  RECOVERY_TEMPLATE_ID,
  personaSignature,
  startHarness,
  type Harness,
} from '../support/harness.js';

/**
 * Places a stranger can take without any credential (the callback's unverified bodies, the
 * recovery form's, connections that send nothing) never keep Persona's deliveries or Kratos's
 * hook calls out: the stranger's places go to the newcomer, not the other way round. The stranger
 * here renews whatever is closed at once, as an attacker would.
 */

let harness: Harness;
let closeServer: (() => Promise<void>) | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await closeServer?.();
  closeServer = undefined;
  await harness.close();
});

/** The app behind the production HTTP server, with its limits. */
async function serve(h: Harness): Promise<number> {
  const server = createHttpServer(h.app, h.config.http);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeServer = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return (server.address() as AddressInfo).port;
}

interface Held {
  socket: Socket;
  closed: () => boolean;
}

/** A connection that sends `head`, then one more byte every `dripMs` (none when undefined). */
function hold(port: number, head: string, dripMs?: number): Held {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let closed = false;
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  if (head !== '') socket.write(head);
  if (dripMs !== undefined) {
    const drip = setInterval(() => socket.write(' '), dripMs);
    socket.on('close', () => clearInterval(drip));
  }
  return { socket, closed: () => closed };
}

/** Keeps `count` of `open()` open, replacing each one the service closes within a few milliseconds. */
function keepOpen(count: number, open: () => Held): { held: () => Held[]; replaced: () => number; stop: () => void } {
  let held = Array.from({ length: count }, open);
  let replaced = 0;
  const timer = setInterval(() => {
    held = held.map((one) => {
      if (!one.closed()) return one;
      replaced += 1;
      return open();
    });
  }, 5);
  return { held: () => held, replaced: () => replaced, stop: () => clearInterval(timer) };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A login gate call with the webhook secret whose body is still on its way. */
const slowLoginHead =
  'POST /persona/validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
  `X-Webhook-Secret: ${ORY_WEBHOOK_SECRET}\r\nContent-Length: 100\r\n\r\n{`;

describe('forged callback bodies dripping into every place', () => {
  it('leave genuine deliveries applied, not refused', async () => {
    harness = await startHarness();
    const port = await serve(harness);
    const nowSeconds = Math.floor(harness.clock.now / 1000);
    // Well-formed, current, and made up: the header passes, so each gets a place to read its body in.
    const forged =
      'POST /persona/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Persona-Signature: t=${nowSeconds},v1=${'0'.repeat(64)}\r\nContent-Length: 200000\r\n\r\n{`;
    const stranger = keepOpen(40, () => hold(port, forged, 200));
    await pause(300);

    const results: { status: number; applied: boolean }[] = [];
    for (let delivery = 0; delivery < 5; delivery += 1) {
      const { identityId, inquiryId } = harness.identityInState('pending');
      harness.persona.setStatus(inquiryId, 'approved');
      const rawBody = JSON.stringify(harness.persona.eventFor(inquiryId, 'inquiry.approved'));
      const response = await fetch(`http://127.0.0.1:${port}/persona/callback`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Persona-Signature': personaSignature(rawBody, { timestamp: nowSeconds }),
        },
        body: rawBody,
      });
      const record = harness.kratos.identity(identityId)?.metadata_admin?.['persona'] as { status?: string };
      results.push({ status: response.status, applied: record.status === 'approved' });
      await pause(100);
    }
    stranger.stop();

    expect(results).toEqual(Array.from({ length: 5 }, () => ({ status: 200, applied: true })));
    // The stranger held every place throughout: 40 bodies for 32 places, each push-out renewed.
    expect(stranger.replaced()).toBeGreaterThanOrEqual(8);
    expect(stranger.held().filter((one) => !one.closed()).length).toBeGreaterThanOrEqual(32);
  }, 20_000);

  it('are cut off once their deadline passes, even with no one pushing them out', async () => {
    harness = await startHarness({ HTTP_BODY_IDLE_TIMEOUT: '10s' });
    const port = await serve(harness);
    const forged =
      'POST /persona/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Persona-Signature: t=${Math.floor(harness.clock.now / 1000)},v1=${'0'.repeat(64)}\r\n` +
      'Content-Length: 200000\r\n\r\n{';
    const started = performance.now();
    // Dripping well within the idle timeout: only the deadline ends them.
    const held = Array.from({ length: 10 }, () => hold(port, forged, 100));
    while (held.some((one) => !one.closed()) && performance.now() - started < 8_000) await pause(20);
    const lasted = performance.now() - started;

    expect(held.every((one) => one.closed())).toBe(true);
    // Node's own timers may fire late on a busy machine; the idle timeout (10 s) would be far later.
    expect(lasted).toBeGreaterThanOrEqual(UNVERIFIED_BODY_DEADLINE_MS);
    expect(lasted).toBeLessThan(UNVERIFIED_BODY_DEADLINE_MS + 1_500);
  }, 20_000);
});

describe('forms without credentials dripping', () => {
  const formHead = (path: string, length: number, field: string) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
    `Content-Length: ${length}\r\n\r\n${field}=`;

  it.each([
    [
      'recovery forms',
      { RECOVERY_BY_VERIFICATION: 'true', PERSONA_RECOVERY_TEMPLATE_ID: RECOVERY_TEMPLATE_ID },
      formHead('/persona/recover', 4000, 'identifier'),
    ],
    [
      'short code entries',
      { ADMIN_API_TOKEN: 'admin-token-0123456789abcdefghij' },
      formHead('/persona/start/code', 1000, 'code'),
    ],
  ])(
    '%s hold at most their 32 places, so they cannot fill the connection cap',
    async (_forms, env, slowForm) => {
      harness = await startHarness({
        PUBLIC_BASE_URL: 'https://idv.example.com',
        ...env,
        HTTP_MAX_CONNECTIONS: '128',
        HTTP_BODY_IDLE_TIMEOUT: '10s',
      });
      const port = await serve(harness);
      // More slow forms than the connection cap holds, renewed as they are closed.
      const stranger = keepOpen(150, () => hold(port, slowForm, 200));
      await pause(500);

      const login = await fetch(`http://127.0.0.1:${port}/persona/validate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': ORY_WEBHOOK_SECRET, Connection: 'close' },
        body: JSON.stringify({ identity_id: randomUUID(), persona: { status: 'approved' } }),
      }).then(
        (response) => response.status,
        () => 'connection closed',
      );
      stranger.stop();
      // Once the service has caught up with the last ones opened, and before their deadline.
      const open = () => stranger.held().filter((one) => !one.closed()).length;
      for (let waited = 0; open() > 32 && waited < 1_500; waited += 20) await pause(20);

      expect(login).toBe(204);
      expect(open()).toBeLessThanOrEqual(32);
      expect(harness.persona.requests.filter((r) => r.method === 'POST')).toEqual([]);
    },
    20_000,
  );
});

describe('idle connections at the connection cap', () => {
  it('make room for Kratos: every login gate call is answered', async () => {
    harness = await startHarness({ HTTP_MAX_CONNECTIONS: '128' });
    const port = await serve(harness);
    // Connections that send nothing, at the cap, each one the service closes opened again at once.
    const stranger = keepOpen(128, () => hold(port, ''));
    await pause(300);

    const results: (number | string)[] = [];
    for (let call = 0; call < 10; call += 1) {
      results.push(
        await fetch(`http://127.0.0.1:${port}/persona/validate`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': ORY_WEBHOOK_SECRET },
          body: JSON.stringify({ identity_id: randomUUID(), persona: { status: 'approved' } }),
        }).then(
          (response) => response.status,
          () => 'connection closed',
        ),
      );
      await pause(50);
    }
    stranger.stop();

    expect(results).toEqual(Array.from({ length: 10 }, () => 204));
    expect(stranger.replaced()).toBeGreaterThanOrEqual(10);
  }, 20_000);

  it('are closed before a connection serving a request, the one idle the longest first', async () => {
    harness = await startHarness({ HTTP_MAX_CONNECTIONS: '128', HTTP_BODY_IDLE_TIMEOUT: '10s' });
    const port = await serve(harness);
    // Kratos's connection, older than all the others, busy with a login whose body is on its way.
    const slowLogin = hold(port, slowLoginHead, 500);
    await pause(100);
    const idle: Held[] = [];
    for (let index = 0; index < 127; index += 1) {
      idle.push(hold(port, ''));
      await pause(2);
    }
    await pause(200);
    const newcomer = hold(port, '');
    await pause(200);

    expect(slowLogin.closed()).toBe(false);
    expect(idle[0]?.closed()).toBe(true);
    expect(idle.slice(1).filter((one) => one.closed())).toEqual([]);
    expect(newcomer.closed()).toBe(false);
  }, 20_000);

  it('still bound the connections: a newcomer is refused while every connection serves a request', async () => {
    harness = await startHarness({ HTTP_MAX_CONNECTIONS: '128', HTTP_BODY_IDLE_TIMEOUT: '10s' });
    const port = await serve(harness);
    const busy = Array.from({ length: 128 }, () => hold(port, slowLoginHead, 500));
    await pause(300);
    const newcomer = hold(port, '');
    await pause(200);

    expect(busy.filter((one) => one.closed())).toEqual([]);
    expect(newcomer.closed()).toBe(true);
  }, 20_000);
});
