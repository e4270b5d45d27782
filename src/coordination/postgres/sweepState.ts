import type pg from 'pg';
import type { SweepState } from '../../privacy/sweep/sweepState.js';
import { toCoordinationError } from './databaseErrors.js';

/**
 * The redaction sweeps' state in the tables of migrations/0004_redaction_sweeps.sql, shared by
 * every replica (only the leader sweeps, and the command takes the same lead). A database failure
 * is a CoordinationError: the sweep stops and goes on at its next run.
 */
export function postgresSweepState(pool: pg.Pool, quotedSchema: string): SweepState {
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[]) => {
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      throw toCoordinationError(error);
    }
  };
  return {
    async missingSince(referenceIds) {
      if (referenceIds.length === 0) return new Map();
      const { rows } = await query<{ reference_id: string; first_missing_at: Date }>(
        `SELECT reference_id, first_missing_at FROM ${quotedSchema}.missing_identities WHERE reference_id = ANY($1)`,
        [referenceIds],
      );
      return new Map(rows.map((row) => [row.reference_id, row.first_missing_at]));
    },
    async markMissing(referenceId, now) {
      // The first time stays: a second replica's or a later run's insert changes nothing.
      const { rows } = await query<{ first_missing_at: Date }>(
        `INSERT INTO ${quotedSchema}.missing_identities (reference_id, first_missing_at) VALUES ($1, $2)
         ON CONFLICT (reference_id) DO UPDATE SET first_missing_at = missing_identities.first_missing_at
         RETURNING first_missing_at`,
        [referenceId, now],
      );
      return rows[0]?.first_missing_at ?? now;
    },
    async forgetMissing(referenceId) {
      await query(`DELETE FROM ${quotedSchema}.missing_identities WHERE reference_id = $1`, [referenceId]);
    },
    async cursor(sweep) {
      const { rows } = await query<{ template_id: string; after_id: string | null }>(
        `SELECT template_id, after_id FROM ${quotedSchema}.sweep_cursors WHERE sweep = $1`,
        [sweep],
      );
      const row = rows[0];
      return row === undefined ? undefined : { templateId: row.template_id, after: row.after_id ?? undefined };
    },
    async saveCursor(sweep, cursor) {
      if (cursor === undefined) {
        await query(`DELETE FROM ${quotedSchema}.sweep_cursors WHERE sweep = $1`, [sweep]);
        return;
      }
      await query(
        `INSERT INTO ${quotedSchema}.sweep_cursors (sweep, template_id, after_id) VALUES ($1, $2, $3)
         ON CONFLICT (sweep) DO UPDATE SET template_id = $2, after_id = $3, saved_at = now()`,
        [sweep, cursor.templateId, cursor.after ?? null],
      );
    },
  };
}
