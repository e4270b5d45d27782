import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';
import { HttpError } from './httpError.js';

/** Webhooks are JSON only: anything else is refused before the body is read. */
export const requireJson: RequestHandler = (req, _res, next) => {
  next(
    req.is('application/json')
      ? undefined
      : new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json'),
  );
};

const rejectInvalidUtf8 = (_req: unknown, _res: unknown, body: Buffer) => {
  if (!isUtf8(body)) throw Object.assign(new Error('invalid UTF-8'), { type: 'entity.verify.failed' });
};

export const jsonBody = (limit: string): RequestHandler =>
  express.json({ limit, type: 'application/json', strict: true, verify: rejectInvalidUtf8 });

/** The exact bytes, for signature verification over what was sent. */
export const rawBody = (limit: string): RequestHandler => express.raw({ limit, type: 'application/json' });
