import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
 * `maxConnections` at once.
 *
 * At that limit a new connection takes the place of the one idle the longest (one that has sent no
 * request yet, is still sending its headers, or waits between requests); it is refused only while
 * every connection is serving a request. Idle sockets cost a stranger nothing, so refusing the
 * newcomer would let a few thousand of them keep Kratos and Persona out. Connections stalled in a
 * body are serving a request: those anyone can send are bounded where they are read (body.ts).
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
  /** Open connections, least recently used first, with the response each serves (none before its first request). */
  const open = new Map<Socket, ServerResponse | undefined>();
  const closeLongestIdle = (): boolean => {
    for (const [socket, response] of open) {
      if (response === undefined || response.writableEnded) {
        open.delete(socket);
        socket.destroy();
        return true;
      }
    }
    return false;
  };
  server.on('connection', (socket: Socket) => {
    if (open.size >= limits.maxConnections && !closeLongestIdle()) {
      socket.destroy();
      return;
    }
    open.set(socket, undefined);
    socket.once('close', () => open.delete(socket));
    // Node's headers timeout starts with a request's first byte, so a connection that never sends one
    // would stay open: it gets the same time as an idle socket, until its first request arrives.
    socket.setTimeout(limits.headersTimeoutMs);
  });
  server.on('request', (req, res: ServerResponse) => {
    const { socket } = req;
    socket.setTimeout(0);
    // To the end of the order: the first idle connection in it is then the one unused the longest.
    open.delete(socket);
    open.set(socket, res);
  });
  return server;
}
