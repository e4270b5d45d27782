import { config as loadDotenv } from 'dotenv';
import { readyWithin, runCommand, UsageError, type CommandSpec } from './commandLine.js';
import { ConfigError, loadConfig } from './config.js';
import { startCoordination } from './coordination/startCoordination.js';
import { parseDuration } from './duration.js';
import { createKratosClient } from './kratos/kratosClient.js';
import { createLogger } from './logger.js';
import type { CallObserver } from './outbound/observe.js';
import { createPersonaClient } from './persona/personaClient.js';
import { reconcile, type ReconcileProgress } from './reconcile/reconcile.js';
import { acceptedTemplateIds, createServices } from './services.js';

/** Persona's inquiries are all newer than this. */
const LONGEST_SINCE = '3650d';

const COMMAND: CommandSpec = {
  name: 'reconcile',
  usage: `usage: reconcile [--since <duration>]

Applies the current Persona status of every inquiry created in the window to its Kratos identity,
by the same rules as a webhook: a healthy identity stays unchanged, an older inquiry never undoes
a newer one. Reads the service's configuration from the environment (and a .env file).

  npm run reconcile -- --since 48h      from a checkout (compiles first)
  node dist/reconcile.js --since 48h    in the container

Options:
  --since <duration>  how far back to look: 90m, 48h, 7d, 1h30m (default 48h)
  -h, --help          this text

Progress (pages read, waits for Persona's rate limit) goes to stderr, the summary to stdout.
Exit status: 0 when every inquiry was checked and no update failed; 1 when an update failed or a
page could not be read (run it again); 2 for a wrong argument.
`,
  options: { since: { type: 'string', default: '48h' } },
};

const progress = (line: string) => process.stderr.write(`reconcile: ${line}\n`);

/** How long the command waits for the database (DATABASE_URL) before giving up. */
const DATABASE_WAIT_MS = 30_000;

/** Without DATABASE_URL the running service's locks are in its own process: this command writes beside it without them. */
const SECOND_WRITER_WARNING =
  'no DATABASE_URL, so this command is a second writer beside a running service: an event applied by ' +
  'the service at the same moment for the same identity can be lost. Prefer the schedule inside the ' +
  'service (RECONCILE_INTERVAL), or run this while the service is stopped';

const reportPage = ({ templateId, pages, counts }: ReconcileProgress) =>
  progress(
    `${templateId}: page ${pages} read; so far checked ${counts.checked}, changed ${counts.changed}, failed ${counts.failed}`,
  );

/** Persona's 429 carries when its window resets; the retry waits that long, so say so. */
const reportRateLimit: CallObserver = (call) => {
  if (call.failure?.kind === 'status' && call.failure.status === 429) {
    const seconds = call.rateLimit?.resetSeconds;
    const reset = seconds === undefined ? '' : `, which resets in ${seconds} s`;
    progress(`Persona's rate limit is reached${reset}: waiting before ${call.operation} is tried again`);
  }
};

await runCommand(COMMAND, async ({ values }) => {
  const since = String(values['since']);
  const windowMs = parseDuration(since);
  if (windowMs === undefined) throw new UsageError(`--since: "${since}" is not a duration such as 48h, 7d or 1h30m`);
  if (windowMs > (parseDuration(LONGEST_SINCE) as number))
    throw new UsageError(
      `--since: at most ${LONGEST_SINCE}; a longer window reaches before any inquiry and past what a date holds`,
    );

  loadDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  if (config.database === undefined) progress(SECOND_WRITER_WARNING);
  const logger = createLogger({ level: config.logLevel });
  const { coordination, ready } = startCoordination(config.database, logger);
  if (!(await readyWithin(ready, DATABASE_WAIT_MS))) {
    progress('the database in DATABASE_URL is not reachable or not migrated (see the log)');
    await coordination.close();
    return 1;
  }
  const persona = createPersonaClient({ ...config.persona, observe: reportRateLimit });
  const services = createServices(config, createKratosClient(config.kratos), persona, coordination, { logger });
  const from = new Date(Date.now() - windowMs);
  progress(`reading the inquiries created since ${from.toISOString()}`);
  const counts = await reconcile(
    { ...services, persona, templateIds: acceptedTemplateIds(config), logger, onPage: reportPage },
    from,
  ).finally(async () => {
    services.rechecks.stop();
    // With DATABASE_URL the notifications of its changes wait in the outbox for the service's
    // relay; without, they wait in this process's memory and are sent once, now.
    if (coordination.mode === 'single-instance') await services.notifications.relay.runOnce();
    await coordination.close();
  });
  process.stdout.write(
    `reconciled inquiries created since ${from.toISOString()}: checked ${counts.checked}, changed ${counts.changed}, ` +
      `unchanged ${counts.unchanged}, failed ${counts.failed}${counts.incomplete ? ' (incomplete: a page could not be read)' : ''}\n`,
  );
  return counts.failed > 0 || counts.incomplete ? 1 : 0;
});
