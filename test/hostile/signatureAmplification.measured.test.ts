import { randomUUID } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startServerProcess, waitForAnswer, type ServerProcess } from '../support/serverProcess.js';

/**
 * Forged Persona-Signature headers built to make the service hash a large body many times, sent
 * once a second by an outsider: the login gate's median latency stays within twice its idle
 * median, and /healthz answers within a tenth of the attack's period (the image's health check
 * gives it 3 s). Measured against the server in its own process, as ratios of the same run.
 */

const SECRET = 'a3f9c27e51b04d86e2c9a7f1b35d0e48';
const PERIOD_MS = 1_000;
const ATTACK_MS = 6_000;
const MiB = 1024 * 1024;

let server: ServerProcess;
let port: number;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

beforeAll(async () => {
  port = await freePort();
  server = startServerProcess({
    ORY_WEBHOOK_SECRET: SECRET,
    KRATOS_ADMIN_URL: 'http://127.0.0.1:9',
    PERSONA_API_KEY: 'persona_sandbox_amplification',
    PERSONA_TEMPLATE_ID: 'itmpl_Amplification',
    PERSONA_WEBHOOK_SECRET: 'wbhsec_5d2a8f1c7e3b9046a1d8c5e2f7b3a904',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  });
  await waitForAnswer(`http://127.0.0.1:${port}/healthz`);
}, 30_000);
afterAll(async () => {
  agent.destroy();
  server.child.kill('SIGTERM');
  await server.exited;
});

/** One request; resolves with its status and how long it took, in milliseconds. */
function timed(options: {
  method: string;
  path: string;
  headers?: IncomingHttpHeaders;
  body?: Buffer | string;
  agent?: Agent | false;
}): Promise<{ status: number; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method,
        path: options.path,
        headers: options.headers,
        agent: options.agent ?? agent,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(options.body);
  });
}

const gateBody = JSON.stringify({
  identity_id: randomUUID(),
  persona: { status: 'approved', verified_at: '2026-01-01T00:00:00.000Z' },
});
const gate = () =>
  timed({
    method: 'POST',
    path: '/persona/validate',
    headers: { 'Content-Type': 'application/json', 'X-Webhook-Secret': SECRET },
    body: gateBody,
  });
const healthz = () => timed({ method: 'GET', path: '/healthz' });

/** The attacks of the report, and the most a header within the bounds can ask for. */
const now = () => Math.floor(Date.now() / 1000);
const ATTACKS: (() => { headers: IncomingHttpHeaders; body: Buffer })[] = [
  // 1,800 sets `t=1,v1=` (14 KB) over a 1 MiB body.
  () => ({
    headers: { 'Persona-Signature': Array.from({ length: 1_800 }, () => 't=1,v1=').join(' ') },
    body: Buffer.alloc(MiB, 0x20),
  }),
  // Four sets, each its own timestamp within the tolerance, over a body just under the limit.
  () => ({
    headers: {
      'Persona-Signature': [0, 1, 2, 3]
        .map((i) => `t=${now() - i},v1=${'0'.repeat(64)},v1=${'1'.repeat(64)}`)
        .join(' '),
    },
    body: Buffer.alloc(255 * 1024, 0x20),
  }),
];
const attack = (index: number) => {
  const { headers, body } = (ATTACKS[index % ATTACKS.length] as (typeof ATTACKS)[number])();
  return timed({
    method: 'POST',
    path: '/persona/callback',
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length), ...headers },
    body,
    agent: false,
  });
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Gate calls one after another, and /healthz every 100 ms, for `ms`. */
async function measure(ms: number) {
  const gateMs: number[] = [];
  const healthMs: number[] = [];
  const until = performance.now() + ms;
  const gates = (async () => {
    while (performance.now() < until) {
      const { status, ms: took } = await gate();
      expect(status).toBe(204);
      gateMs.push(took);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const probes = (async () => {
    while (performance.now() < until) {
      const { status, ms: took } = await healthz();
      expect(status).toBe(200);
      healthMs.push(took);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await Promise.all([gates, probes]);
  return { gateMs, healthMs };
}

describe('signature amplification at one request per second', () => {
  it('keeps the login gate within twice its idle median and /healthz within a tenth of the period', async () => {
    await measure(1_000); // warm-up
    const idle = await measure(ATTACK_MS);

    const answers: Promise<{ status: number; ms: number }>[] = [];
    const sending = setInterval(() => answers.push(attack(answers.length)), PERIOD_MS);
    answers.push(attack(0));
    const attacked = await measure(ATTACK_MS);
    clearInterval(sending);
    const refused = await Promise.all(answers);

    // Every forgery was refused (401; a reset while the attacker was still sending counts too).
    expect(refused.length).toBeGreaterThanOrEqual(ATTACK_MS / PERIOD_MS);
    expect(refused.every(({ status }) => status === 401 || status === 0)).toBe(true);
    expect(refused.some(({ status }) => status === 401)).toBe(true);

    const idleMedian = median(idle.gateMs);
    const attackedMedian = median(attacked.gateMs);
    expect(
      attackedMedian / idleMedian,
      `gate median ${attackedMedian} ms under attack, ${idleMedian} ms idle`,
    ).toBeLessThanOrEqual(2);
    const slowestHealth = Math.max(...attacked.healthMs);
    expect(slowestHealth / PERIOD_MS, `slowest /healthz ${slowestHealth} ms`).toBeLessThan(0.1);
  }, 60_000);
});
