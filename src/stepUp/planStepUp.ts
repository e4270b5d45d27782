import { isFresh } from '../policy/stepUpPolicy.js';
import { planNextStep, type NextStep, type NextStepRules } from '../verification/nextStep.js';
import type { RecordReading } from '../verification/readRecord.js';
import { mirrorOf } from '../verification/record.js';
import { instantOf } from '../verification/standingDecision.js';

/**
 * How long an unfinished step-up inquiry is continued rather than replaced: about Persona's usual
 * expiry of an inquiry, so a person who comes back within the day goes on where they left off.
 */
const CONTINUE_WITHIN_MS = 24 * 3_600_000;

/** The warning logged where a step-up is due and none can be offered: the operator's to fix. */
export const STEP_UP_UNAVAILABLE =
  'a step-up is due but PERSONA_STEP_UP_TEMPLATE_ID is unset: set it, so that people can verify again';

export interface StepUpRules {
  /** STEP_UP_MAX_AGE, or the `max_age` an application asked for. */
  maxAgeMs: number;
  /** Whether PERSONA_STEP_UP_TEMPLATE_ID is set. */
  withTemplate: boolean;
}

/**
 * What `/persona/start?purpose=step_up` does. Step-up proves again that the person is the one
 * verified, so it rests on a standing approval: without one (never verified, declined, in review),
 * the identity's own verification comes first. With one, however old (REVERIFY_AFTER is the login
 * gate's to ask for), an approval no older than the max age is enough: the standing one or a
 * step-up or recovery inquiry's.
 *
 * Otherwise only an inquiry of the step-up template proves it, never one of the identity's own
 * template: that template checks that a document and a selfie belong together, not that they are
 * the account's, so someone holding a stolen session would pass it with their own passport and
 * become the standing decision. Without a step-up template there is no step-up to offer.
 *
 * A step-up inquiry is continued within a day; a declined or failed one is followed by a new one
 * whatever ALLOW_RETRIES says (which is about the standing decision): it never touched the
 * standing decision, and refusing another would let whoever failed on purpose, a thief who knows
 * the password, lock the owner out of every credential change.
 */
export function planStepUp(reading: RecordReading, rules: NextStepRules, stepUp: StepUpRules, nowMs: number): NextStep {
  if (reading.kind !== 'record' || reading.record.decision?.outcome !== 'approved') {
    return planNextStep(reading, rules, nowMs);
  }
  const { record } = reading;
  const mirror = mirrorOf(record);
  if (
    isFresh({ verifiedAt: mirror.verified_at, stepUpVerifiedAt: mirror.step_up_verified_at }, stepUp.maxAgeMs, nowMs)
  ) {
    return { kind: 'verified' };
  }
  if (!stepUp.withTemplate) return { kind: 'step_up_unavailable' };

  const held = record.purposes.step_up;
  if (held === undefined) return { kind: 'create', previousInquiryId: null, purpose: 'step_up' };
  const again = { kind: 'create', previousInquiryId: held.inquiry_id, purpose: 'step_up' } as const;
  if (held.outcome !== null || held.status === 'failed') return again;
  const recent = nowMs - instantOf(held.created_at) <= CONTINUE_WITHIN_MS;
  switch (held.status) {
    case 'created':
      return recent ? { kind: 'open', inquiryId: held.inquiry_id } : again;
    case 'pending':
    case 'expired':
      return recent ? { kind: 'resume', inquiryId: held.inquiry_id, expired: held.status === 'expired' } : again;
    default:
      return recent ? { kind: 'in_review', status: held.status } : again;
  }
}
