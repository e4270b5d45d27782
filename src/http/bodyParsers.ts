import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';
import { HttpError } from './httpError.js';

const NON_UTF8_CHARSET = /;\s*charset\s*=\s*"?(?!utf-8"?\s*(?:;|$))/i;

/** Webhooks are JSON in UTF-8 only: anything else is refused before the body is read. */
export const requireJson: RequestHandler = (req, _res, next) => {
  const json = req.is('application/json') && !NON_UTF8_CHARSET.test(req.get('content-type') ?? '');
  next(
    json ? undefined : new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json (UTF-8)'),
  );
};

const rejectInvalidUtf8 = (_req: unknown, _res: unknown, body: Buffer) => {
  if (!isUtf8(body)) throw Object.assign(new Error('invalid UTF-8'), { type: 'entity.verify.failed' });
};

// Kratos and Persona send plain bodies: a compressed one is refused (415), never inflated.
export const jsonBody = (limit: string): RequestHandler =>
  express.json({ limit, type: 'application/json', strict: true, inflate: false, verify: rejectInvalidUtf8 });

/** The exact bytes, for signature verification over what was sent. */
export const rawBody = (limit: string): RequestHandler =>
  express.raw({ limit, type: 'application/json', inflate: false });
