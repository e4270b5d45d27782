import pg from 'pg';
import { CoordinationError, type UnitOfWork } from '../coordination.js';
import { identityKey } from './advisoryKeys.js';
import { toCoordinationError } from './databaseErrors.js';
import { claimEvent } from './inbox.js';
import { enqueueMessages } from './outbox.js';

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

/** A pool connection within `ms`; one that arrives later goes straight back. */
const checkout = (pool: pg.Pool, ms: number) =>
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

/**
 * One identity's section: a transaction that first takes pg_advisory_xact_lock on the identity,
 * waiting at most half of the time left before `budgetEndsAt`, then runs `work` with a unit of work
 * writing in the same transaction (the inbox, the outbox). Commits when `work` resolves, rolls back when it throws (and
 * rethrows its error); a failure of the database itself is a CoordinationError.
 */
export async function identitySection<T>(
  pool: pg.Pool,
  section: { quotedSchema: string; identityId: string; budgetEndsAt: number },
  work: (unit: UnitOfWork) => Promise<T>,
): Promise<T> {
  const { quotedSchema, identityId, budgetEndsAt } = section;
  const lockWaitMs = () => Math.min(MAX_LOCK_WAIT_MS, (budgetEndsAt - Date.now()) * LOCK_WAIT_SHARE);
  // Its turn may come late: the sections of this identity queued before it took the budget.
  if (lockWaitMs() < MIN_LOCK_WAIT_MS) throw new CoordinationError('lock_timeout');
  const client = await checkout(pool, budgetEndsAt - Date.now());
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
    const waitMs = lockWaitMs();
    if (waitMs < MIN_LOCK_WAIT_MS) throw new CoordinationError('lock_timeout');
    const [namespace, key] = identityKey(identityId);
    // One round trip; every value is an integer computed here.
    await run(
      `BEGIN; SET LOCAL lock_timeout = ${integer(waitMs)}; ` +
        `SET LOCAL idle_in_transaction_session_timeout = ${integer(budgetEndsAt - Date.now() + IDLE_MARGIN_MS)}; ` +
        `SELECT pg_advisory_xact_lock(${namespace}, ${key})`,
    ).catch(async (error: unknown) => {
      await rollback();
      throw error;
    });
    let result: T;
    try {
      result = await work({
        claimEvent: (eventId) => claimEvent(run, quotedSchema, eventId),
        enqueue: (messages) => enqueueMessages(run, quotedSchema, messages),
      });
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
