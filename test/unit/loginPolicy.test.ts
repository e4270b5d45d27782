import { describe, expect, it } from 'vitest';
import { decideLogin, decideLoginWithoutRecord, type LoginPolicy } from '../../src/policy/loginPolicy.js';

const DAY = 86_400_000;
const now = Date.UTC(2026, 10, 22);
const policy = (overrides: Partial<LoginPolicy> = {}): LoginPolicy => ({
  policy: 'require-approved',
  gracePeriodMs: undefined,
  reverifyAfterMs: undefined,
  approvedStatuses: new Set(['approved']),
  declinedStatuses: new Set(['declined']),
  ...overrides,
});
const facts = (
  status: string | null,
  extra: { verifiedAt?: string | null; identityCreatedAt?: string | null } = {},
) => ({
  status,
  verifiedAt: extra.verifiedAt ?? null,
  identityCreatedAt: extra.identityCreatedAt ?? null,
});

describe('decideLogin', () => {
  it('block-declined blocks declined only', () => {
    const blockDeclined = policy({ policy: 'block-declined' });
    expect(decideLogin(facts('declined'), blockDeclined, now)).toEqual({ allow: false, reason: 'declined' });
    for (const status of [null, 'created', 'failed', 'expired', 'unknown_future']) {
      expect(decideLogin(facts(status), blockDeclined, now)).toEqual({ allow: true, reason: 'not_declined' });
    }
  });

  it('require-approved lets approved in and asks everyone else to verify', () => {
    expect(decideLogin(facts('approved'), policy(), now)).toEqual({ allow: true, reason: 'approved' });
    expect(decideLogin(facts('completed'), policy(), now)).toEqual({ allow: false, reason: 'verification_required' });
    expect(decideLogin(facts(null), policy(), now)).toEqual({ allow: false, reason: 'verification_required' });
  });

  it('honours configured equivalents of approved and declined', () => {
    const lenient = policy({
      approvedStatuses: new Set(['approved', 'completed']),
      declinedStatuses: new Set(['declined', 'failed']),
    });
    expect(decideLogin(facts('completed'), lenient, now).allow).toBe(true);
    expect(decideLogin(facts('failed'), lenient, now)).toEqual({ allow: false, reason: 'declined' });
  });

  it('grants the grace period up to, not including, its end', () => {
    const grace = policy({ gracePeriodMs: DAY });
    const registeredAt = new Date(now - DAY).toISOString();
    expect(decideLogin(facts('pending', { identityCreatedAt: registeredAt }), grace, now - 1).allow).toBe(true);
    expect(decideLogin(facts('pending', { identityCreatedAt: registeredAt }), grace, now)).toEqual({
      allow: false,
      reason: 'verification_required',
    });
    expect(decideLogin(facts('declined', { identityCreatedAt: registeredAt }), grace, now - 1).allow).toBe(false);
  });

  it('asks for re-verification once an approval is older than the limit', () => {
    const yearly = policy({ reverifyAfterMs: 365 * DAY });
    const verifiedAt = new Date(now - 365 * DAY).toISOString();
    expect(decideLogin(facts('approved', { verifiedAt }), yearly, now).allow).toBe(true);
    expect(decideLogin(facts('approved', { verifiedAt }), yearly, now + 1)).toEqual({
      allow: false,
      reason: 'reverification_required',
    });
  });
});

describe('decideLoginWithoutRecord', () => {
  it('lets users in under block-declined and blocks them under require-approved, grace aside', () => {
    expect(decideLoginWithoutRecord({ identityCreatedAt: null }, policy({ policy: 'block-declined' }), now).allow).toBe(
      true,
    );
    expect(decideLoginWithoutRecord({ identityCreatedAt: null }, policy(), now)).toEqual({
      allow: false,
      reason: 'verification_unavailable',
    });
    const registeredAt = new Date(now - 1000).toISOString();
    expect(
      decideLoginWithoutRecord({ identityCreatedAt: registeredAt }, policy({ gracePeriodMs: DAY }), now).allow,
    ).toBe(true);
  });
});
