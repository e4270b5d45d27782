import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { CallObserver } from '../outbound/observe.js';
import { deadlineIn, type CallOptions } from '../outbound/retry.js';

/** Correlation ids are echoed into logs only when they look like ids: no log injection. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Correlation headers and the log fields they become. */
const CORRELATION_HEADERS = [
  ['ory_request_id', 'ory-webhook-request-id'],
  ['ory_trigger_id', 'ory-webhook-trigger-id'],
  ['persona_attempts_made', 'persona-webhook-attempts-made'],
] as const;

/**
 * What a request carries through its handlers: its log (with the correlation ids, created only
 * when a route writes a line of its own), the fields of its request line, and its outbound calls.
 */
export class RequestLocals {
  /** Fields the route adds to the request's log line (outcome, event id, reason). */
  readonly logFields: Record<string, unknown> = {};
  outboundCalls = 0;
  personaRequestIds: string[] | undefined;
  private child: Logger | undefined;

  constructor(
    private readonly logger: Logger,
    readonly correlation: Record<string, string> | undefined,
  ) {}

  get log(): Logger {
    this.child ??= this.correlation === undefined ? this.logger : this.logger.child(this.correlation);
    return this.child;
  }

  /** Collects the request's outbound calls for its log line. */
  readonly observeCall: CallObserver = (call) => {
    this.outboundCalls += 1;
    if (call.requestId !== undefined && SAFE_ID.test(call.requestId))
      (this.personaRequestIds ??= []).push(call.requestId);
  };
}

const localsOf = new WeakMap<ServerResponse, RequestLocals>();

export const requestLocals = (res: ServerResponse) => localsOf.get(res) as RequestLocals;

/** Options for an outbound call made for this request: its budget, and the log line's observer. */
export const callOptions = (res: ServerResponse, budgetMs: number): CallOptions => ({
  deadline: deadlineIn(budgetMs),
  observe: requestLocals(res).observeCall,
});

/**
 * One line per request with route, status, duration and correlation ids, and its metrics sample,
 * both written when the response finishes. Headers and bodies are never logged: they carry secrets,
 * cookies and personal data.
 */
export function trackRequest(
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  metrics: Metrics,
  routeOf: () => string,
): RequestLocals {
  const started = performance.now();
  let correlation: Record<string, string> | undefined;
  for (const [field, header] of CORRELATION_HEADERS) {
    const value = req.headers[header];
    if (typeof value === 'string' && SAFE_ID.test(value)) (correlation ??= {})[field] = value;
  }
  const locals = new RequestLocals(logger, correlation);
  localsOf.set(res, locals);
  res.on('finish', () => {
    const status = res.statusCode;
    const route = routeOf();
    const durationMs = performance.now() - started;
    metrics.observeRequest(req.method ?? 'GET', route, status, durationMs / 1000);
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    // The route's fields first: they may add to the line, never replace what it reports.
    const line: Record<string, unknown> = Object.assign(locals.logFields, correlation);
    line['method'] = req.method;
    line['route'] = route;
    line['status'] = status;
    line['duration_ms'] = Math.round(durationMs * 1000) / 1000;
    if (locals.outboundCalls > 0) line['outbound_calls'] = locals.outboundCalls;
    if (locals.personaRequestIds !== undefined) line['persona_request_ids'] = locals.personaRequestIds;
    logger[level](line, 'request completed');
  });
  return locals;
}

/** The Express routes' request log: the route is the pattern that matched, or `unmatched`. */
export function requestLog(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    trackRequest(req, res, logger, metrics, () => (req.route as { path?: string } | undefined)?.path ?? 'unmatched');
    next();
  };
}
