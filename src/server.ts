import type { Server } from 'node:http';
import { config as loadDotenv } from 'dotenv';
import express from 'express';
import { createAudit, createHelpDesk } from './admin/adminContext.js';
import { createAdminListener, createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startCoordination } from './coordination/startCoordination.js';
import { createHttpServer } from './http/httpServer.js';
import { createKratosClient, PUBLIC_URL_REDIRECTS, type KratosApi } from './kratos/kratosClient.js';
import { createLogger, errorFields, flushAndExit, type Logger } from './logger.js';
import { loadMessageCatalogue } from './messages/catalogue.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createPersonaClient } from './persona/personaClient.js';
import { auditedRedactions } from './privacy/redactionAudit.js';
import { REDACTION_SWEEP_LEAD, scheduleRedactionSweeps, sweepDepsWith } from './privacy/sweep/redactionSweeps.js';
import { decoyTemplateIdsOf } from './privacy/sweep/sweepDeps.js';
import { scheduleReconciliation } from './reconcile/reconcile.js';
import { metricsExposure, metricsRoute } from './routes/metrics.js';
import { acceptedTemplateIds, createServices } from './services.js';
import { startupSummary } from './startupSummary.js';

/** Requests in flight get this long to finish after SIGTERM; longer than any route's own budget. */
const SHUTDOWN_GRACE_MS = 10_000;
/** One look at Kratos at start, so a wrong KRATOS_ADMIN_URL, KRATOS_PUBLIC_URL or ORY_API_KEY shows in the first lines. */
const KRATOS_START_CHECK_MS = 2_000;

/** Runs `load`; what it cannot accept is printed, and the process exits with status 1. */
function orExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

function configure(): Readonly<Config> {
  // A .env file is for development; in containers the environment is set by the orchestrator.
  loadDotenv({ quiet: true });
  return orExit(() => loadConfig(process.env));
}

/**
 * On SIGTERM or SIGINT: stop background work and accepting connections, let requests in flight
 * finish (closing each keep-alive connection as it goes idle), close the coordination (their
 * sections are over), then exit 0; exit 1 if the grace period runs out.
 */
