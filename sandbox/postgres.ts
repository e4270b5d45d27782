import { startEmbeddedPostgres } from './embeddedPostgres.js';

/**
 * `npm run postgres`: a throwaway local Postgres for trying DATABASE_URL (several replicas of the
 * service on one machine). Prints the URL and runs until Ctrl-C or SIGTERM, when the server stops
 * and its data is removed.
 */
const server = await startEmbeddedPostgres();
process.stdout.write(`DATABASE_URL=${server.url}\n`);
