import { latestApproval } from '../policy/stepUpPolicy.js';
import type { NextStep } from '../verification/nextStep.js';
import { mirrorOf, type PersonaRecord } from '../verification/record.js';

/**
 * What `/persona/status?max_age=` adds: whether the step-up is satisfied (an approval no older than
 * the max age, and nothing else to do first), when the latest approval was, and how the latest
 * step-up inquiry stands (a declined step-up is reported here; it never changes the standing
 * decision).
 */
export function stepUpStatus(record: PersonaRecord | null, step: NextStep, maxAgeMs: number) {
  const mirror = record === null ? null : mirrorOf(record);
  const latest = latestApproval({
    verifiedAt: mirror?.verified_at ?? null,
    stepUpVerifiedAt: mirror?.step_up_verified_at ?? null,
  });
  return {
    fresh: step.kind === 'verified',
    verified_at: latest === undefined ? null : new Date(latest).toISOString(),
    max_age_seconds: Math.floor(maxAgeMs / 1000),
    status: record?.purposes.step_up?.status ?? null,
  };
}
