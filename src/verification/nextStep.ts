import type { RecordReading } from './readRecord.js';
import { isRedacted, type PersonaRecord, type Purpose } from './record.js';
import { opensAfter } from './reverification.js';
import { instantOf } from './standingDecision.js';

/** What `/persona/start` does for an identity, decided from its record alone. */
export type NextStep =
  /** No usable inquiry: create one, for `purpose`, following `previousInquiryId`. */
  | {
      kind: 'create';
      previousInquiryId: string | null;
      purpose: Extract<Purpose, 'onboarding' | 'reverification' | 'step_up'>;
    }
  /** `created`: the hosted flow opens it with its id alone. */
  | { kind: 'open'; inquiryId: string }
  /** `pending` or `expired`: needs a session token or a one-time link; expired ones are resumed first. */
  | { kind: 'resume'; inquiryId: string; expired: boolean }
  /** `completed`, `needs_review` and statuses we do not know: Persona or a reviewer decides next. */
  | { kind: 'in_review'; status: string }
  | { kind: 'verified' }
  | { kind: 'declined' }
  | { kind: 'failed' }
  /** The record cannot be interpreted: nothing is started until someone looks at it. */
  | { kind: 'unavailable' }
  /** A step-up is due but PERSONA_STEP_UP_TEMPLATE_ID is unset: nothing can prove it is the same person. */
  | { kind: 'step_up_unavailable' };

export interface NextStepRules {
  allowRetries: boolean;
  reverifyAfterMs: number | undefined;
}

/** True when the step sends the user into Persona. */
export const needsUser = (step: NextStep) => step.kind === 'create' || step.kind === 'open' || step.kind === 'resume';

/** The way into the inquiry in progress, when it is one the user can go on with or wait for. */
function continueInquiry(record: PersonaRecord & { inquiry_id: string }): NextStep | undefined {
  switch (record.status) {
    case 'created':
      return { kind: 'open', inquiryId: record.inquiry_id };
    case 'pending':
      return { kind: 'resume', inquiryId: record.inquiry_id, expired: false };
    case 'expired':
      return { kind: 'resume', inquiryId: record.inquiry_id, expired: true };
    case 'failed':
    case 'approved':
    case 'declined':
      return undefined;
    default:
      return { kind: 'in_review', status: record.status };
  }
}

/**
 * The standing decision comes first: a declined identity starts again only with ALLOW_RETRIES (an
 * operator's requirement to verify again grants no retry), an approved one only when the approval
 * is older than REVERIFY_AFTER or an operator requires it; an inquiry opened after the decision,
 * or after the requirement, is continued rather than doubled.
 */
export function planNextStep(reading: RecordReading, rules: NextStepRules, nowMs: number): NextStep {
  if (reading.kind === 'unreadable') return { kind: 'unavailable' };
  const record = reading.kind === 'record' ? reading.record : null;
  if (record === null) return { kind: 'create', previousInquiryId: null, purpose: 'onboarding' };

  const { decision } = record;
  const again = { kind: 'create', previousInquiryId: record.inquiry_id, purpose: 'reverification' } as const;
  const continued =
    record.inquiry_id !== null && record.inquiry_id !== decision?.inquiry_id
      ? continueInquiry({ ...record, inquiry_id: record.inquiry_id })
      : undefined;
  // An inquiry redacted at Persona holds nothing to go on with: a new one takes its place.
  const afterDecision =
    continued !== undefined && needsUser(continued) && isRedacted(record, record.inquiry_id as string)
      ? ({ ...again, purpose: decision === null ? 'onboarding' : 'reverification' } as const)
      : continued;

  if (decision?.outcome === 'declined') return rules.allowRetries ? (afterDecision ?? again) : { kind: 'declined' };
  // The verified document did not match the traits: a person at Persona decides next.
  if (decision?.outcome === 'needs_review') return afterDecision ?? { kind: 'in_review', status: 'needs_review' };
  const required = record.reverification;
  if (required !== null) {
    if (record.inquiry_id === null || !opensAfter(required, record)) return again;
    const inProgress = continueInquiry({ ...record, inquiry_id: record.inquiry_id });
    return inProgress ?? (rules.allowRetries ? again : { kind: 'failed' });
  }
  if (decision?.outcome === 'approved') {
    const due = rules.reverifyAfterMs !== undefined && nowMs - instantOf(decision.decided_at) > rules.reverifyAfterMs;
    return due ? (afterDecision ?? again) : { kind: 'verified' };
  }
  if (record.inquiry_id === null) return { kind: 'create', previousInquiryId: null, purpose: 'onboarding' };
  return afterDecision ?? (rules.allowRetries ? again : { kind: 'failed' });
}
