import type { RequestHandler } from 'express';
import { secretMatcher } from '../security/constantTimeEqual.js';
import { HttpError } from './httpError.js';

const WEBHOOK_SECRET_HEADER = 'x-webhook-secret';

/**
 * Kratos authenticates its web hooks with `auth: {type: api_key, config: {in: header, name:
 * X-Webhook-Secret}}`. Several secrets are accepted so the secret can be rotated without downtime.
 * The check throws the 401 to answer; it serves the Express routes and the login gate alike.
 */
export function webhookSecretCheck(secrets: readonly string[]): (headers: Record<string, unknown>) => void {
  const matches = secretMatcher(secrets);
  return (headers) => {
    const received = headers[WEBHOOK_SECRET_HEADER];
    if (typeof received !== 'string' || !matches(received)) {
      throw new HttpError(401, 'unauthorized', 'missing or wrong X-Webhook-Secret header');
    }
  };
}

export function requireWebhookSecret(secrets: readonly string[]): RequestHandler {
  const check = webhookSecretCheck(secrets);
  return (req, _res, next) => {
    check(req.headers);
    next();
  };
}
