import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as a stand-in received it, for tests to assert on. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or undefined when there was no body or it was not JSON. */
  body: unknown;
  rawBody: string;
  /** The status the stand-in answered with; 0 while unanswered or when it hung up. */
  status: number;
  /** When it arrived (performance.now()), to interleave what several stand-ins received. */
  receivedAt: number;
}

/** A JSON object (not null, not an array): what request bodies are checked with. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

export interface Reply {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (an HTML page), instead of `body`. */
  text?: string;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  pattern: RegExp;
  handle(request: RecordedRequest, params: string[]): Reply | Promise<Reply>;
}

/**
 * A failure the stand-in plays instead of answering normally, for the next `times` matching
 * requests: a status, a delay (then the normal answer), or a dropped connection.
 */
export interface Fault {
  method?: string;
  /** A path prefix or pattern; every path when absent. */
  path?: string | RegExp;
  times?: number;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  hangUp?: boolean;
}

export interface StandInServer {
  url: string;
  requests: RecordedRequest[];
  inject(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const matches = (fault: Fault, request: RecordedRequest) =>
  (fault.method === undefined || fault.method === request.method) &&
  (fault.path === undefined ||
    (typeof fault.path === 'string' ? request.path.startsWith(fault.path) : fault.path.test(request.path)));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Serves `routes` on a free loopback port, recording every request and playing injected faults. */
export async function startStandInServer(options: {
  routes: Route[];
  port?: number | undefined;
  /** Loopback unless a container must reach it. */
  host?: string | undefined;
}): Promise<StandInServer> {
  const requests: RecordedRequest[] = [];
  let faults: (Fault & { remaining: number })[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      void (async () => {
        const url = new URL(incoming.url ?? '/', 'http://stand-in');
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = rawBody === '' ? undefined : JSON.parse(rawBody);
        } catch {
          body = undefined;
        }
        const request: RecordedRequest = {
          method: incoming.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: incoming.headers,
          body,
          rawBody,
          status: 0,
          receivedAt: performance.now(),
        };
        requests.push(request);

        let reply: Reply | undefined;
        const fault = faults.find((candidate) => candidate.remaining > 0 && matches(candidate, request));
        if (fault !== undefined) {
          fault.remaining -= 1;
          if (fault.delayMs !== undefined) await sleep(fault.delayMs);
          if (fault.hangUp) {
            incoming.socket.destroy();
            return;
          }
          if (fault.status !== undefined)
            reply = { status: fault.status, body: fault.body, headers: fault.headers ?? {} };
        }
        if (reply === undefined) {
          const route = options.routes.find(
            (candidate) => candidate.method === request.method && candidate.pattern.test(request.path),
          );
          const params = route ? (route.pattern.exec(request.path)?.slice(1) ?? []) : [];
          reply = route
            ? await route.handle(request, params.map(decodeURIComponent))
            : { status: 404, body: { error: 'not found' } };
        }
        // Recorded even when the client gave up waiting: the work was done all the same.
        request.status = reply.status;
        if (outgoing.destroyed) return;
        const payload = reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
        outgoing.writeHead(reply.status, {
          ...(reply.text === undefined && payload !== '' && { 'Content-Type': 'application/json' }),
          ...reply.headers,
        });
        outgoing.end(payload);
      })().catch((error: unknown) => {
        if (!outgoing.headersSent) outgoing.writeHead(500, { 'Content-Type': 'application/json' });
        outgoing.end(JSON.stringify({ error: String(error) }));
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    requests,
    inject(fault) {
      faults.push({ ...fault, remaining: fault.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
