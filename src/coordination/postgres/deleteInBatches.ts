import type pg from 'pg';

/** Rows deleted per statement when pruning, so no statement holds many row locks for long. */
export const PRUNE_BATCH = 10_000;

/**
 * Runs a `DELETE ... LIMIT $n` statement (its last parameter is the batch size) until a batch
 * deletes fewer rows than that; returns how many it deleted. Every replica may run it, any number
 * of times.
 */
export async function deleteInBatches(pool: pg.Pool, statement: string, values: unknown[]): Promise<number> {
  let removed = 0;
  for (let batch = PRUNE_BATCH; batch === PRUNE_BATCH;) {
    const result = await pool.query(statement, [...values, PRUNE_BATCH]);
    batch = result.rowCount ?? 0;
    removed += batch;
  }
  return removed;
}
