import { config as loadDotenv } from 'dotenv';
import { pino } from 'pino';
import { readyWithin } from '../../commandLine.js';
import { ConfigError, loadConfig, type Config } from '../../config.js';
import type { Coordination } from '../../coordination/coordination.js';
import { startCoordination } from '../../coordination/startCoordination.js';
import { ReturnToPolicy } from '../../http/returnTo.js';
import { StartLinks } from '../../http/startLinks.js';
import { createKratosClient } from '../../kratos/kratosClient.js';
import { createLogger } from '../../logger.js';
import { createMetrics } from '../../metrics.js';
import { createPersonaClient } from '../../persona/personaClient.js';
import { createServices } from '../../services.js';
import { createHelpDesk, type AdminContext } from '../adminContext.js';

/** How long a command waits for the database in DATABASE_URL to answer and be migrated. */
const DATABASE_WAIT_MS = 30_000;

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

export interface CommandContext {
  context: AdminContext;
  coordination: Coordination;
}

/**
 * The admin operations over the same code, configuration and coordination as the service: with
 * DATABASE_URL its writes take the same per-identity locks, and its short codes and audit rows go
 * to the same tables. Log lines (the audit among them) go to stderr, so that stdout holds only the
 * command's answer (`--json` for scripts). Undefined, after saying why, when the database does not
 * answer in time.
 */
export async function openCommandContext(config: Readonly<Config>): Promise<CommandContext | undefined> {
  const logger = createLogger({ level: config.logLevel }, pino.destination({ dest: 2, sync: true }));
  const { coordination, ready } = startCoordination(config.database, logger);
  if (!(await readyWithin(ready, DATABASE_WAIT_MS))) {
    process.stderr.write('the database in DATABASE_URL is not reachable or not migrated (see the log)\n');
    await coordination.close();
    return undefined;
  }
  const metrics = createMetrics();
  const kratos = createKratosClient(config.kratos);
  const persona = createPersonaClient(config.persona);
  const services = createServices(config, kratos, persona, coordination);
  const context: AdminContext = {
    ...services,
    config,
    kratos,
    persona,
    links: new StartLinks(config.start),
    returnTo: new ReturnToPolicy(config.start.returnToAllowlist, config.start.defaultReturnTo),
    helpDesk: createHelpDesk({ config, logger, metrics, now: Date.now, shared: coordination.shared }),
    logger,
    now: Date.now,
  };
  return { context, coordination };
}
