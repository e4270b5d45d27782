/**
 * Step-up: whether a change in Kratos's settings flow may go ahead (POST /persona/settings), and
 * whether a verification is fresh enough for an application's own risky action
 * (`/persona/status?max_age`). Pure functions of the public mirror's facts and the clock.
 */

/** The settings methods Kratos runs per-method `settings.after` hooks for (its configuration schema). */
export const SETTINGS_METHODS = [
  'password',
  'totp',
  'webauthn',
  'passkey',
  'lookup_secret',
  'oidc',
  'profile',
] as const;
export type SettingsMethod = (typeof SETTINGS_METHODS)[number];

/**
 * How far a Persona time may lie ahead of our clock and still count. A time further ahead cannot be
 * a real decision (a hand-edited or corrupt mirror): it never counts as fresh.
 */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface Freshness {
  /** `verified_at` of the mirror: the standing approval (onboarding or re-verification). */
  verifiedAt: string | null;
  /** `step_up_verified_at`: the latest approved step-up or recovery inquiry. */
  stepUpVerifiedAt: string | null;
}

/** The latest approval's time in milliseconds, or undefined when none can be read. */
export function latestApproval(facts: Freshness): number | undefined {
  const times = [facts.verifiedAt, facts.stepUpVerifiedAt]
    .map((time) => (time === null ? Number.NaN : Date.parse(time)))
    .filter((ms) => !Number.isNaN(ms));
  return times.length === 0 ? undefined : Math.max(...times);
}

/** An approval no older than `maxAgeMs` (the boundary included), and not from the future. */
export function isFresh(facts: Freshness, maxAgeMs: number, nowMs: number): boolean {
  const latest = latestApproval(facts);
  if (latest === undefined) return false;
  const age = nowMs - latest;
  return age <= maxAgeMs && age >= -CLOCK_SKEW_MS;
}

export interface StepUpPolicy {
  maxAgeMs: number;
  /** STEP_UP_TRAITS: trait paths whose change needs a fresh verification; empty: any profile change. */
  traits: readonly string[];
  approvedStatuses: ReadonlySet<string>;
  declinedStatuses: ReadonlySet<string>;
  /** Whether a step-up can be offered (PERSONA_STEP_UP_TEMPLATE_ID is set). */
  stepUpOffered: boolean;
  /**
   * ATTRIBUTE_MATCH's trait paths: what an approval was compared with. The person never changes
   * them through the profile method, however fresh their verification: whoever could would make
   * any document match, before verifying or after.
   */
  comparedTraits: readonly string[];
}

export interface SettingsFacts extends Freshness {
  method: SettingsMethod;
  /** The standing status of the mirror; null when the identity has no record. */
  status: string | null;
  /** Profile only: the trait paths the change touches; null when unknown (every trait counts). */
  changedTraits: readonly string[] | null;
  /** Profile only: whether a recovery or verifiable address changes; null when unknown (it counts as changed). */
  changedAddresses: boolean | null;
  /** An operator requires a new verification before the next login (the mirror's flag); absent: no. */
  reverificationRequired?: boolean;
}

export type SettingsBlockReason =
  | 'declined'
  | 'verified_trait_locked'
  | 'verification_required'
  | 'reverification_required'
  | 'step_up_required'
  | 'step_up_unavailable';
export type SettingsDecision =
  | { allow: true; reason: 'fresh_verification' | 'no_verified_trait_changed' }
  | { allow: false; reason: SettingsBlockReason };

/** `name` covers `name.first`; `name.first` covers only itself and what lies below it. */
const covers = (gated: string, changed: string) =>
  changed === '' || changed === gated || changed.startsWith(`${gated}.`) || gated.startsWith(`${changed}.`);

/** Whether a change touches one of `traits`; one whose paths are unknown touches them all. */
const touches = (changed: readonly string[] | null, traits: readonly string[]) =>
  changed === null || changed.some((path) => traits.some((trait) => covers(trait, path)));

/** Whether a profile change touches a trait that needs a fresh verification. */
function touchesGatedTraits(changed: readonly string[] | null, gated: readonly string[]): boolean {
  if (gated.length === 0) return changed === null || changed.length > 0;
  return touches(changed, gated);
}

/**
 * Whether a profile change needs a fresh verification: one of STEP_UP_TRAITS changes, or, whatever
 * STEP_UP_TRAITS says, a recovery or verifiable address (the traits the identity schema marks for
 * recovery and verification, which Kratos derives before the hook runs): whoever changes the
 * address recovery codes go to can take the account over through Kratos's own recovery.
 */
const profileNeedsProof = (facts: SettingsFacts, gated: readonly string[]) =>
  facts.changedAddresses !== false || touchesGatedTraits(facts.changedTraits, gated);

/**
 * A declined identity changes nothing, and nobody changes a trait ATTRIBUTE_MATCH compares
 * (4100007). A profile change that touches no gated trait and no address goes ahead. While an
 * operator requires the identity to verify again (an incident, a role change), nothing else does,
 * however fresh a step-up: the session may belong to whoever the requirement is about (4100003).
 * Everything else needs an approval no older than STEP_UP_MAX_AGE: an identity never approved is asked to
 * verify (4100002), one approved too long ago to verify again (4100006), which without a step-up
 * template it cannot (planStepUp.ts says why its own template does not stand in).
 */
export function decideSettings(facts: SettingsFacts, policy: StepUpPolicy, nowMs: number): SettingsDecision {
  if (facts.status !== null && policy.declinedStatuses.has(facts.status)) return { allow: false, reason: 'declined' };
  if (
    facts.method === 'profile' &&
    policy.comparedTraits.length > 0 &&
    touches(facts.changedTraits, policy.comparedTraits)
  )
    return { allow: false, reason: 'verified_trait_locked' };
  if (facts.method === 'profile' && !profileNeedsProof(facts, policy.traits)) {
    return { allow: true, reason: 'no_verified_trait_changed' };
  }
  if (facts.reverificationRequired === true) return { allow: false, reason: 'reverification_required' };
  if (facts.status === null || !policy.approvedStatuses.has(facts.status)) {
    return { allow: false, reason: 'verification_required' };
  }
  if (isFresh(facts, policy.maxAgeMs, nowMs)) return { allow: true, reason: 'fresh_verification' };
  return { allow: false, reason: policy.stepUpOffered ? 'step_up_required' : 'step_up_unavailable' };
}
