import pg from 'pg';
import { CoordinationError, type UnitOfWork } from '../coordination.js';
import type { HoldAfter } from '../identityQueue.js';
import { identityKey } from './advisoryKeys.js';
import { toCoordinationError } from './databaseErrors.js';
import { claimEvent } from './inbox.js';
import { enqueueMessages } from './outbox.js';
import { checkout, connectionFailed } from './pooledConnection.js';
import { setTimeout as sleep } from 'node:timers/promises';

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

const integer = (value: number) => String(Math.max(1, Math.floor(value)));

/** SQLSTATE feature_not_supported, which BEGIN READ WRITE answers on a server in recovery. */
const IN_RECOVERY = '0A000';

/** node-postgres reads a per-query `query_timeout` (lib/client.js), which its types leave out. */
type TimedQuery = pg.QueryConfig & { query_timeout?: number };

/**
 * One identity's section: a read-write transaction that first takes pg_advisory_xact_lock on the
 * identity, waiting at most half of the time left before `budgetEndsAt`, then runs `work` with a
 * unit of work writing in the same transaction (the inbox, the outbox). Commits when `work`
 * resolves, rolls back when it throws (and rethrows its error); a failure of the database itself is
 * a CoordinationError.
 *
 * READ WRITE because a standby grants advisory locks too, but they exclude nobody on the primary
 * (a DATABASE_URL naming a read replica, or a demoted primary): there the section is refused.
 * When the connection breaks, the server releases the lock at once while `work` still runs:
 * `unit.lost` fires and `unit.fence()` refuses, so no Kratos write follows. A hold (`holdAfter`)
 * keeps the transaction, and so the lock, open that much longer before it ends.
 */
export async function identitySection<T>(
  pool: pg.Pool,
  section: { quotedSchema: string; identityId: string; budgetEndsAt: number; holdAfter: HoldAfter },
  work: (unit: UnitOfWork) => Promise<T>,
): Promise<T> {
  const { quotedSchema, identityId, budgetEndsAt } = section;
  const lockWaitMs = () => Math.min(MAX_LOCK_WAIT_MS, (budgetEndsAt - Date.now()) * LOCK_WAIT_SHARE);
  // Its turn may come late: the sections of this identity queued before it took the budget.
  if (lockWaitMs() < MIN_LOCK_WAIT_MS) throw new CoordinationError('lock_timeout');
  const client = await checkout(pool, budgetEndsAt - Date.now());
  // When the connection breaks (an error event, or a query failing without the server's answer),
  // the server has ended the session and released the lock: `lost` fires. Its protocol state is
  // unknown, so it is not reused either.
  const lost = new AbortController();
  const onConnectionError = () => lost.abort();
  client.on('error', onConnectionError);
  let locked = false;
  const run = async (query: string | TimedQuery, values?: unknown[]) => {
    try {
      return await client.query(typeof query === 'string' ? { text: query, values } : query);
    } catch (error) {
      if (connectionFailed(error)) lost.abort();
      const failure = toCoordinationError(error);
      throw locked && lost.signal.aborted ? new CoordinationError('lock_lost', failure.code) : failure;
    }
  };
  let heldMs = 0;
  const release = () => {
    client.off('error', onConnectionError);
    client.release(lost.signal.aborted);
  };
  // A connection that broke ends nothing any more: the server ended the session and its
  // transaction, and a statement sent on a connection that hangs would wait for its timeout.
  const end = async (statement: 'COMMIT' | 'ROLLBACK') => {
    try {
      if (lost.signal.aborted) throw new CoordinationError('lock_lost');
      await run(statement);
    } finally {
      release();
    }
  };
  const rollback = () => end('ROLLBACK').catch(() => undefined);
  // The server's idle timeout moved past a hold, so the lock outlasts it.
  const extendIdleTimeout = () =>
    run(`SET LOCAL idle_in_transaction_session_timeout = ${integer(heldMs + IDLE_MARGIN_MS)}`).catch(() => undefined);

  const waitMs = lockWaitMs();
  if (waitMs < MIN_LOCK_WAIT_MS) {
    release();
    throw new CoordinationError('lock_timeout');
  }
  const [namespace, key] = identityKey(identityId);
  try {
    // One round trip; every value is an integer computed here.
    await run(
      `BEGIN READ WRITE; SET LOCAL lock_timeout = ${integer(waitMs)}; ` +
        `SET LOCAL idle_in_transaction_session_timeout = ${integer(budgetEndsAt - Date.now() + IDLE_MARGIN_MS)}; ` +
        `SELECT pg_advisory_xact_lock(${namespace}, ${key})`,
    );
    locked = true;
  } catch (error) {
    await rollback();
    throw error instanceof CoordinationError && error.code === IN_RECOVERY
      ? new CoordinationError('read_only', IN_RECOVERY)
      : error;
  }

  const unit: UnitOfWork = {
    claimEvent: (eventId) => claimEvent(run, quotedSchema, eventId),
    enqueue: (messages) => enqueueMessages(run, quotedSchema, messages),
    lost: lost.signal,
    async fence() {
      if (!lost.signal.aborted) {
        try {
          // Bounded by the budget: a connection that does not answer in time proves nothing.
          await run({ text: 'SELECT 1', query_timeout: Math.max(1, budgetEndsAt - Date.now()) });
          return;
        } catch (error) {
          if (!lost.signal.aborted) throw error;
        }
      }
      throw new CoordinationError('lock_lost');
    },
    holdAfter(ms) {
      heldMs = Math.max(heldMs, ms);
      section.holdAfter(ms);
    },
  };
  let result: T;
  try {
    result = await work(unit);
  } catch (error) {
    if (heldMs > 0 && !lost.signal.aborted) {
      // The caller has its answer now; the lock is held through the hold.
      void extendIdleTimeout()
        .then(() => sleep(heldMs))
        .then(rollback);
    } else {
      await rollback();
    }
    throw error;
  }
  if (heldMs > 0) {
    await extendIdleTimeout();
    await sleep(heldMs);
  }
  await end('COMMIT');
  return result;
}
