import type { RequestHandler } from 'express';
import { secretMatcher } from '../security/constantTimeEqual.js';
import { HttpError } from './httpError.js';

export const WEBHOOK_SECRET_HEADER = 'x-webhook-secret';

/**
 * Kratos authenticates its web hooks with `auth: {type: api_key, config: {in: header, name:
 * X-Webhook-Secret}}`. Several secrets are accepted so the secret can be rotated without downtime.
 */
export function requireWebhookSecret(secrets: readonly string[]): RequestHandler {
  const matches = secretMatcher(secrets);
  return (req, _res, next) => {
    const received = req.get(WEBHOOK_SECRET_HEADER);
    if (received === undefined || !matches(received)) {
      next(new HttpError(401, 'unauthorized', 'missing or wrong X-Webhook-Secret header'));
      return;
    }
    next();
  };
}
