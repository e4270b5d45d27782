import pg from 'pg';
import type { Logger } from '../../logger.js';
import { CoordinationError, type Coordination } from '../coordination.js';
import { IdentityQueue } from '../identityQueue.js';
import { databaseErrorFields } from './databaseErrors.js';
import { identitySection } from './identitySection.js';
import { pruneInbox } from './inbox.js';
import { postgresOutbox, pruneOutbox } from './outbox.js';
import { leadershipOn } from './leadership.js';
import { loadMigrations, migrate, type MigrationReport } from './migrate.js';
import { SessionConnection } from './sessionConnection.js';
import { sharedTransaction } from './sharedTransaction.js';
import { postgresSweepState } from './sweepState.js';

export interface PostgresOptions {
  url: string;
  schema: string;
  poolSize: number;
  /** Where the migrations are read from; the shipped ones unless a test points elsewhere. */
  migrationsDirectory?: URL;
}

export interface PostgresCoordination extends Coordination {
  readonly mode: 'postgres';
  /** Applies the migrations once; throws what went wrong. */
  migrate(): Promise<MigrationReport>;
  /**
   * Applies the migrations, trying again until they are applied or the coordination closes, then
   * prunes the inbox and the outbox every hour. Sections fail with `schema_pending` until it has resolved.
   */
  start(): Promise<void>;
}

/** A caller without a deadline gets this long for its whole section. */
const DEFAULT_BUDGET_MS = 10_000;
/** A statement of ours without an answer in this long is given up, and its connection dropped. */
const QUERY_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
const MIGRATE_RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Coordination through a Postgres database shared by every replica (`DATABASE_URL`): each
 * identity's section is one transaction holding a transaction-scoped advisory lock, the inbox is a
 * table written in that transaction, and leadership is a session-level advisory lock. Its tables
 * live in a schema of their own; Kratos's are never touched.
 */
export function createPostgresCoordination(options: PostgresOptions, logger: Logger): PostgresCoordination {
  const connection = {
    connectionString: options.url,
    application_name: 'ory-persona-idv',
    keepAlive: true,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  };
  const pool = new pg.Pool({
    ...connection,
    query_timeout: QUERY_TIMEOUT_MS,
    max: options.poolSize,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection the server closed (restart, failover) is dropped from the pool and reported
  // here; without a listener it would end the process.
  pool.on('error', (error) => logger.warn(databaseErrorFields(error), 'database connection lost'));
  const session = new SessionConnection(connection, (error) =>
    logger.warn(databaseErrorFields(error), 'database session lost; leadership given up'),
  );
  const queue = new IdentityQueue();
  const quotedSchema = pg.escapeIdentifier(options.schema);
  const migrations = loadMigrations(options.migrationsDirectory);
  let migrated = false;
  /** A section failed for want of the database (not for another replica's lock), and none has committed since. */
  let databaseFailing = false;
  let closed = false;
  let pruneTimer: NodeJS.Timeout | undefined;
  let wakeRetry: (() => void) | undefined;

  const migrateOnce = async (): Promise<MigrationReport> => {
    // No query timeout: a migration may run for minutes (an index over a large inbox), and its
    // waits for locks are bounded by lock_timeout (migrate.ts).
    const client = new pg.Client(connection);
    client.on('error', () => undefined);
    try {
      await client.connect();
      const report = await migrate(client, options.schema, migrations);
      migrated = true;
      return report;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const prune = () => {
    void pruneInbox(pool, quotedSchema).then(
      (removed) => removed > 0 && logger.info({ removed }, 'inbox pruned of events older than 7 days'),
      (error: unknown) => logger.warn(databaseErrorFields(error), 'inbox not pruned'),
    );
    void pruneOutbox(pool, quotedSchema).then(
      (removed) => removed > 0 && logger.info({ removed }, 'outbox pruned of notifications settled 7 days ago'),
      (error: unknown) => logger.warn(databaseErrorFields(error), 'outbox not pruned'),
    );
  };

  return {
    mode: 'postgres',
    withIdentity(identityId, deadline, work) {
      return queue.run(identityId, (holdAfter) => {
        if (!migrated) return Promise.reject(new CoordinationError('schema_pending'));
        const budgetEndsAt = deadline?.at ?? Date.now() + DEFAULT_BUDGET_MS;
        return identitySection(pool, { quotedSchema, identityId, budgetEndsAt, holdAfter }, work).then(
          (result) => {
            databaseFailing = false;
            return result;
          },
          (error: unknown) => {
            if (error instanceof CoordinationError && error.failure !== 'lock_timeout') databaseFailing = true;
            throw error;
          },
        );
      });
    },
    get writable() {
      return migrated && !databaseFailing;
    },
    leadership: (name) => leadershipOn(session, options.schema, name),
    outbox: postgresOutbox(pool, quotedSchema),
    shared: {
      quotedSchema,
      transaction(work) {
        if (!migrated) return Promise.reject(new CoordinationError('schema_pending'));
        return sharedTransaction(pool, work);
      },
    },
    sweepState: postgresSweepState(pool, quotedSchema),
    async health() {
      let inRecovery: boolean | undefined;
      try {
        const { rows } = await session.query<{ in_recovery: boolean }>('SELECT pg_is_in_recovery() AS in_recovery');
        inRecovery = rows[0]?.in_recovery;
      } catch {
        return { ok: false, reason: 'database_unavailable' };
      }
      // A standby answers, but its locks exclude nobody: sections are refused there (identitySection.ts).
      if (inRecovery !== false) return { ok: false, reason: 'database_read_only' };
      return migrated ? { ok: true } : { ok: false, reason: 'database_schema_pending' };
    },
    migrate: migrateOnce,
    async start() {
      for (let attempt = 0; !closed; attempt += 1) {
        try {
          const report = await migrateOnce();
          logger.info(
            { schema: options.schema, applied: report.applied, version: report.version },
            report.applied.length > 0 ? 'database migrated' : 'database schema up to date',
          );
          if (report.version > report.known) {
            logger.warn(
              { version: report.version, known: report.known },
              'database schema is newer than this build (a newer version ran); continuing',
            );
          }
          break;
        } catch (error) {
          const delay = MIGRATE_RETRY_DELAYS_MS[Math.min(attempt, MIGRATE_RETRY_DELAYS_MS.length - 1)] as number;
          logger.error(
            { ...databaseErrorFields(error), retry_in_ms: delay },
            'database not migrated yet: Persona callbacks answer 503 until it is',
          );
          await new Promise<void>((resolve) => {
            wakeRetry = resolve;
            setTimeout(resolve, delay).unref();
          });
        }
      }
      if (closed) return;
      prune();
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      pruneTimer.unref();
    },
    async close() {
      if (closed) return;
      closed = true;
      wakeRetry?.();
      clearInterval(pruneTimer);
      await session.close();
      await pool.end();
    },
  };
}
