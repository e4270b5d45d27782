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
  /** `ok`, `partial` (stopped by a failure; the rest is redacted on the next try), `failed`, `dry_run`, `refused`. */
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
