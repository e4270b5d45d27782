import { startEmbeddedPostgres } from './embeddedPostgres.js';

/**
 * `npm run postgres`: a throwaway local Postgres for trying DATABASE_URL (several replicas of the
 * service on one machine). Prints the URL and runs until Ctrl-C or SIGTERM, then stops the server
 * and removes its data (also when the signal comes while it is still starting).
 */
const starting = startEmbeddedPostgres();
const stop = () => void starting.then((server) => server.close()).finally(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
process.stdout.write(`DATABASE_URL=${(await starting).url}\n`);
