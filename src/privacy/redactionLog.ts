import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { RedactionAudit } from './redactionAudit.js';

/** Inquiry ids a log line names at most; the count is always there. */
const LOGGED_IDS = 20;

/**
 * The audit of redactions as log lines (`"msg":"persona redaction"`) and the counter
 * `persona_redactions_total`: ids, the actor and the outcome, never personal data.
 */
export function redactionLog(logger: Logger, metrics: Pick<Metrics, 'countRedaction'>): RedactionAudit {
  return async (entry) => {
    logger.info(
      {
        audit: true,
        action: 'persona.redact',
        actor: entry.actor,
        trigger: entry.trigger,
        identity_id: entry.identityId,
        outcome: entry.outcome,
        dry_run: entry.dryRun,
        account_id: entry.accountId,
        inquiry_count: entry.inquiryIds.length,
        inquiry_ids: entry.inquiryIds.slice(0, LOGGED_IDS),
        decision_forgotten: entry.decisionForgotten,
      },
      'persona redaction',
    );
    metrics.countRedaction(entry.trigger, entry.outcome);
  };
}
