import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import getRawBody from 'raw-body';
import { HttpError } from './httpError.js';

/**
 * Request bodies, the one way every route reads them: JSON in UTF-8 only, plain (never inflated),
 * within a size limit per route, parsed only after the bytes are complete and valid.
 */

const NON_UTF8_CHARSET = /;\s*charset\s*=\s*"?(?!utf-8"?\s*(?:;|$))/i;

export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/json' && !NON_UTF8_CHARSET.test(contentType);
}

export const UNSUPPORTED_MEDIA_TYPE = new HttpError(
  415,
  'unsupported_media_type',
  'Content-Type must be application/json (UTF-8)',
);

/** The body's bytes, exactly as sent. Raw-body's own errors (too large, aborted) carry their type. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const encoding = req.headers['content-encoding'];
  // Kratos and Persona send plain bodies: a compressed one is refused, never inflated.
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    req.resume();
    throw new HttpError(415, 'unsupported_encoding', 'request body encoding is not supported');
  }
  return getRawBody(req, { length: req.headers['content-length'], limit: limitBytes });
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
  (limitBytes: number): RequestHandler =>
  async (req, _res, next) => {
    req.body = parseJson(await readBody(req, limitBytes));
    next();
  };

/** Express middleware: `req.body` is the raw bytes, for signature verification over what was sent. */
export const rawBody =
  (limitBytes: number): RequestHandler =>
  async (req, _res, next) => {
    req.body = await readBody(req, limitBytes);
    next();
  };
