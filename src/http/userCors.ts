import cors from 'cors';
import type { RequestHandler } from 'express';
import type { ReturnToPolicy } from './returnTo.js';

/**
 * Single-page apps on an allowlisted origin call /persona/status (and fetch /persona/start in
 * embedded mode) with the user's cookies or session token; no other origin may read the answers.
 */
export function userCors(returnTo: ReturnToPolicy): RequestHandler {
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && returnTo.isAllowedOrigin(origin)),
    credentials: true,
    methods: ['GET'],
    allowedHeaders: ['X-Session-Token'],
    maxAge: 600,
  });
}
