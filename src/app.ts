import express, { type Express } from 'express';
import type { Config } from './config.js';
import { errorHandler } from './http/errorHandler.js';
import { HttpError } from './http/httpError.js';
import type { RouteContext } from './http/routeContext.js';
import { requestLog } from './http/requestLog.js';
import { ReturnToPolicy } from './http/returnTo.js';
import { StartLinks } from './http/startLinks.js';
import type { KratosApi } from './kratos/kratosClient.js';
import type { Logger } from './logger.js';
import type { PersonaApi } from './persona/personaClient.js';
import { callbackRoute } from './routes/callback.js';
import { createMetrics, type Metrics } from './metrics.js';
import { healthRoute } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { initiateRoute } from './routes/initiate.js';
import { startRoute } from './routes/start.js';
import { statusRoute } from './routes/status.js';
import { validateRoute } from './routes/validate.js';
import { createServices, type Services } from './services.js';

export interface AppDependencies {
  config: Readonly<Config>;
  logger: Logger;
  kratos: KratosApi;
  persona: PersonaApi;
  /** Shared with the in-process reconciliation; created here when not given. */
  services?: Services;
  /** Also given to the clients, to count their calls; created here when not given. */
  metrics?: Metrics;
  now?: () => number;
}

export function createApp(deps: AppDependencies): Express {
  const { config } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const context: RouteContext = {
    metrics,
    ...(deps.services ?? createServices(config, deps.kratos)),
    config,
    persona: deps.persona,
    kratos: deps.kratos,
    links: new StartLinks(config.start),
    returnTo: new ReturnToPolicy(config.start.returnToAllowlist, config.start.defaultReturnTo),
    now: deps.now ?? Date.now,
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestLog(deps.logger, metrics));
  app.use(healthRoute(deps.kratos, context.now));
  // With METRICS_PORT, /metrics is served on its own port instead (server.ts).
  if (config.metrics.port === undefined) app.use(metricsRoute(metrics, config.metrics.tokens));
  app.use(initiateRoute(context));
  app.use(callbackRoute(context));
  app.use(validateRoute(context));
  app.use(startRoute(context));
  app.use(statusRoute(context));
  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such route')));
  app.use(errorHandler);
  return app;
}
