import { config as loadDotenv } from 'dotenv';
import { runCommand, type CommandSpec } from './commandLine.js';
import { ConfigError, loadDatabaseConfig } from './config.js';
import { databaseErrorFields } from './coordination/postgres/databaseErrors.js';
import { createPostgresCoordination } from './coordination/postgres/postgresCoordination.js';
import { createLogger } from './logger.js';

const COMMAND: CommandSpec = {
  name: 'migrate',
  usage: `usage: migrate

Creates or upgrades the service's schema (DATABASE_SCHEMA, default persona_idv) in the database of
DATABASE_URL, then exits. The service does the same at start; this runs it as a step of its own,
for example before a rollout. Safe to run again, and beside running replicas. Reads only the
DATABASE_ variables from the environment (and a .env file).

  npm run migrate          from a checkout (compiles first)
  node dist/migrate.js     in the container

Options:
  -h, --help  this text

Exit status: 0 when the schema is current; 1 when DATABASE_URL is unset or wrong, or the database
refused (the reason is printed); 2 for a wrong argument.
`,
  options: {},
};

await runCommand(COMMAND, async () => {
  loadDotenv({ quiet: true });
  let database;
  try {
    database = loadDatabaseConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  if (database === undefined) {
    process.stderr.write('migrate: DATABASE_URL is not set; single-instance mode keeps no database\n');
    return 1;
  }
  const coordination = createPostgresCoordination(database, createLogger({ level: 'warn' }));
  try {
    const report = await coordination.migrate();
    process.stdout.write(
      report.applied.length > 0
        ? `schema ${database.schema}: applied ${report.applied.join(', ')}; now at version ${report.version}\n`
        : `schema ${database.schema} is up to date (version ${report.version})\n`,
    );
    return 0;
  } catch (error) {
    const { db_code: code, hint, error: text } = databaseErrorFields(error);
    process.stderr.write(`migrate: failed${code === undefined ? '' : ` (${String(code)})`}: ${String(hint ?? text)}\n`);
    return 1;
  } finally {
    await coordination.close();
  }
});
