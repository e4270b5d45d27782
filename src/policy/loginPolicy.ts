import type { Config, LoginPolicyName } from '../config.js';

export type BlockReason = 'declined' | 'verification_required' | 'reverification_required' | 'verification_unavailable';

export type LoginDecision = { allow: true; reason: AllowReason } | { allow: false; reason: BlockReason };
export type AllowReason = 'approved' | 'not_declined' | 'grace_period' | 'status_unknown' | 'record_unreadable';

export interface LoginPolicy {
  policy: LoginPolicyName;
  gracePeriodMs: number | undefined;
  reverifyAfterMs: number | undefined;
  approvedStatuses: ReadonlySet<string>;
  declinedStatuses: ReadonlySet<string>;
}

export interface LoginFacts {
  /** The recorded Persona status; null when the identity has no record. */
  status: string | null;
  /** When the approval was given; null when not approved. */
  verifiedAt: string | null;
  /** When the identity registered (Kratos `identity.created_at`), which starts the grace period. */
  identityCreatedAt: string | null;
  /** An operator requires a new verification before the next login (the mirror's flag); absent: no. */
  reverificationRequired?: boolean;
}

/** The login policy as configured (LOGIN_POLICY, its grace period and re-verification, the record's statuses). */
export const loginPolicyOf = (config: Pick<Config, 'login' | 'record'>): LoginPolicy => ({
  ...config.login,
  approvedStatuses: config.record.approvedStatuses,
  declinedStatuses: config.record.declinedStatuses,
});

const withinGracePeriod = (facts: Pick<LoginFacts, 'identityCreatedAt'>, policy: LoginPolicy, nowMs: number) => {
  if (policy.gracePeriodMs === undefined || facts.identityCreatedAt === null) return false;
  const registeredAt = Date.parse(facts.identityCreatedAt);
  return !Number.isNaN(registeredAt) && nowMs < registeredAt + policy.gracePeriodMs;
};

/**
 * The login gate's decision from the recorded status (product.md, C3). An operator's requirement
 * to verify again blocks under either policy, until an approval meets it.
 */
export function decideLogin(facts: LoginFacts, policy: LoginPolicy, nowMs: number): LoginDecision {
  if (facts.status !== null && policy.declinedStatuses.has(facts.status)) return { allow: false, reason: 'declined' };
  if (facts.reverificationRequired === true) return { allow: false, reason: 'reverification_required' };
  if (policy.policy === 'block-declined') return { allow: true, reason: 'not_declined' };

  if (facts.status !== null && policy.approvedStatuses.has(facts.status)) {
    const verifiedAt = facts.verifiedAt === null ? Number.NaN : Date.parse(facts.verifiedAt);
    const expired = policy.reverifyAfterMs !== undefined && nowMs - verifiedAt > policy.reverifyAfterMs;
    return expired ? { allow: false, reason: 'reverification_required' } : { allow: true, reason: 'approved' };
  }
  if (withinGracePeriod(facts, policy, nowMs)) return { allow: true, reason: 'grace_period' };
  return { allow: false, reason: 'verification_required' };
}

/**
 * The decision when the record cannot be read (Kratos unreachable on the fallback path). Under
 * `block-declined` nobody unknown is blocked, so the login proceeds; under `require-approved` only
 * the grace period can let the user in.
 */
export function decideLoginWithoutRecord(
  facts: Pick<LoginFacts, 'identityCreatedAt'>,
  policy: LoginPolicy,
  nowMs: number,
): LoginDecision {
  if (policy.policy === 'block-declined') return { allow: true, reason: 'status_unknown' };
  if (withinGracePeriod(facts, policy, nowMs)) return { allow: true, reason: 'grace_period' };
  return { allow: false, reason: 'verification_unavailable' };
}

/**
 * The decision when the record is present but cannot be interpreted (readRecord.ts): never "no
 * record". Under `block-declined` the login proceeds (and is logged and counted as such); under
 * `require-approved` it is blocked, grace period or not.
 */
export function decideLoginUnreadable(policy: LoginPolicy): LoginDecision {
  return policy.policy === 'block-declined'
    ? { allow: true, reason: 'record_unreadable' }
    : { allow: false, reason: 'verification_unavailable' };
}
