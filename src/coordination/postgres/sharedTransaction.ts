import pg from 'pg';
import type { SqlRun } from '../coordination.js';
import { toCoordinationError } from './databaseErrors.js';
import { checkout } from './identitySection.js';

/** A statement of a store outside any identity's section gets this long, checkout included. */
const SHARED_BUDGET_MS = 5_000;

/**
 * One transaction on a pool connection, for the stores every replica shares that are not an
 * identity's record (SharedDatabase): commits when `work` resolves, rolls back when it throws; a
 * failure of the database itself is a CoordinationError, and its connection is not reused.
 */
export async function sharedTransaction<T>(pool: pg.Pool, work: (run: SqlRun) => Promise<T>): Promise<T> {
  const client = await checkout(pool, SHARED_BUDGET_MS);
  let discard = false;
  const onConnectionError = () => (discard = true);
  client.on('error', onConnectionError);
  const run: SqlRun = async (text, values) => {
    try {
      return await client.query(text, values);
    } catch (error) {
      if (!(error instanceof pg.DatabaseError)) discard = true;
      throw toCoordinationError(error);
    }
  };
  try {
    await run('BEGIN');
    let result: T;
    try {
      result = await work(run);
    } catch (error) {
      await run('ROLLBACK').catch(() => undefined);
      throw error;
    }
    await run('COMMIT');
    return result;
  } finally {
    client.off('error', onConnectionError);
    client.release(discard);
  }
}
