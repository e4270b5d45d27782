import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  residentBytes,
  startServerProcess,
  waitForAnswer,
  type ServerProcess,
} from '../support/serverProcess.js';

/**
 * Slow and idle clients against the server as it runs in production (its own process, so its
 * memory can be measured): each kind is cut off within the configured timeouts, and hundreds of
 * them cost the service a bounded amount of memory.
 */

const LIMITS = {
  HTTP_HEADERS_TIMEOUT: '2s',
  HTTP_REQUEST_TIMEOUT: '6s',
  HTTP_BODY_IDLE_TIMEOUT: '2s',
  HTTP_MAX_CONNECTIONS: '1000',
};
const SECONDS = 1_000;
/** Node checks for expired requests once a second; closing takes a moment more. */
const SLACK_MS = 1_500;
const MiB = 1024 * 1024;

let server: ServerProcess;
let port: number;

beforeAll(async () => {
  port = await freePort();
  server = startServerProcess({
    ORY_WEBHOOK_SECRET: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
    KRATOS_ADMIN_URL: 'http://127.0.0.1:9',
    PERSONA_API_KEY: 'persona_sandbox_slow_clients',
    PERSONA_TEMPLATE_ID: 'itmpl_SlowClients',
    PERSONA_WEBHOOK_SECRET: 'wbhsec_7c1e9a2f4b6d8e0a3c5f7b9d1e2a4c6f',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...LIMITS,
  });
  await waitForAnswer(`http://127.0.0.1:${port}/healthz`);
}, 30_000);
afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

interface Client {
  socket: Socket;
  /** When it stopped sending (performance.now()). */
  stalledAt: number;
  /** When the server closed the connection; undefined while open. */
  closedAt: number | undefined;
  received: string;
}

function client(): Promise<Client> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const probe: Client = { socket, stalledAt: performance.now(), closedAt: undefined, received: '' };
    socket.on('data', (chunk: Buffer) => (probe.received += chunk.toString('latin1')));
    socket.on('end', () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('close', () => (probe.closedAt ??= performance.now()));
    socket.on('connect', () => resolve(probe));
  });
}

const write = (probe: Client, data: string | Buffer) =>
  new Promise<void>((resolve) => {
    if (probe.closedAt !== undefined) return resolve();
    probe.socket.write(data, () => resolve());
  });

const callbackHead = (contentLength: number) =>
  'POST /persona/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
  `Persona-Signature: t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}\r\n` +
  `Content-Length: ${contentLength}\r\n\r\n`;

/** Samples the server's resident memory until `done` says stop; the highest seen. */
async function peakResident(done: () => boolean, timeoutMs: number): Promise<number> {
  let peak = residentBytes(server.child.pid as number);
  const until = performance.now() + timeoutMs;
  while (!done() && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    peak = Math.max(peak, residentBytes(server.child.pid as number));
  }
  return peak;
}

async function settledResident(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return residentBytes(server.child.pid as number);
}

/**
 * Opens `count` callback requests, sends `sent` bytes of a body announced as `announced`, and
 * stalls; with `awaitAnswer`, it first waits up to a second for an answer to the headers alone.
 */
async function slowBodies(count: number, announced: number, sent: number, awaitAnswer = false): Promise<Client[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => client()));
  const body = Buffer.alloc(sent, 0x61);
  await Promise.all(
    clients.map(async (probe) => {
      await write(probe, callbackHead(announced));
      for (let waited = 0; awaitAnswer && probe.received === '' && waited < 1_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      for (let offset = 0; offset < sent; offset += 16 * 1024)
        await write(probe, body.subarray(offset, offset + 16 * 1024));
      probe.stalledAt = performance.now();
    }),
  );
  return clients;
}

const status = (probe: Client) => /^HTTP\/1\.1 (\d{3}) /.exec(probe.received)?.[1];
const allClosed = (clients: Client[]) => () => clients.every((probe) => probe.closedAt !== undefined);
const lateness = (clients: Client[]) =>
  Math.max(...clients.map((probe) => (probe.closedAt ?? Infinity) - probe.stalledAt));

