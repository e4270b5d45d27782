import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseContentType } from 'content-type';
import type { RequestHandler } from 'express';
import getRawBody from 'raw-body';
import { HttpError } from './httpError.js';
import type { InFlightLimit } from './inFlightLimit.js';

/**
 * Request bodies, the one way every route reads them: JSON in UTF-8 only, plain (never inflated),
 * within a size limit per route and an idle timeout, parsed only after the bytes are complete and
 * valid.
 */

export interface BodyLimits {
  limitBytes: number;
  /** The longest pause between two chunks: a client that stalls is answered 408 and cut off. */
  idleTimeoutMs: number;
  /**
   * Set for bodies anyone can send, read before anything proves who sent them (the callback's
   * signature covers its body; the recovery form carries no credential): the places such bodies
   * share, the oldest reader pushed out (its connection closed) when a new one needs the place,
   * and UNVERIFIED_BODY_DEADLINE_MS for the whole body. A stranger stalling on purpose then holds
   * neither the places nor, through them, the connection cap (http/httpServer.ts).
   */
  readers?: InFlightLimit;
}

/**
 * The whole of an unverified body must arrive within this time. Persona and browsers send a body
 * with its headers, in one go: a sender still sending after two seconds is stalling on purpose.
 */
export const UNVERIFIED_BODY_DEADLINE_MS = 2_000;

/** `utf-8` is JSON's charset (RFC 8259); `utf8` is a common spelling of it. */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8']);

function isUtf8MediaType(contentType: string | undefined, mediaType: string): boolean {
  if (contentType === undefined) return false;
  const { type, parameters } = parseContentType(contentType);
  const charset = parameters['charset'];
  return type === mediaType && (charset === undefined || UTF8_CHARSETS.has(charset.toLowerCase()));
}

export const isJsonContentType = (contentType: string | undefined) => isUtf8MediaType(contentType, 'application/json');

export const UNSUPPORTED_MEDIA_TYPE = new HttpError(
  415,
  'unsupported_media_type',
  'Content-Type must be application/json (UTF-8)',
);

const BODY_TIMEOUT = new HttpError(408, 'request_timeout', 'request body arrived too slowly');

/** The body's bytes, exactly as sent. Raw-body's own errors (too large, aborted) carry their type. */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Raw-body makes the same check, but only once it reads: this answer comes before a place is taken.
    if (Number(req.headers['content-length']) > limits.limitBytes)
      throw new HttpError(413, 'payload_too_large', 'request body is too large');
    const encoding = req.headers['content-encoding'];
    // Kratos and Persona send plain bodies: a compressed one is refused, never inflated.
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      throw new HttpError(415, 'unsupported_encoding', 'request body encoding is not supported');
    }
    let idle: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let done = false;
    let leave: (() => void) | undefined;
    const progress = () => idle?.refresh();
    const finish = (error: unknown, body?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(deadline);
      leave?.();
      req.off('data', progress);
      // When the client stalled, the reading ends with the connection: its failure is no news then.
      if (error === undefined || error === null) resolve(body as Buffer);
      else reject(error);
    };
    leave = limits.readers?.enter(() => {
      finish(BODY_TIMEOUT);
      req.socket.destroy();
    });
    getRawBody(req, { length: req.headers['content-length'], limit: limits.limitBytes }, finish);
    // A body sent with its headers, as Kratos and Persona send theirs, is complete before this turn
    // of the event loop ends: only one still arriving then gets an idle timer (the login gate's
    // bodies cost no timer), and an unverified one a deadline besides.
    setImmediate(() => {
      if (done) return;
      idle = setTimeout(() => finish(BODY_TIMEOUT), limits.idleTimeoutMs);
      if (limits.readers !== undefined) deadline = setTimeout(() => finish(BODY_TIMEOUT), UNVERIFIED_BODY_DEADLINE_MS);
      req.on('data', progress);
    });
  });
}

/**
 * An answer given before the body is in closes the connection: the rest of the body is not read
 * (draining it would cost what reading it costs), and the client cannot send another request.
 */
export function closeUnlessBodyReceived(req: IncomingMessage, res: ServerResponse): void {
  if (!req.complete && !res.headersSent) res.setHeader('Connection', 'close');
}

export function parseJson(body: Buffer): unknown {
  if (!isUtf8(body)) throw new HttpError(400, 'invalid_encoding', 'request body is not valid UTF-8');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'request body is not valid JSON');
  }
}

/** Express middleware: JSON only, refused before the body is read. */
export const requireJson: RequestHandler = (req, _res, next) => {
  next(isJsonContentType(req.headers['content-type']) ? undefined : UNSUPPORTED_MEDIA_TYPE);
};

/** Express middleware: `req.body` is the parsed JSON. */
export const jsonBody =
  (limits: BodyLimits): RequestHandler =>
  async (req, _res, next) => {
    req.body = parseJson(await readBody(req, limits));
    next();
  };

/**
 * Express middleware: `req.body` is the fields of an HTML form (`application/x-www-form-urlencoded`,
 * UTF-8), for the one page whose form posts without scripts (`/persona/recover`).
 */
export const formBody =
  (limits: BodyLimits): RequestHandler =>
  async (req, _res, next) => {
    if (!isUtf8MediaType(req.headers['content-type'], 'application/x-www-form-urlencoded')) {
      throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/x-www-form-urlencoded');
    }
    const bytes = await readBody(req, limits);
    if (!isUtf8(bytes)) throw new HttpError(400, 'invalid_encoding', 'request body is not valid UTF-8');
    req.body = new URLSearchParams(bytes.toString('utf8'));
    next();
  };
