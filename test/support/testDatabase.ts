import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  /** A URL of a database of its own, for DATABASE_URL. */
  url: string;
  /** Runs SQL as the superuser on that database (for assertions and for holding locks). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** A connection of its own, e.g. to hold an advisory lock; closed by `drop`. */
  connect(): Promise<pg.Client>;
  drop(): Promise<void>;
}

/**
 * A fresh database on the test run's server (test/support/globalPostgres.ts), so test files run
 * in parallel without sharing tables or locks' effects on each other.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('postgresUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(serverUrl);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const clients: pg.Client[] = [];
  const connect = async () => {
    const client = new pg.Client(url.toString());
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  const shared = await connect();
  return {
    url: url.toString(),
    query: (text, values) => shared.query(text, values),
    connect,
    async drop() {
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
      const dropper = new pg.Client(serverUrl);
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
