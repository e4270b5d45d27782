import { runCommand, type CommandSpec } from '../src/commandLine.js';
import { startEmbeddedPostgres } from './embeddedPostgres.js';

const COMMAND: CommandSpec = {
  name: 'postgres',
  usage: `usage: postgres

Starts a throwaway Postgres on loopback for trying DATABASE_URL (several replicas of the service on
one machine), prints its DATABASE_URL and runs until Ctrl-C or SIGTERM; then it stops the server
and removes its data. Takes no arguments.
`,
  options: {},
};

/**
 * `npm run postgres`: stops the server and removes its data also when the signal comes while it
 * is still starting.
 */
await runCommand(COMMAND, async () => {
  const starting = startEmbeddedPostgres();
  const stop = () => void starting.then((server) => server.close()).finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`DATABASE_URL=${(await starting).url}\n`);
  return 0;
});
