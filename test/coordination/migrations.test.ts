import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../../src/coordination/postgres/migrate.js';
import { createPostgresCoordination } from '../../src/coordination/postgres/postgresCoordination.js';
import { createLogger } from '../../src/logger.js';
import { runCommandProcess } from '../support/serverProcess.js';
import { createTestDatabase, type TestDatabase } from '../support/testDatabase.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

const coordinationOn = (schema: string, migrationsDirectory?: URL) =>
  createPostgresCoordination(
    { url: database.url, schema, poolSize: 2, ...(migrationsDirectory !== undefined && { migrationsDirectory }) },
    createLogger({ level: 'silent' }),
  );

const tablesOf = async (schema: string) =>
  (
    await database.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    )
  ).rows.map((row) => row.table_name);

const SHIPPED = ['0001_inbox', '0002_outbox', '0003_help_desk', '0004_redaction_sweeps'];
const TABLES = ['audit_log', 'inbox', 'migrations', 'missing_identities', 'outbox', 'short_codes', 'sweep_cursors'];

const migrateCommand = (args: string[], env: Record<string, string>) => runCommandProcess('migrate', args, env);

describe('migrations', () => {
  it('ships numbered plain SQL, 1, 2, 3..., each naming the schema only through its placeholder', () => {
    const migrations = loadMigrations();
    expect(migrations.map((migration) => migration.version)).toEqual(migrations.map((_, index) => index + 1));
    for (const migration of migrations) {
      expect(migration.sql).not.toMatch(/persona_idv|public\./);
      expect(migration.sql).toContain(':"schema".');
    }
  });

  it('are applied exactly once when three replicas start at once, in a schema of their own', async () => {
    const replicas = [coordinationOn('persona_idv'), coordinationOn('persona_idv'), coordinationOn('persona_idv')];
    const reports = await Promise.all(replicas.map((replica) => replica.migrate()));
    await Promise.all(replicas.map((replica) => replica.close()));

    const known = loadMigrations().length;
    expect(reports.flatMap((report) => report.applied)).toEqual(SHIPPED);
    expect(reports.map((report) => report.version)).toEqual([known, known, known]);
    const recorded = await database.query('SELECT version, name FROM persona_idv.migrations ORDER BY version');
    expect(recorded.rows).toEqual([
      { version: 1, name: 'inbox' },
      { version: 2, name: 'outbox' },
      { version: 3, name: 'help_desk' },
      { version: 4, name: 'redaction_sweeps' },
    ]);
    expect(await tablesOf('persona_idv')).toEqual(TABLES);
    expect(await tablesOf('public')).toEqual([]);
  });

  it('are idempotent, and go to the configured schema', async () => {
    const first = coordinationOn('idv_custom');
    expect((await first.migrate()).applied).toEqual(SHIPPED);
    expect((await first.migrate()).applied).toEqual([]);
    await first.close();
    expect(await tablesOf('idv_custom')).toEqual(TABLES);
  });

  it('run as long as a statement needs: longer than a section may wait for a query (10 s)', async () => {
    // The shipped migrations, and one that builds for 11 s, as an index over a large inbox might.
    const directory = mkdtempSync(join(tmpdir(), 'migrations-'));
    const shipped = new URL('../../src/coordination/postgres/migrations/', import.meta.url);
    for (const migration of loadMigrations())
      copyFileSync(
        new URL(`${String(migration.version).padStart(4, '0')}_${migration.name}.sql`, shipped),
        join(directory, `${String(migration.version).padStart(4, '0')}_${migration.name}.sql`),
      );
    const slow = `${String(loadMigrations().length + 1).padStart(4, '0')}_slow.sql`;
    writeFileSync(join(directory, slow), 'SELECT pg_sleep(11);\nCREATE TABLE :"schema".slow (id integer);\n');

    const coordination = coordinationOn('idv_slow', pathToFileURL(`${directory}/`));
    const report = await coordination.migrate();
    await coordination.close();
    expect(report).toMatchObject({ version: loadMigrations().length + 1 });
    expect(report.applied.at(-1)).toBe(slow.replace('.sql', ''));
    expect(await tablesOf('idv_slow')).toContain('slow');
  }, 30_000);

  it('leave a schema a newer build migrated further alone, and report its version', async () => {
    const coordination = coordinationOn('idv_newer');
    await coordination.migrate();
    await database.query("INSERT INTO idv_newer.migrations (version, name) VALUES (99, 'from_the_future')");
    expect(await coordination.migrate()).toEqual({ applied: [], version: 99, known: loadMigrations().length });
    await coordination.close();
  });
});

describe('npm run migrate', () => {
  it('migrates, then finds the schema up to date', async () => {
    const env = { DATABASE_URL: database.url, DATABASE_SCHEMA: 'idv_command' };
    const first = await migrateCommand([], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(`schema idv_command: applied ${SHIPPED.join(', ')}; now at version 4\n`);
    const again = await migrateCommand([], env);
    expect(again).toMatchObject({ code: 0, stdout: 'schema idv_command is up to date (version 4)\n' });
  });

  it('prints its usage with --help, and names a bad argument', async () => {
    const help = await migrateCommand(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: migrate/);
    const bad = await migrateCommand(['--schema', 'x'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('migrate: unknown option --schema');
  });

  it('says what is wrong without printing the password', async () => {
    const unset = await migrateCommand([], {});
    expect(unset).toMatchObject({ code: 1 });
    expect(unset.stderr).toContain('DATABASE_URL is not set');

    const wrong = new URL(database.url);
    wrong.password = 'not-the-password-4711';
    const refused = await migrateCommand([], { DATABASE_URL: wrong.toString() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'migrate: failed (28P01): password authentication failed: check the user and password in DATABASE_URL\n',
    );

    const malformed = await migrateCommand([], { DATABASE_URL: 'mysql://user:secret-4711@host/db' });
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(malformed.stderr).not.toContain('secret-4711');
  });
});