function drainOnSignals(
  server: Server,
  logger: Logger,
  background: { stop: () => Promise<void>; closeAfterDrain: () => Promise<void> },
) {
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const stopped = background.stop();
    setTimeout(() => {
      logger.warn('requests still in flight after the grace period; exiting');
      flushAndExit(logger, 1);
    }, SHUTDOWN_GRACE_MS).unref();
    const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(closeIdle);
      void stopped
        .then(background.closeAfterDrain)
        .catch((error: unknown) => logger.warn(errorFields(error), 'background work did not stop cleanly'))
        .finally(() => {
          logger.info('stopped');
          flushAndExit(logger, 0);
        });
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/**
 * One probe of KRATOS_PUBLIC_URL at start, so a wrong value shows before the first user meets it.
 * When it is the admin URL, the admin check already says whether Kratos answers.
 */
function probePublicUrl(kratos: KratosApi, logger: Logger, kratosUrls: Config['kratos']) {
  void kratos.probePublicUrl(KRATOS_START_CHECK_MS).then((result) => {
    if (result === 'redirects') logger.error({ setting: 'KRATOS_PUBLIC_URL' }, PUBLIC_URL_REDIRECTS);
    if (result === 'unreachable' && kratosUrls.publicUrl !== kratosUrls.adminUrl)
      logger.warn(
        { setting: 'KRATOS_PUBLIC_URL' },
        'Kratos public API unreachable at start: session checks fail until it answers',
      );
  });
}

function serveMetrics(metrics: Metrics, config: Readonly<Config>) {
  const app = express().disable('x-powered-by');
  metricsRoute(app, metrics, config.metrics.tokens);
  return createHttpServer(app, config.http).listen(config.metrics.port, config.host);
}

function start() {
  const config = configure();
  const messages = orExit(() => loadMessageCatalogue());
  const logger = createLogger({ level: config.logLevel, pretty: config.environment === 'development' });
  const metrics = createMetrics();
  const kratos = createKratosClient({ ...config.kratos, observe: metrics.observeOutbound });
  const persona = createPersonaClient({ ...config.persona, observe: metrics.observeOutbound });
  const { coordination } = startCoordination(config.database, logger, {
    countDropped: metrics.countNotificationDropped,
  });
  const services = createServices(config, kratos, persona, coordination, { logger, messages, metrics });
  const helpDesk =
    config.admin === undefined
      ? undefined
      : createHelpDesk({ config, logger, metrics, now: Date.now, shared: coordination.shared });
  const app = createApp({ config, logger, kratos, persona, services, metrics, messages, helpDesk });
  const metricsServer = metricsExposure(config) === 'metrics_port' ? serveMetrics(metrics, config) : undefined;
  const adminServer =
    config.admin?.port === undefined || helpDesk === undefined
      ? undefined
      : createHttpServer(
          createAdminListener({ config, logger, kratos, persona, services, metrics, messages, helpDesk }),
          config.http,
        ).listen(config.admin.port, config.host);

  services.notifications.relay.start();

  const reconciliation =
    config.reconcile.intervalMs === undefined
      ? undefined
      : scheduleReconciliation(
          { ...services, persona, templateIds: acceptedTemplateIds(config), logger },
          {
            intervalMs: config.reconcile.intervalMs,
            windowMs: config.reconcile.windowMs,
            leadership: coordination.leadership('reconcile'),
          },
        );

  const redactionSweeps =
    config.privacy.sweepIntervalMs === undefined
      ? undefined
      : scheduleRedactionSweeps(
          sweepDepsWith({
            persona,
            kratos,
            store: services.store,
            templateIds: acceptedTemplateIds(config),
            decoyTemplateIds: decoyTemplateIdsOf(config),
            state: coordination.sweepState,
            // Audited as the admin API's redactions are: with DATABASE_URL, `GET /admin/audit` lists them.
            audit:
              helpDesk?.redactions ??
              auditedRedactions(
                createAudit({ logger, metrics, now: Date.now, shared: coordination.shared }),
                metrics.countRedaction,
              ),
            logger,
            now: Date.now,
          }),
          config.privacy,
          { intervalMs: config.privacy.sweepIntervalMs, leadership: coordination.leadership(REDACTION_SWEEP_LEAD) },
        );

  const server = createHttpServer(app, config.http).listen(config.port, config.host, () => {
    const summary = startupSummary(config);
    logger.info(
      {
        port: config.port,
        mode: summary.mode,
        login_policy: summary.loginPolicy,
        inquiry_type: summary.inquiryType,
        persona_environment: summary.personaEnvironment,
        features: summary.features,
      },
      'ory-persona-idv listening',
    );
    for (const warning of summary.warnings) logger.warn({ setting: warning.setting }, warning.message);
    for (const problem of messages.problems) logger.warn({ setting: 'messages' }, problem);
    void kratos.ready(KRATOS_START_CHECK_MS).then((ready) => {
      if (!ready)
        logger.warn(
          'Kratos admin API unreachable or unhealthy at start: callbacks, registrations and /persona/start fail ' +
            'until it answers (/readyz says degraded; the login gate does not need it)',
        );
    });
    probePublicUrl(kratos, logger, config.kratos);
  });
  server.on('error', (error) => {
    logger.fatal({ error: error.message }, 'server failed');
    flushAndExit(logger, 1);
  });
  drainOnSignals(server, logger, {
    stop: async () => {
      metricsServer?.close();
      adminServer?.close();
      services.rechecks.stop();
      await Promise.all([reconciliation?.stop(), redactionSweeps?.stop(), services.notifications.relay.stop()]);
    },
    closeAfterDrain: () => coordination.close(),
  });
}

start();
