import { createServer, type RequestListener, type Server } from 'node:http';
import type { HttpLimits } from '../config.js';

/**
 * How often Node looks for requests past their headers or request timeout. Its default, 30 s, would
 * let a slow client stay that much longer than the timeouts say.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * An HTTP server that cuts slow and idle clients off within the configured limits (Node's defaults
 * allow a request 300 s and any number of connections): headers within `headersTimeoutMs`, the whole
 * request within `requestTimeoutMs`, no pause of a body longer than its idle timeout (read by
 * http/body.ts), idle keep-alive connections closed after `keepAliveTimeoutMs`, and at most
 * `maxConnections` at once: more are closed as they arrive.
 */
export function createHttpServer(listener: RequestListener, limits: HttpLimits): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, limits.headersTimeoutMs),
    },
    listener,
  );
  server.maxConnections = limits.maxConnections;
  // Node's headers timeout starts with a request's first byte, so a connection that never sends one
  // would stay open: it gets the same time as an idle socket, until its first request arrives.
  server.on('connection', (socket) => socket.setTimeout(limits.headersTimeoutMs));
  server.on('request', (req) => req.socket.setTimeout(0));
  return server;
}
