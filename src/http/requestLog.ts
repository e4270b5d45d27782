import type { RequestHandler, Response } from 'express';
import type { Logger } from '../logger.js';

/** Correlation ids are echoed into logs only when they look like ids: no log injection. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const CORRELATION_HEADERS = {
  ory_request_id: 'ory-webhook-request-id',
  ory_trigger_id: 'ory-webhook-trigger-id',
  persona_attempts_made: 'persona-webhook-attempts-made',
} as const;

export interface RequestLocals {
  log: Logger;
  /** Fields the route adds to the request's log line (outcome, event id, reason). */
  logFields: Record<string, unknown>;
}

export const requestLocals = (res: Response) => res.locals as RequestLocals;

/**
 * One line per request with route, status, duration and correlation ids. Headers and bodies are
 * never logged: they carry secrets, cookies and personal data.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const bindings: Record<string, string> = {};
    for (const [field, header] of Object.entries(CORRELATION_HEADERS)) {
      const value = req.get(header);
      if (value !== undefined && SAFE_ID.test(value)) bindings[field] = value;
    }
    const locals = requestLocals(res);
    locals.log = Object.keys(bindings).length > 0 ? logger.child(bindings) : logger;
    locals.logFields = {};
    res.on('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      locals.log[level](
        {
          method: req.method,
          route: (req.route as { path?: string } | undefined)?.path ?? 'unmatched',
          status,
          duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
          ...locals.logFields,
        },
        'request completed',
      );
    });
    next();
  };
}
