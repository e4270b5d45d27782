import { parseArgs } from 'node:util';
import { config as loadDotenv } from 'dotenv';
import { ConfigError, loadConfig } from './config.js';
import { parseDuration } from './duration.js';
import { createKratosClient } from './kratos/kratosClient.js';
import { createLogger } from './logger.js';
import { createPersonaClient } from './persona/personaClient.js';
import { reconcile } from './reconcile/reconcile.js';
import { createServices } from './services.js';

/**
 * `npm run reconcile -- --since 48h`: applies the current status of every inquiry created in the
 * window to its identity. Exits 0 when everything was checked and no update failed.
 */
async function main(): Promise<number> {
  loadDotenv({ quiet: true });
  let since: number | undefined;
  try {
    const { values } = parseArgs({ options: { since: { type: 'string', default: '48h' } } });
    since = parseDuration(values.since);
  } catch {
    since = undefined;
  }
  if (since === undefined) {
    process.stderr.write('usage: reconcile [--since <duration, e.g. 48h or 7d>]\n');
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  const logger = createLogger({ level: config.logLevel });
  const kratos = createKratosClient(config.kratos);
  const services = createServices(config, kratos);
  const from = new Date(Date.now() - since);
  const counts = await reconcile(
    {
      persona: createPersonaClient(config.persona),
      store: services.store,
      rules: services.rules,
      templateIds: config.persona.templateIds,
      logger,
    },
    from,
  );
  process.stdout.write(
    `reconciled inquiries created since ${from.toISOString()}: checked ${counts.checked}, changed ${counts.changed}, ` +
      `unchanged ${counts.unchanged}, failed ${counts.failed}${counts.incomplete ? ' (incomplete: a page could not be read)' : ''}\n`,
  );
  return counts.failed > 0 || counts.incomplete ? 1 : 0;
}

process.exitCode = await main();
