import type pg from 'pg';
import { INBOX_RETENTION_MS, type SqlRun } from '../coordination.js';
import { deleteInBatches } from './deleteInBatches.js';

/**
 * The inbox table (migrations/0001_inbox.sql): a Persona event id is claimed by inserting it in
 * the section's transaction, so the claim commits or rolls back with the section's writes.
 */
export async function claimEvent(run: SqlRun, quotedSchema: string, eventId: string): Promise<boolean> {
  const inserted = await run(
    `INSERT INTO ${quotedSchema}.inbox (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING`,
    [eventId],
  );
  return inserted.rowCount === 1;
}

/** Deletes the ids older than the retention; every replica may run it, any number of times. */
export const pruneInbox = (pool: pg.Pool, quotedSchema: string): Promise<number> =>
  deleteInBatches(
    pool,
    `DELETE FROM ${quotedSchema}.inbox WHERE event_id IN (SELECT event_id FROM ${quotedSchema}.inbox ` +
      `WHERE applied_at < now() - make_interval(secs => $1) LIMIT $2)`,
    [INBOX_RETENTION_MS / 1000],
  );
