import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { migrationsKey } from './advisoryKeys.js';

/**
 * Versioned plain SQL in `migrations/` (`0001_inbox.sql`, ...), each applied once in a transaction
 * of its own and recorded in `migrations`. `:"schema"` in a file stands for the configured
 * schema (psql's own syntax, so a file also runs with `psql -v schema=persona_idv`).
 */
const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
/** Another replica may be migrating: wait for it this long at most. */
const LOCK_WAIT_MS = 60_000;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationReport {
  /** Applied now, oldest first, as `0001_inbox`. */
  applied: string[];
  /** The schema's version afterwards. */
  version: number;
  /** The newest version this build knows; lower than `version` while a newer build runs beside it. */
  known: number;
}

/** The migrations this build ships, in order; throws when the folder is missing or out of order. */
export function loadMigrations(directory: URL = MIGRATIONS_DIR): Migration[] {
  let files: string[];
  try {
    files = readdirSync(directory).filter((file) => file.endsWith('.sql'));
  } catch {
    throw new Error(`no migrations at ${directory.pathname}: the build must copy src/coordination/postgres/migrations`);
  }
  const migrations = files
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (match === null) throw new Error(`migration file ${file} is not named NNNN_name.sql`);
      return {
        version: Number(match[1]),
        name: match[2] as string,
        sql: readFileSync(new URL(file, directory), 'utf8'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1)
      throw new Error(`migration versions must run 1, 2, 3...: ${migration.version}`);
  });
  return migrations;
}

const label = (migration: Migration) => `${String(migration.version).padStart(4, '0')}_${migration.name}`;

/**
 * Brings `schema` to the newest version under a session-level advisory lock, so replicas starting
 * at once apply each migration exactly once; the others wait, then find nothing to do. `client` is
 * a connection of its own, closed by the caller afterwards (it keeps a session setting), without a
 * query timeout: a statement may take as long as it needs, lock_timeout bounds only its waits.
 */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  migrations: Migration[],
): Promise<MigrationReport> {
  const quoted = pg.escapeIdentifier(schema);
  const [namespace, key] = migrationsKey(schema);
  await client.query(`SET lock_timeout = ${LOCK_WAIT_MS}`);
  await client.query('SELECT pg_advisory_lock($1, $2)', [namespace, key]);
  try {
    // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the schema
    // exists, and a DBA may have created it for a user without that privilege.
    const existing = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (existing.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await client.query<{ version: number }>(`SELECT version FROM ${quoted}.migrations`);
    const appliedBefore = new Set(done.rows.map((row) => row.version));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (appliedBefore.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql.replaceAll(':"schema"', quoted));
        await client.query(`INSERT INTO ${quoted}.migrations (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(label(migration));
    }
    const version = Math.max(0, ...appliedBefore, ...migrations.map((migration) => migration.version));
    return { applied, version, known: migrations.length };
  } finally {
    // When the connection broke, the server has released the lock with the session.
    await client.query('SELECT pg_advisory_unlock($1, $2)', [namespace, key]).catch(() => undefined);
  }
}
