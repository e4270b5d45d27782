import { config as loadDotenv } from 'dotenv';
import type { Server } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createKratosClient } from './kratos/kratosClient.js';
import { createLogger } from './logger.js';
import { createPersonaClient } from './persona/personaClient.js';

/** In-flight requests get this long to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

function start(): Server {
  // A .env file is for development; in containers the environment is set by the orchestrator.
  loadDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, pretty: process.env['NODE_ENV'] === 'development' });
  const app = createApp({
    config,
    logger,
    kratos: createKratosClient(config.kratos),
    persona: createPersonaClient(config.persona),
  });

  const server = app.listen(config.port, config.host, () => {
    logger.info({ port: config.port, login_policy: config.login.policy }, 'ory-persona-idv listening');
  });
  server.on('error', (error) => {
    logger.fatal({ error: error.message }, 'server failed');
    process.exit(1);
  });

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    setTimeout(() => {
      logger.warn('requests still in flight after the grace period; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return server;
}

start();
