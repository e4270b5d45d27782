import pg from 'pg';
import type { Logger } from '../../logger.js';
import { CoordinationError, INBOX_RETENTION_MS, type Coordination, type UnitOfWork } from '../coordination.js';
import { IdentityQueue } from '../identityQueue.js';
import { identityKey } from './advisoryKeys.js';
import { databaseErrorFields, toCoordinationError } from './databaseErrors.js';
import { leadershipOn } from './leadership.js';
import { loadMigrations, migrate, type MigrationReport } from './migrate.js';
import { SessionConnection } from './sessionConnection.js';

export interface PostgresOptions {
  url: string;
  schema: string;
  poolSize: number;
}

export interface PostgresCoordination extends Coordination {
  readonly mode: 'postgres';
  /** Applies the migrations once; throws what went wrong. */
  migrate(): Promise<MigrationReport>;
  /**
   * Applies the migrations, trying again until they are applied or the coordination closes, then
   * prunes the inbox every hour. Sections fail with `schema_pending` until it has resolved.
   */
  start(): Promise<void>;
}

/** A caller without a deadline gets this long for its whole section. */
const DEFAULT_BUDGET_MS = 10_000;
/** Waiting for another replica's lock may take this share of the time left; the work needs the rest. */
const LOCK_WAIT_SHARE = 0.5;
/** With less than this to wait for the lock, the section is not begun; never more than the maximum. */
const MIN_LOCK_WAIT_MS = 20;
const MAX_LOCK_WAIT_MS = 5_000;
/**
 * The server ends a transaction left idle this long past the caller's deadline, so a replica that
 * froze mid-section (its Kratos calls long given up) cannot hold an identity's lock for good.
 */
const IDLE_MARGIN_MS = 5_000;
/** A statement of ours without an answer in this long is given up, and its connection dropped. */
const QUERY_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
const MIGRATE_RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 10_000;

const integer = (value: number) => String(Math.max(1, Math.floor(value)));

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
    query_timeout: QUERY_TIMEOUT_MS,
  };
  const pool = new pg.Pool({ ...connection, max: options.poolSize, idleTimeoutMillis: 30_000 });
  // An idle connection the server closed (restart, failover) is dropped from the pool and reported
  // here; without a listener it would end the process.
  pool.on('error', (error) => logger.warn(databaseErrorFields(error), 'database connection lost'));
  const session = new SessionConnection(connection, (error) =>
    logger.warn(databaseErrorFields(error), 'database session lost; leadership given up'),
  );
  const queue = new IdentityQueue();
  const schema = pg.escapeIdentifier(options.schema);
  const migrations = loadMigrations();
  let migrated = false;
  let closed = false;
  let pruneTimer: NodeJS.Timeout | undefined;
  let wakeRetry: (() => void) | undefined;

  /** A pool connection within `ms`; one that arrives later goes straight back. */
  const checkout = (ms: number) =>
    new Promise<pg.PoolClient>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new CoordinationError('unavailable', 'pool_timeout'));
      }, ms);
      pool.connect().then(
        (client) => {
          clearTimeout(timer);
          if (late) client.release();
          else resolve(client);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!late) reject(toCoordinationError(error));
        },
      );
    });

  async function section<T>(identityId: string, budgetEndsAt: number, work: (unit: UnitOfWork) => Promise<T>) {
    const client = await checkout(budgetEndsAt - Date.now());
    // A failure of the connection itself (not an error the server answered with) leaves the
    // protocol in an unknown state: that connection is not reused.
    let discard = false;
    const onConnectionError = () => (discard = true);
    client.on('error', onConnectionError);
    const run = async (text: string, values?: unknown[]) => {
      try {
        return await client.query(text, values);
      } catch (error) {
        if (!(error instanceof pg.DatabaseError)) discard = true;
        throw toCoordinationError(error);
      }
    };
    const rollback = () => run('ROLLBACK').catch(() => undefined);
    try {
      const lockWaitMs = Math.min(MAX_LOCK_WAIT_MS, (budgetEndsAt - Date.now()) * LOCK_WAIT_SHARE);
      if (lockWaitMs < MIN_LOCK_WAIT_MS) throw new CoordinationError('lock_timeout');
      const [namespace, key] = identityKey(identityId);
      // One round trip; every value is an integer computed here.
      await run(
        `BEGIN; SET LOCAL lock_timeout = ${integer(lockWaitMs)}; ` +
          `SET LOCAL idle_in_transaction_session_timeout = ${integer(budgetEndsAt - Date.now() + IDLE_MARGIN_MS)}; ` +
          `SELECT pg_advisory_xact_lock(${namespace}, ${key})`,
      ).catch(async (error: unknown) => {
        await rollback();
        throw error;
      });
      const unit: UnitOfWork = {
        async claimEvent(eventId) {
          const inserted = await run(
            `INSERT INTO ${schema}.inbox (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING`,
            [eventId],
          );
          return inserted.rowCount === 1;
        },
      };
      let result: T;
      try {
        result = await work(unit);
      } catch (error) {
        await rollback();
        throw error;
      }
      await run('COMMIT');
      return result;
    } finally {
      client.off('error', onConnectionError);
      client.release(discard);
    }
  }

  const migrateOnce = async (): Promise<MigrationReport> => {
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

  const pruneInbox = async () => {
    let removed = 0;
    for (let batch = PRUNE_BATCH; batch === PRUNE_BATCH;) {
      const result = await pool.query(
        `DELETE FROM ${schema}.inbox WHERE event_id IN (SELECT event_id FROM ${schema}.inbox ` +
          `WHERE applied_at < now() - make_interval(secs => $1) LIMIT $2)`,
        [INBOX_RETENTION_MS / 1000, PRUNE_BATCH],
      );
      batch = result.rowCount ?? 0;
      removed += batch;
    }
    if (removed > 0) logger.info({ removed }, 'inbox pruned of events older than 7 days');
  };
  const prune = () =>
    void pruneInbox().catch((error: unknown) => logger.warn(databaseErrorFields(error), 'inbox not pruned'));

  return {
    mode: 'postgres',
    withIdentity(identityId, deadline, work) {
      return queue.run(identityId, () => {
        if (!migrated) return Promise.reject(new CoordinationError('schema_pending'));
        return section(identityId, deadline?.at ?? Date.now() + DEFAULT_BUDGET_MS, work);
      });
    },
    leadership: (name) => leadershipOn(session, options.schema, name),
    async health() {
      try {
        await session.query('SELECT 1');
      } catch {
        return { ok: false, reason: 'database_unavailable' };
      }
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