describe('slow bodies on the callback', () => {
  it('300 connections announcing 1 MiB and stalling after 960 KiB: refused at once, no memory kept', async () => {
    const baseline = await settledResident();
    let clients: Client[] = [];
    const opening = slowBodies(300, MiB, 960 * 1024, true).then((opened) => (clients = opened));
    const peak = await peakResident(() => clients.length > 0 && allClosed(clients)(), 20 * SECONDS);
    await opening;

    expect(allClosed(clients)()).toBe(true);
    expect(peak - baseline).toBeLessThan(64 * MiB);
    // Answered 413 before a byte of the body was sent, and cut off.
    const counts: Record<string, number> = {};
    for (const probe of clients) counts[String(status(probe))] = (counts[String(status(probe))] ?? 0) + 1;
    expect(counts).toEqual({ 413: 300 });
    expect(lateness(clients)).toBeLessThan(SLACK_MS);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 60_000);

  it('300 connections within the limits stalling after 250 KiB: less than 64 MB, all closed within the idle timeout', async () => {
    const baseline = await settledResident();
    let clients: Client[] = [];
    const opening = slowBodies(300, 255 * 1024, 250 * 1024).then((opened) => (clients = opened));
    const peak = await peakResident(() => clients.length > 0 && allClosed(clients)(), 20 * SECONDS);
    await opening;

    expect(allClosed(clients)()).toBe(true);
    expect(peak - baseline).toBeLessThan(64 * MiB);
    expect(lateness(clients)).toBeLessThan(2 * SECONDS + SLACK_MS);
    const statuses = clients.map(status);
    // The last 32 to arrive are read until their deadline or idle timeout; each earlier one was
    // pushed out, its connection closed, when a later one needed its place.
    expect(statuses.filter((found) => found !== undefined && found !== '408')).toEqual([]);
    const timedOut = statuses.filter((found) => found === '408').length;
    expect(timedOut).toBeGreaterThan(0);
    expect(timedOut).toBeLessThanOrEqual(32);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 60_000);
});

describe('slow headers and idle connections', () => {
  it('closes 300 connections trickling their headers within the headers timeout', async () => {
    const clients = await Promise.all(Array.from({ length: 300 }, () => client()));
    const trickle = setInterval(() => {
      for (const probe of clients) if (probe.closedAt === undefined) probe.socket.write('X-Slow: 1\r\n');
    }, 300);
    for (const probe of clients) {
      probe.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      probe.stalledAt = performance.now();
    }
    await peakResident(allClosed(clients), 10 * SECONDS);
    clearInterval(trickle);

    expect(allClosed(clients)()).toBe(true);
    expect(lateness(clients)).toBeLessThan(2 * SECONDS + SLACK_MS);
  }, 30_000);

  it('closes 500 connections that never send a byte within the headers timeout', async () => {
    const clients = await Promise.all(Array.from({ length: 500 }, () => client()));
    await peakResident(allClosed(clients), 10 * SECONDS);
    expect(allClosed(clients)()).toBe(true);
    expect(lateness(clients)).toBeLessThan(2 * SECONDS + SLACK_MS);
  }, 30_000);

  it('closes an idle keep-alive connection after its request within the keep-alive timeout', async () => {
    const probe = await client();
    probe.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    probe.stalledAt = performance.now();
    await peakResident(allClosed([probe]), 10 * SECONDS);
    expect(probe.received).toMatch(/^HTTP\/1\.1 200 /);
    // The default keep-alive timeout is 5 s.
    expect(lateness([probe])).toBeLessThan(5 * SECONDS + SLACK_MS);
    expect(lateness([probe])).toBeGreaterThan(4 * SECONDS);
  }, 30_000);
});

describe('the connection limit', () => {
  it('at HTTP_MAX_CONNECTIONS, closes the connection idle the longest for each newcomer, and keeps serving', async () => {
    const limitedPort = await freePort();
    const limited = startServerProcess({
      ORY_WEBHOOK_SECRET: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
      KRATOS_ADMIN_URL: 'http://127.0.0.1:9',
      PERSONA_API_KEY: 'persona_sandbox_slow_clients',
      PERSONA_TEMPLATE_ID: 'itmpl_SlowClients',
      PERSONA_WEBHOOK_SECRET: 'wbhsec_7c1e9a2f4b6d8e0a3c5f7b9d1e2a4c6f',
      PORT: String(limitedPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ...LIMITS,
      // Long enough that no connection here ends by a timeout.
      HTTP_HEADERS_TIMEOUT: '20s',
      HTTP_REQUEST_TIMEOUT: '20s',
      HTTP_MAX_CONNECTIONS: '128',
      HTTP_KEEP_ALIVE_TIMEOUT: '1s',
    });
    const clients: Client[] = [];
    try {
      await waitForAnswer(`http://127.0.0.1:${limitedPort}/healthz`);
      // The probe's own keep-alive connection goes first.
      await new Promise((resolve) => setTimeout(resolve, 1_000 + SLACK_MS));
      const connectAt = () => {
        const previous = port;
        port = limitedPort;
        const opened = client();
        port = previous;
        return opened;
      };
      for (let index = 0; index < 150; index += 1) clients.push(await connectAt());
      await new Promise((resolve) => setTimeout(resolve, 500));

      const closed = () => clients.flatMap((probe, index) => (probe.closedAt === undefined ? [] : [index]));
      const first = (count: number) => Array.from({ length: count }, (_, index) => index);
      // The 22 opened first made room for the last 22, each as its successor arrived.
      expect(closed()).toEqual(first(22));
      expect((await fetch(`http://127.0.0.1:${limitedPort}/healthz`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(closed()).toEqual(first(23));
    } finally {
      for (const probe of clients) probe.socket.destroy();
      limited.child.kill('SIGTERM');
      await limited.exited;
    }
  }, 30_000);
});
