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

export interface StepUpRules {
  /** STEP_UP_MAX_AGE, or the `max_age` an application asked for. */
  maxAgeMs: number;
  /** Whether PERSONA_STEP_UP_TEMPLATE_ID is set. */
  withTemplate: boolean;
}

/**
 * What `/persona/start?purpose=step_up` does. Step-up proves again that the person is the one
 * verified, so it rests on a standing approval: without one (never verified, declined, or an
 * approval due for re-verification), the identity's own verification comes first. An approval no
 * older than the max age, the standing one or a step-up or recovery inquiry's, is enough. Otherwise
 * a step-up inquiry is continued (within a day) or opened; a declined or failed one is followed by
 * another only with ALLOW_RETRIES. Without a step-up template, a re-verification with the identity's
 * own template stands in.
 */
export function planStepUp(reading: RecordReading, rules: NextStepRules, stepUp: StepUpRules, nowMs: number): NextStep {
  const deciding = planNextStep(reading, rules, nowMs);
  if (deciding.kind !== 'verified' || reading.kind !== 'record') return deciding;
  const { record } = reading;
  const mirror = mirrorOf(record);
  if (
    isFresh({ verifiedAt: mirror.verified_at, stepUpVerifiedAt: mirror.step_up_verified_at }, stepUp.maxAgeMs, nowMs)
  ) {
    return deciding;
  }
  if (!stepUp.withTemplate) return planNextStep(reading, { ...rules, reverifyAfterMs: stepUp.maxAgeMs }, nowMs);

  const held = record.purposes.step_up;
  if (held === undefined) return { kind: 'create', previousInquiryId: null, purpose: 'step_up' };
  const again = { kind: 'create', previousInquiryId: held.inquiry_id, purpose: 'step_up' } as const;
  if (held.outcome === 'approved') return again;
  if (held.outcome === 'declined' || held.status === 'failed') return rules.allowRetries ? again : { kind: 'failed' };
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
