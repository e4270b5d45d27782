import type { RequestListener } from 'node:http';
import express from 'express';
import { adminApp, adminRouter } from './admin/adminApi.js';
import { createHelpDesk, type AdminContext, type HelpDesk } from './admin/adminContext.js';
import { codeEntryRoute } from './admin/shortCodes/codeEntryRoute.js';
import type { Config } from './config.js';
import { createInProcessCoordination } from './coordination/inProcessCoordination.js';
import { errorHandler } from './http/errorHandler.js';
import { HttpError } from './http/httpError.js';
import { PersonaEntries } from './http/personaEntries.js';
import type { RouteContext } from './http/routeContext.js';
import { requestLog } from './http/requestLog.js';
import { ReturnToPolicy } from './http/returnTo.js';
import { StartLinks } from './http/startLinks.js';
import type { KratosApi } from './kratos/kratosClient.js';
import type { Logger } from './logger.js';
import { loadMessageCatalogue, type MessageCatalogue } from './messages/catalogue.js';
import type { PersonaApi } from './persona/personaClient.js';
import { callbackRoute } from './routes/callback.js';
import { createMetrics, type Metrics } from './metrics.js';
import { healthRoute } from './routes/health.js';
import { metricsExposure, metricsRoute } from './routes/metrics.js';
import { initiateRoute } from './routes/initiate.js';
import { recoverRoute } from './routes/recover.js';
import { startRoute } from './routes/start.js';
import { statusRoute } from './routes/status.js';
import { SETTINGS_GATE_PATH, settingsGate } from './routes/settings.js';
import { LOGIN_GATE_PATH, loginGate } from './routes/validate.js';
import { createServices, type Services } from './services.js';

export interface AppDependencies {
  config: Readonly<Config>;
  logger: Logger;
  kratos: KratosApi;
  persona: PersonaApi;
  /**
   * Shared with the reconciliation schedule; created here when not given, over an in-process
   * coordination (single-instance mode only: with DATABASE_URL the caller starts the coordination).
   */
  services?: Services;
  /** Also given to the clients, to count their calls; created here when not given. */
  metrics?: Metrics;
  /** Loaded from the shipped files when not given. */
  messages?: MessageCatalogue;
  /** Short codes and the audit, shared with the admin listener (ADMIN_PORT); created here when not given. */
  helpDesk?: HelpDesk;
  now?: () => number;
}

function routeContext(deps: AppDependencies, metrics: Metrics): RouteContext {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  if (deps.services === undefined && config.database !== undefined)
    throw new Error('createApp: with DATABASE_URL, pass services over the coordination startCoordination chose');
  const messages = deps.messages ?? loadMessageCatalogue();
  return {
    metrics,
    ...(deps.services ??
      createServices(
        config,
        deps.kratos,
        deps.persona,
        createInProcessCoordination({
          now,
          ...(deps.logger !== undefined && { logger: deps.logger }),
          countDropped: metrics.countNotificationDropped,
        }),
        {
          now,
          logger: deps.logger,
          messages,
          metrics,
        },
      )),
    config,
    persona: deps.persona,
    kratos: deps.kratos,
    links: new StartLinks(config.start),
    personaEntries: new PersonaEntries(deps.persona, config.persona, now),
    returnTo: new ReturnToPolicy(config.start.returnToAllowlist, config.start.defaultReturnTo),
    messages,
    now,
  };
}

const adminContext = (context: RouteContext, helpDesk: HelpDesk, logger: Logger): AdminContext => ({
  ...context,
  helpDesk,
  logger,
});

/**
 * The admin API on its own listener (ADMIN_PORT), over the same services and help desk as the app,
 * so that a code issued there is redeemed at `/persona/start/code` and both write under one lock.
 */
export function createAdminListener(
  deps: AppDependencies & { services: Services; metrics: Metrics; helpDesk: HelpDesk },
): RequestListener {
  const tokens = deps.config.admin?.tokens;
  if (tokens === undefined) throw new Error('the admin API is off without ADMIN_API_TOKEN');
  const context = routeContext(deps, deps.metrics);
  return adminApp(adminContext(context, deps.helpDesk, deps.logger), tokens, deps.logger, deps.metrics);
}

/**
 * The service as a request listener: the gates Kratos calls with `response.parse` (the login gate
 * serves every login) go straight to their plain handlers; every other route goes through the
 * Express app.
 */
export function createApp(deps: AppDependencies): RequestListener {
  const { config } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const context = routeContext(deps, metrics);

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(requestLog(deps.logger, metrics));
  callbackRoute(app, context);
  initiateRoute(app, context);
  startRoute(app, context);
  statusRoute(app, context);
  recoverRoute(app, context);
  healthRoute(app, { kratos: deps.kratos, coordination: context.coordination }, context.now);
  // With METRICS_PORT, /metrics is served on its own port instead (server.ts).
  // Without a token only on loopback; otherwise the start-up summary says how to turn it on.
  if (metricsExposure(config) === 'service_port') metricsRoute(app, metrics, config.metrics.tokens);
  if (config.admin !== undefined) {
    const helpDesk =
      deps.helpDesk ??
      createHelpDesk({ config, logger: deps.logger, metrics, now: context.now, shared: context.coordination.shared });
    codeEntryRoute(app, { ...context, helpDesk });
    // With ADMIN_PORT the admin API is served there only (createAdminListener); else here, behind its token.
    if (config.admin.port === undefined)
      app.use(adminRouter(adminContext(context, helpDesk, deps.logger), config.admin.tokens));
  }
  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such route')));
  app.use(errorHandler);

  const gates = new Map([
    [LOGIN_GATE_PATH, loginGate(context, deps.logger)],
    [SETTINGS_GATE_PATH, settingsGate(context, deps.logger)],
  ]);
  return (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const gate = req.method === 'POST' ? gates.get(query === -1 ? url : url.slice(0, query)) : undefined;
    if (gate !== undefined) gate(req, res);
    else app(req, res);
  };
}
