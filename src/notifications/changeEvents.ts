import type { Decision, DecisionStatuses, PersonaRecord, PurposeResult, Purpose } from '../verification/record.js';
import type { EventType } from './eventTypes.js';
import { notificationEvent, type NotificationEvent, type StandingDecisionSummary } from './notificationEvent.js';

/** What a Persona status of a purpose's latest inquiry is worth telling, if anything. */
function eventTypeOf(status: string, statuses: DecisionStatuses): EventType | undefined {
  if (statuses.declined.has(status)) return 'verification.declined';
  if (statuses.approved.has(status)) return 'verification.approved';
  if (status === 'needs_review') return 'verification.needs_review';
  if (status === 'expired') return 'verification.expired';
  return undefined;
}

/**
 * A decision the attribute comparison found wanting (ATTRIBUTE_MATCH): the document did not match
 * the traits, and that made the approval a review or a decline, or flagged it. An approval a person
 * gave in Persona after the review it was held for is an approval.
 */
const isMismatch = (decision: Decision) =>
  decision.attribute_match !== undefined &&
  decision.attribute_match.outcome !== 'match' &&
  !(decision.attribute_match.on_mismatch === 'review' && decision.outcome === 'approved');

const DECISION_EVENTS: Record<Decision['outcome'], EventType> = {
  approved: 'verification.approved',
  declined: 'verification.declined',
  needs_review: 'verification.needs_review',
};
const decisionEventType = (decision: Decision) =>
  isMismatch(decision) ? 'verification.mismatch' : DECISION_EVENTS[decision.outcome];

const sameDecision = (a: Decision | null | undefined, b: Decision | null | undefined) =>
  a?.inquiry_id === b?.inquiry_id &&
  a?.status === b?.status &&
  a?.decided_at === b?.decided_at &&
  a?.outcome === b?.outcome;

const sameResult = (a: PurposeResult | undefined, b: PurposeResult | undefined) =>
  a?.inquiry_id === b?.inquiry_id && a?.status === b?.status;

/** The identity's standing decision as events tell it. */
export const standingSummaryOf = ({ decision }: PersonaRecord): StandingDecisionSummary | null =>
  decision === null
    ? null
    : {
        outcome: decision.outcome,
        status: decision.status,
        inquiry_id: decision.inquiry_id,
        decided_at: decision.decided_at,
      };

/**
 * A section that wrote a decline and then failed to revoke the sessions ended without committing
 * what it meant to announce (in Postgres mode its transaction rolled back), yet Kratos holds the
 * decision. The account actions it left pending say so: when they are done at last, the decision
 * is announced again, with the same event id.
 */
const actionsFinished = (before: PersonaRecord | null, after: PersonaRecord) =>
  before !== null && before.actions.pending.length > 0 && after.actions.pending.length === 0;

/**
 * The events of one applied change, from the record as stored and as written: one when the standing
 * decision changed (`verification.mismatch` when the attribute comparison made it what it is), one
 * for each purpose whose latest inquiry moved to a status worth telling (unless the standing
 * decision's event already says it). Pure, so a redelivery that changes
 * nothing announces nothing.
 */
export function eventsOfChange(
  identityId: string,
  before: PersonaRecord | null,
  after: PersonaRecord,
  statuses: DecisionStatuses,
): NotificationEvent[] {
  const standing = standingSummaryOf(after);
  const events: NotificationEvent[] = [];
  const decision = after.decision;
  if (decision !== null && (!sameDecision(before?.decision, decision) || actionsFinished(before, after))) {
    events.push(
      notificationEvent(
        decisionEventType(decision),
        decision.decided_at ?? after.updated_at ?? new Date(0).toISOString(),
        {
          identity_id: identityId,
          inquiry_id: decision.inquiry_id,
          purpose: decision.purpose,
          status: decision.status,
          inquiry_created_at: decision.inquiry_created_at,
          decided_at: decision.decided_at,
          standing_decision: standing,
        },
      ),
    );
  }
  for (const [purpose, result] of Object.entries(after.purposes) as [Purpose, PurposeResult][]) {
    if (sameResult(before?.purposes[purpose], result)) continue;
    const type = eventTypeOf(result.status, statuses);
    if (type === undefined) continue;
    // The standing decision's event already tells of this inquiry's new status.
    if (events.some((event) => event.data.inquiry_id === result.inquiry_id && event.data.status === result.status))
      continue;
    events.push(
      notificationEvent(type, result.decided_at ?? result.updated_at ?? new Date(0).toISOString(), {
        identity_id: identityId,
        inquiry_id: result.inquiry_id,
        purpose,
        status: result.status,
        inquiry_created_at: result.created_at,
        decided_at: result.decided_at,
        standing_decision: standing,
      }),
    );
  }
  return events;
}
