import { config as loadDotenv } from 'dotenv';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from '../../config.js';
import { createInProcessCoordination } from '../../coordination/inProcessCoordination.js';
import { ReturnToPolicy } from '../../http/returnTo.js';
import { StartLinks } from '../../http/startLinks.js';
import { createKratosClient } from '../../kratos/kratosClient.js';
import { createLogger } from '../../logger.js';
import { createMetrics } from '../../metrics.js';
import { createPersonaClient } from '../../persona/personaClient.js';
import { createServices } from '../../services.js';
import { createHelpDesk, type AdminContext } from '../adminContext.js';

/** The service's configuration from the environment (and a .env file); undefined after saying what is wrong. */
export function readConfiguration(): Readonly<Config> | undefined {
  loadDotenv({ quiet: true });
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return undefined;
  }
}

/**
 * The admin operations over the same code and configuration as the service. Log lines (the audit
 * among them) go to stderr, so that stdout holds only the command's answer (`--json` for scripts).
 */
export function commandContext(config: Readonly<Config>): AdminContext {
  const logger = createLogger({ level: config.logLevel }, pino.destination({ dest: 2, sync: true }));
  const metrics = createMetrics();
  const kratos = createKratosClient(config.kratos);
  const services = createServices(config, kratos, createPersonaClient(config.persona), createInProcessCoordination());
  return {
    ...services,
    config,
    kratos,
    links: new StartLinks(config.start),
    returnTo: new ReturnToPolicy(config.start.returnToAllowlist, config.start.defaultReturnTo),
    helpDesk: createHelpDesk({ config, logger, metrics, now: Date.now }),
    logger,
    now: Date.now,
  };
}
