import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { defaultInspector, type Exchange, type ExchangeInspector, type ExchangeRequest } from './exchangeInspection.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** A request as a stand-in received it, for tests to assert on. */
export interface RecordedRequest extends ExchangeRequest {
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
  /** The sandbox's own shortcuts and pages: not part of the published API, so not inspected. */
  sandboxOnly?: boolean;
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

export interface StandInServerOptions {
  routes: Route[];
  port?: number | undefined;
  /** Loopback unless a container must reach it. */
  host?: string | undefined;
  /**
   * The published API these routes stand in for; its exchanges go to `inspect`. None for the
   * sandbox's own pages (the sign-in pages, the app), which no published document describes.
   */
  api?: Exchange['api'] | undefined;
  /** Told about every exchange but the sandbox-only ones; the suite-wide default when absent. */
  inspect?: ExchangeInspector | undefined;
  /** The answer an injected status fault without a body plays: the service's own error format. */
  faultReply: (status: number) => Reply;
  /** Told about every answer, injected or not (Persona stores answers under an Idempotency-Key). */
  onReply?: ((request: RecordedRequest, reply: Reply) => void) | undefined;
  /** Milliseconds to wait before answering each request, as a remote service would (drawn per request). */
  latencyMs?: (() => number) | undefined;
}

const contentHeaders = (reply: Reply, payload: string): Record<string, string> =>
  reply.text === undefined && payload !== '' ? { 'Content-Type': 'application/json' } : {};

/** Serves `routes` on a free loopback port, recording every request and playing injected faults. */
export async function startStandInServer(options: StandInServerOptions): Promise<StandInServer> {
  const { api } = options;
  const inspect = api === undefined ? undefined : (options.inspect ?? defaultInspector());
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
        if (options.latencyMs !== undefined) await sleep(options.latencyMs());

        const route = options.routes.find(
          (candidate) => candidate.method === request.method && candidate.pattern.test(request.path),
        );
        const inspected = inspect !== undefined && route?.sandboxOnly !== true;
        const exchange = (reply?: Exchange['reply']) => {
          if (api !== undefined) inspect?.({ api, request, reply });
        };

        let reply: Reply | undefined;
        const fault = faults.find((candidate) => candidate.remaining > 0 && matches(candidate, request));
        if (fault !== undefined) {
          fault.remaining -= 1;
          if (fault.delayMs !== undefined) await sleep(fault.delayMs);
          if (fault.hangUp) {
            incoming.socket.destroy();
            if (inspected) exchange();
            return;
          }
          if (fault.status !== undefined) {
            const played: Reply =
              fault.body === undefined ? options.faultReply(fault.status) : { status: fault.status, body: fault.body };
            reply = { ...played, status: fault.status, headers: { ...played.headers, ...fault.headers } };
          }
        }
        if (reply === undefined) {
          const params = route ? (route.pattern.exec(request.path)?.slice(1) ?? []) : [];
          reply = route ? await route.handle(request, params.map(decodeURIComponent)) : options.faultReply(404);
        }
        // Recorded even when the client gave up waiting: the work was done all the same.
        request.status = reply.status;
        options.onReply?.(request, reply);
        const payload = reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
        const headers = { ...contentHeaders(reply, payload), ...reply.headers };
        if (inspected) exchange({ status: reply.status, headers, body: reply.body, rawBody: payload });
        if (outgoing.destroyed) return;
        outgoing.writeHead(reply.status, headers);
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
