import type pg from 'pg';
import type { SqlRun } from '../coordination.js';
import { inTransaction, onPooledConnection } from './pooledConnection.js';

/** A store's transaction outside any identity's section gets this long, checkout included. */
const SHARED_BUDGET_MS = 5_000;

/**
 * One transaction for the stores every replica shares that are not an identity's record
 * (SharedDatabase): commits when `work` resolves, rolls back when it throws; a failure of the
 * database itself is a CoordinationError.
 */
export function sharedTransaction<T>(pool: pg.Pool, work: (run: SqlRun) => Promise<T>): Promise<T> {
  return onPooledConnection(pool, SHARED_BUDGET_MS, (run) => inTransaction(run, 'BEGIN', () => work(run)));
}
