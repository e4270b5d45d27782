import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { z } from 'zod';
import { jsonBody, requireJson } from '../http/body.js';
import { HttpError, toHttpError } from '../http/httpError.js';
import { requestLocals, requestLog } from '../http/requestLog.js';
import { parseBody } from '../http/validation.js';
import { errorFields, type Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { isDependencyFailure } from '../http/dependencyFailure.js';
import { secretMatcher } from '../security/constantTimeEqual.js';
import type { AdminContext } from './adminContext.js';
import { adminError } from './adminErrors.js';
import type { AdminRoute } from './adminRoute.js';
import { ADMIN_ROUTES } from './adminRoutes.js';

/** Admin bodies are small: an actor, a reason, at most 500 identity ids. */
const BODY_LIMIT_BYTES = 64 * 1024;

/** Every admin route requires one of ADMIN_API_TOKEN, compared in constant time (rotation: a list). */
function requireToken(tokens: readonly string[]): RequestHandler {
  const matches = secretMatcher(tokens);
  return (req, res, next) => {
    // The scheme is case-insensitive (RFC 9110, 11.1).
    const token = /^Bearer +(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (token !== undefined && matches(token)) return next();
    res.set('WWW-Authenticate', 'Bearer realm="admin"');
    next(adminError('unauthorized', 'missing or wrong bearer token'));
  };
}

const parseWith = (schema: z.ZodType | undefined, value: unknown) =>
  schema === undefined ? undefined : parseBody(schema, value);

/** Express's `:id` for OpenAPI's `{id}`. */
const expressPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

function serve(router: Router, route: AdminRoute, context: AdminContext) {
  const limits = { limitBytes: BODY_LIMIT_BYTES, idleTimeoutMs: context.config.http.bodyIdleTimeoutMs };
  const body = route.body === undefined ? [] : [requireJson, jsonBody(limits)];
  router[route.method](expressPath(route.path), ...body, async (req, res) => {
    const input = {
      params: parseWith(route.params, { ...req.params }),
      query: parseWith(route.query, { ...(req.query as Record<string, unknown>) }),
      body: parseWith(route.body, req.body),
    };
    const { logFields } = requestLocals(res);
    logFields.admin_operation = route.operationId;
    res.status(200).json(await route.handle(input, context));
  });
}

/**
 * One error shape, `{"error": {"code", "message"}}` (adminErrors.ts): Kratos or the database
 * failing is a 503 the agent can retry; anything unexpected is a 500 whose details go to the log only.
 */
const adminErrors: ErrorRequestHandler = (error, _req, res, _next) => {
  const httpError = isDependencyFailure(error)
    ? adminError(
        'temporarily_unavailable',
        'Kratos, Persona or the database did not answer in time, or failed; try again.',
      )
    : toHttpError(error);
  const { log, logFields } = requestLocals(res);
  logFields.error_code = httpError.code;
  if (isDependencyFailure(error)) log.warn(errorFields(error), 'admin action failed: a dependency');
  else if (!(error instanceof HttpError) && httpError.status >= 500)
    log.error(errorFields(error), 'admin action failed');
  if (res.headersSent) return;
  res.status(httpError.status).json({ error: { code: httpError.code, message: httpError.message } });
};

/** The admin routes, behind the token, for any path under `/admin`; other paths pass through. */
export function adminRouter(context: AdminContext, tokens: readonly string[]): Router {
  const routes = Router();
  for (const route of ADMIN_ROUTES) serve(routes, route, context);
  const router = Router();
  router.use('/admin', requireToken(tokens));
  router.use(routes);
  router.use('/admin', (_req, _res, next) => next(adminError('not_found', 'no such admin route')));
  router.use(adminErrors);
  return router;
}

/** The admin API on a listener of its own (ADMIN_PORT), with the service's request log. */
export function adminApp(context: AdminContext, tokens: readonly string[], logger: Logger, metrics: Metrics) {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestLog(logger, metrics));
  app.use(adminRouter(context, tokens));
  app.use((_req, _res, next) => next(adminError('not_found', 'no such admin route')));
  app.use(adminErrors);
  return app;
}
