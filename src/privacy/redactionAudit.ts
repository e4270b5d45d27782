import type { AuditLog } from '../admin/audit/auditLog.js';

/** Why a redaction ran: an operator's request, an identity gone from Kratos, or the retention period. */
export const REDACTION_TRIGGERS = ['request', 'identity_deleted', 'retention'] as const;
export type RedactionTrigger = (typeof REDACTION_TRIGGERS)[number];

/**
 * One redaction, as the audit keeps it: who (an operator's handle, or the sweep), why, which
 * identity, what (ids only), how it ended. Never personal data.
 */
export interface RedactionAuditEntry {
  actor: string;
  trigger: RedactionTrigger;
  /** Null for an inquiry of the service's that names no identity (a recovery request for an unknown address). */
  identityId: string | null;
  /**
   * `ok`, `partial` (stopped by a failure; the rest is redacted on the next try), `failed` (Persona
   * refused), `outcome_unknown` (a call broke off and may have redacted), `temporarily_unavailable`
   * (nothing redacted), `dry_run`, `refused`, `identity_exists`.
   */
  outcome: string;
  /** The account redacted whole, if any. */
  accountId: string | null;
  /** The inquiries redacted one by one, or with the account. */
  inquiryIds: readonly string[];
  dryRun: boolean;
  decisionForgotten: boolean;
}

/** Writes the audit of every redaction (the log line, the counter and, with DATABASE_URL, the row). */
export type RedactionAudit = (entry: RedactionAuditEntry) => Promise<void>;

/** Inquiry ids an audit entry names at most; the count is always there. */
const AUDITED_IDS = 20;

/**
 * Redactions go to the admin audit (auditLog.ts: the `"msg":"admin action"` log line,
 * `admin_actions_total` and, with DATABASE_URL, an `audit_log` row) as action `persona.redact`,
 * whoever ran them, and count in `persona_redactions_total`: ids, the actor and the outcome, never
 * personal data.
 */
export function auditedRedactions(
  audit: AuditLog,
  countRedaction: (trigger: string, outcome: string) => void,
): RedactionAudit {
  return async (entry) => {
    countRedaction(entry.trigger, entry.outcome);
    await audit.record({
      actor: entry.actor,
      action: 'persona.redact',
      ...(entry.identityId !== null && { identityId: entry.identityId }),
      outcome: entry.outcome,
      details: {
        trigger: entry.trigger,
        dry_run: entry.dryRun,
        account_id: entry.accountId,
        inquiry_count: entry.inquiryIds.length,
        inquiry_ids: entry.inquiryIds.slice(0, AUDITED_IDS).join(','),
        decision_forgotten: entry.decisionForgotten,
      },
    });
  };
}
