import { isDependencyFailure } from '../../http/dependencyFailure.js';
import { errorFields, type Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';

/** What operators do through the admin API and the command line, as the audit names it. */
export const ADMIN_ACTIONS = [
  'verification.read',
  'link.issue',
  'short_code.issue',
  'short_code.redeem',
  'reverification.require',
  'reverification.cohort',
  'records.upgrade',
  'persona.redact',
] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/**
 * One audited action: who, what, on which identity (or how many), and how it ended. `details` holds
 * ids, codes and times only (a reason code, a purpose, an expiry): never personal data.
 */
export interface AuditEntry {
  /** The agent's handle or id, as the request named it; `code_holder` for a short code typed by its holder. */
  actor: string;
  action: AdminAction;
  identityId?: string | undefined;
  /** How many identities a cohort action matched. */
  cohortSize?: number | undefined;
  outcome: string;
  details?: Record<string, string | number | boolean | null>;
}

/**
 * The outcome an admin action that failed (it did not answer a refusal of its own) is audited
 * with, before its error is answered: once its write was on its way (`writeSent`), `outcome_unknown`,
 * as the write may have landed (Kratos timed out, failed or answered after the lock was lost);
 * before that, `temporarily_unavailable` when Kratos, Persona or the database failed, else
 * `internal_error`.
 */
export const failureOutcome = (error: unknown, writeSent = false) =>
  writeSent ? 'outcome_unknown' : isDependencyFailure(error) ? 'temporarily_unavailable' : 'internal_error';

export interface StoredAuditEntry extends AuditEntry {
  id: string;
  at: string;
}

/** Where audit entries are kept besides the log: the `audit_log` table with DATABASE_URL. */
export interface AuditTable {
  insert(entry: AuditEntry, at: Date): Promise<void>;
  /** Newest first. */
  list(query: { identityId?: string | undefined; limit: number }): Promise<StoredAuditEntry[]>;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Undefined when the audit is the log only (no DATABASE_URL): nothing to list. */
  readonly table: AuditTable | undefined;
}

/**
 * Every admin action writes one log line (`"msg":"admin action"`) and counts in
 * `admin_actions_total`; with a table, also a row. The action has happened by the time it is
 * audited, so a row that cannot be written is logged as an error, never undoes it: the log line
 * stands for it.
 */
export function createAuditLog(deps: {
  logger: Logger;
  metrics: Metrics;
  table?: AuditTable | undefined;
  now: () => number;
}): AuditLog {
  return {
    table: deps.table,
    async record(entry) {
      deps.logger.info(
        {
          audit: true,
          actor: entry.actor,
          action: entry.action,
          ...(entry.identityId !== undefined && { identity_id: entry.identityId }),
          ...(entry.cohortSize !== undefined && { cohort_size: entry.cohortSize }),
          outcome: entry.outcome,
          ...(entry.details !== undefined && { details: entry.details }),
        },
        'admin action',
      );
      deps.metrics.countAdminAction(entry.action, entry.outcome);
      if (deps.table === undefined) return;
      try {
        await deps.table.insert(entry, new Date(deps.now()));
      } catch (error) {
        deps.logger.error(
          { action: entry.action, ...errorFields(error) },
          'audit row not written; the log line above is the audit of this action',
        );
      }
    },
  };
}
