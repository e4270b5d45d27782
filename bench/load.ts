import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';

/**
 * The load generator, run as its own process so it does not share the service's event loop. It
 * reads a scenario on argv and prints one JSON result line.
 *
 * - closed: `connections` keep-alive connections, each sending its next request when the previous
 *   one answered (autocannon); measures throughput at saturation.
 * - open: requests sent on a fixed schedule whatever the answers (`rate` per second), so a slow
 *   answer cannot hold back the requests behind it; latency is measured from each actual send.
 */

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  /** A JSON file of the requests to send in turn (warm-up first, then the measured run). */
  requestsFile: string;
  mode: 'closed' | 'open';
  connections: number;
  rate?: number;
  warmupSeconds: number;
  seconds: number;
}

export interface LoadResult {
  /** Answered during the measured run. */
  requests: number;
  /** Answered during the warm-up before it. */
  warmupRequests: number;
  /** Sent in warm-up and measured run, answered or still in flight when the load stopped. */
  sent: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number };
  statusCodes: Record<string, number>;
  errors: number;
}

type Measured = Omit<LoadResult, 'warmupRequests'> & { sent: number };

/** A body, or a body with headers of its own (a webhook and its signature). */
export type LoadRequest = string | { body: string; headers: Record<string, string> };

/** The next request to send: shared by warm-up and measured run, so none is sent twice. */
let next = 0;
const nextRequest = (spec: LoadSpec) => {
  const item = requests[next++ % requests.length] as LoadRequest;
  return typeof item === 'string'
    ? { body: item, headers: spec.headers }
    : { body: item.body, headers: { ...spec.headers, ...item.headers } };
};

function closedLoop(spec: LoadSpec, seconds: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: spec.url,
        method: 'POST',
        headers: spec.headers,
        connections: spec.connections,
        duration: seconds,
        requests: [
          {
            setupRequest: (req) => {
              const { body, headers } = nextRequest(spec);
              req.body = body;
              req.headers = headers;
              return req;
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const statusCodes = Object.fromEntries(
          Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [
            code,
            (stats as { count: number }).count,
          ]),
        );
        const requests = Object.values(statusCodes).reduce((sum, count) => sum + count, 0);
        resolve({
          requests,
          requestsPerSecond: requests / seconds,
          latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99 },
          statusCodes,
          errors: result.errors + result.timeouts,
          sent: result.requests.sent,
        });
      },
    );
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

function openLoop(spec: LoadSpec, seconds: number): Promise<Measured> {
  const rate = spec.rate ?? 1000;
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(spec.url);
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let sent = 0;
  let pending = 0;
  const started = performance.now();
  const total = Math.round(rate * seconds);

  return new Promise((resolve) => {
    const finish = () => {
      agent.destroy();
      latencies.sort((a, b) => a - b);
      resolve({
        requests: latencies.length,
        requestsPerSecond: latencies.length / seconds,
        latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99) },
        statusCodes,
        errors,
        sent,
      });
    };
    const send = ({ body, headers }: { body: string; headers: Record<string, string> }) => {
      pending += 1;
      const sentAt = performance.now();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - sentAt);
            statusCodes[res.statusCode ?? 0] = (statusCodes[res.statusCode ?? 0] ?? 0) + 1;
            pending -= 1;
            if (sent === total && pending === 0) finish();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        pending -= 1;
        if (sent === total && pending === 0) finish();
      });
      req.end(body);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        send(nextRequest(spec));
        sent += 1;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

const spec = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as LoadSpec;
const requests = JSON.parse(readFileSync(spec.requestsFile, 'utf8')) as LoadRequest[];
const run = spec.mode === 'open' ? openLoop : closedLoop;
const warmup = spec.warmupSeconds > 0 ? await run(spec, spec.warmupSeconds) : undefined;
const measured = await run(spec, spec.seconds);
process.stdout.write(
  `${JSON.stringify({ ...measured, warmupRequests: warmup?.requests ?? 0, sent: measured.sent + (warmup?.sent ?? 0) })}\n`,
);
