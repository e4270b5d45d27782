import pg from 'pg';
import { CoordinationError, type SqlRun } from '../coordination.js';
import { toCoordinationError } from './databaseErrors.js';

/** A pool connection within `ms`; one that arrives later goes straight back. */
export const checkout = (pool: pg.Pool, ms: number) =>
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

/** A failure of the connection itself, not an error the server answered with: the session is gone. */
export const connectionFailed = (error: unknown) =>
  !(error instanceof pg.DatabaseError) || error.severity === 'FATAL' || error.severity === 'PANIC';

/**
 * Runs `work` on a pool connection checked out within `checkoutMs`, with statements whose failures
 * are CoordinationErrors. A failure of the connection itself (not an error the server answered
 * with) leaves the protocol in an unknown state: that connection is not reused.
 */
export async function onPooledConnection<T>(
  pool: pg.Pool,
  checkoutMs: number,
  work: (run: SqlRun) => Promise<T>,
): Promise<T> {
  const client = await checkout(pool, checkoutMs);
  let discard = false;
  const onConnectionError = () => (discard = true);
  client.on('error', onConnectionError);
  const run: SqlRun = async (text, values) => {
    try {
      return await client.query(text, values);
    } catch (error) {
      if (connectionFailed(error)) discard = true;
      throw toCoordinationError(error);
    }
  };
  try {
    return await work(run);
  } finally {
    client.off('error', onConnectionError);
    client.release(discard);
  }
}

/**
 * A transaction on `run`'s connection: `begin` (BEGIN and what must come with it), then `work`;
 * commits when it resolves, rolls back when anything throws (and rethrows).
 */
export async function inTransaction<T>(run: SqlRun, begin: string, work: () => Promise<T>): Promise<T> {
  const rollback = () => run('ROLLBACK').catch(() => undefined);
  let result: T;
  try {
    await run(begin);
    result = await work();
  } catch (error) {
    await rollback();
    throw error;
  }
  await run('COMMIT');
  return result;
}
