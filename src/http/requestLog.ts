import type { RequestHandler, Response } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { CallObserver } from '../outbound/observe.js';
import { deadlineIn, type CallOptions } from '../outbound/retry.js';

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
  /** Collects the request's outbound calls for its log line. */
  observeCall: CallObserver;
}

export const requestLocals = (res: Response) => res.locals as RequestLocals;

/** Options for an outbound call made for this request: its budget, and the log line's observer. */
export const callOptions = (res: Response, budgetMs: number): CallOptions => ({
  deadline: deadlineIn(budgetMs),
  observe: requestLocals(res).observeCall,
});

/**
 * One line per request with route, status, duration and correlation ids. Headers and bodies are
 * never logged: they carry secrets, cookies and personal data.
 */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
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
    let outboundCalls = 0;
    const personaRequestIds: string[] = [];
    locals.observeCall = (call) => {
      outboundCalls += 1;
      if (call.requestId !== undefined && SAFE_ID.test(call.requestId)) personaRequestIds.push(call.requestId);
    };
    res.on('finish', () => {
      const status = res.statusCode;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const durationMs = performance.now() - started;
      metrics.observeRequest(req.method, route, status, durationMs / 1000);
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      locals.log[level](
        {
          // The route's fields first: they may add to the line, never replace what it reports.
          ...locals.logFields,
          method: req.method,
          route,
          status,
          duration_ms: Math.round(durationMs * 1000) / 1000,
          ...(outboundCalls > 0 && { outbound_calls: outboundCalls }),
          ...(personaRequestIds.length > 0 && { persona_request_ids: personaRequestIds }),
        },
        'request completed',
      );
    });
    next();
  };
}
