import type { SharedDatabase } from '../../coordination/coordination.js';
import type { AuditTable, StoredAuditEntry } from './auditLog.js';

/** The `audit_log` table (migration 0003_help_desk), listed newest first. */
export function createPostgresAuditTable(database: SharedDatabase): AuditTable {
  const table = `${database.quotedSchema}.audit_log`;
  return {
    async insert(entry, at) {
      await database.transaction((run) =>
        run(
          `INSERT INTO ${table} (at, actor, action, identity_id, cohort_size, outcome, details)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            at,
            entry.actor,
            entry.action,
            entry.identityId ?? null,
            entry.cohortSize ?? null,
            entry.outcome,
            JSON.stringify(entry.details ?? {}),
          ],
        ),
      );
    },
    list({ identityId, limit }) {
      return database.transaction(async (run) => {
        const found = await run(
          `SELECT id::text AS id, at, actor, action, identity_id, cohort_size, outcome, details FROM ${table}
           WHERE $1::uuid IS NULL OR identity_id = $1::uuid ORDER BY ${table}.id DESC LIMIT $2`,
          [identityId ?? null, limit],
        );
        return found.rows.map((row): StoredAuditEntry => ({
          id: row['id'] as string,
          at: (row['at'] as Date).toISOString(),
          actor: row['actor'] as string,
          action: row['action'] as StoredAuditEntry['action'],
          identityId: (row['identity_id'] as string | null) ?? undefined,
          cohortSize: (row['cohort_size'] as number | null) ?? undefined,
          outcome: row['outcome'] as string,
          details: row['details'] as StoredAuditEntry['details'],
        }));
      });
    },
  };
}
