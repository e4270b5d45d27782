import { describe, expect, it } from 'vitest';
import {
  SETTINGS_METHODS,
  decideSettings,
  isFresh,
  type SettingsFacts,
  type StepUpPolicy,
} from '../../src/policy/stepUpPolicy.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const now = Date.UTC(2026, 6, 1, 12);
const ago = (ms: number) => new Date(now - ms).toISOString();
const policy = (overrides: Partial<StepUpPolicy> = {}): StepUpPolicy => ({
  maxAgeMs: 15 * MINUTE,
  traits: [],
  approvedStatuses: new Set(['approved']),
  declinedStatuses: new Set(['declined']),
  stepUpOffered: true,
  comparedTraits: [],
  ...overrides,
});
const facts = (overrides: Partial<SettingsFacts> = {}): SettingsFacts => ({
  method: 'password',
  status: 'approved',
  verifiedAt: ago(60 * MINUTE),
  stepUpVerifiedAt: null,
  changedTraits: null,
  changedAddresses: false,
  ...overrides,
});

describe('isFresh: the STEP_UP_MAX_AGE boundary', () => {
  it('counts an approval exactly as old as the maximum age, and not a millisecond older', () => {
    expect(isFresh({ verifiedAt: ago(15 * MINUTE), stepUpVerifiedAt: null }, 15 * MINUTE, now)).toBe(true);
    expect(isFresh({ verifiedAt: ago(15 * MINUTE + 1), stepUpVerifiedAt: null }, 15 * MINUTE, now)).toBe(false);
  });

  it('goes by the latest of the standing approval and a step-up or recovery approval', () => {
    expect(isFresh({ verifiedAt: ago(DAY), stepUpVerifiedAt: ago(MINUTE) }, 15 * MINUTE, now)).toBe(true);
    expect(isFresh({ verifiedAt: ago(MINUTE), stepUpVerifiedAt: ago(DAY) }, 15 * MINUTE, now)).toBe(true);
    expect(isFresh({ verifiedAt: ago(DAY), stepUpVerifiedAt: ago(DAY) }, 15 * MINUTE, now)).toBe(false);
  });

  it('never counts what cannot be read, or a time far in the future', () => {
    expect(isFresh({ verifiedAt: null, stepUpVerifiedAt: null }, 15 * MINUTE, now)).toBe(false);
    expect(isFresh({ verifiedAt: 'yesterday', stepUpVerifiedAt: null }, 15 * MINUTE, now)).toBe(false);
    expect(isFresh({ verifiedAt: ago(-MINUTE), stepUpVerifiedAt: null }, 15 * MINUTE, now)).toBe(true);
    expect(isFresh({ verifiedAt: ago(-DAY), stepUpVerifiedAt: null }, 15 * MINUTE, now)).toBe(false);
  });
});

describe('decideSettings', () => {
  it.each(SETTINGS_METHODS.filter((method) => method !== 'profile'))(
    'lets a %s change through with a fresh approval only',
    (method) => {
      expect(decideSettings(facts({ method, verifiedAt: ago(MINUTE) }), policy(), now)).toEqual({
        allow: true,
        reason: 'fresh_verification',
      });
      expect(decideSettings(facts({ method }), policy(), now)).toEqual({ allow: false, reason: 'step_up_required' });
      expect(decideSettings(facts({ method, stepUpVerifiedAt: ago(2 * MINUTE) }), policy(), now)).toEqual({
        allow: true,
        reason: 'fresh_verification',
      });
    },
  );

  it('never lets a declined identity change anything, however fresh', () => {
    for (const method of SETTINGS_METHODS) {
      const declined = facts({
        method,
        status: 'declined',
        verifiedAt: null,
        stepUpVerifiedAt: ago(MINUTE),
        changedTraits: [],
      });
      expect(decideSettings(declined, policy(), now)).toEqual({ allow: false, reason: 'declined' });
    }
  });

  it('refuses what needs proof while an operator requires a new verification, however fresh', () => {
    for (const method of SETTINGS_METHODS) {
      const required = facts({ method, stepUpVerifiedAt: ago(MINUTE), reverificationRequired: true });
      expect(decideSettings(required, policy(), now)).toEqual({ allow: false, reason: 'reverification_required' });
    }
    const noProofNeeded = facts({ method: 'profile', changedTraits: [], changedAddresses: false });
    expect(decideSettings({ ...noProofNeeded, reverificationRequired: true }, policy(), now).allow).toBe(true);
  });

  it('asks an identity never approved to verify, not to step up', () => {
    for (const status of [null, 'created', 'pending', 'completed', 'failed']) {
      expect(decideSettings(facts({ status, verifiedAt: null }), policy(), now)).toEqual({
        allow: false,
        reason: 'verification_required',
      });
    }
  });

  it('holds the boundary: STEP_UP_MAX_AGE old passes, a millisecond more asks for a step-up', () => {
    expect(decideSettings(facts({ verifiedAt: ago(15 * MINUTE) }), policy(), now).allow).toBe(true);
    expect(decideSettings(facts({ verifiedAt: ago(15 * MINUTE + 1) }), policy(), now)).toEqual({
      allow: false,
      reason: 'step_up_required',
    });
    expect(decideSettings(facts({ verifiedAt: ago(4 * MINUTE) }), policy({ maxAgeMs: 5 * MINUTE }), now).allow).toBe(
      true,
    );
  });

  it('says a step-up cannot be offered without a step-up template, and still lets a fresh approval through', () => {
    const withoutTemplate = policy({ stepUpOffered: false });
    expect(decideSettings(facts(), withoutTemplate, now)).toEqual({ allow: false, reason: 'step_up_unavailable' });
    expect(decideSettings(facts({ verifiedAt: ago(MINUTE) }), withoutTemplate, now)).toEqual({
      allow: true,
      reason: 'fresh_verification',
    });
    expect(decideSettings(facts({ status: 'pending', verifiedAt: null }), withoutTemplate, now)).toEqual({
      allow: false,
      reason: 'verification_required',
    });
  });

  describe('profile and STEP_UP_TRAITS', () => {
    const profile = (changedTraits: string[] | null, traits: string[] = [], changedAddresses: boolean | null = false) =>
      decideSettings(facts({ method: 'profile', changedTraits, changedAddresses }), policy({ traits }), now);

    it('without STEP_UP_TRAITS, any changed trait needs a fresh verification, and no change passes', () => {
      expect(profile(['nickname'])).toEqual({ allow: false, reason: 'step_up_required' });
      expect(profile([])).toEqual({ allow: true, reason: 'no_verified_trait_changed' });
    });

    it('with STEP_UP_TRAITS, only changes of those traits (or below them) need it', () => {
      const gated = ['name', 'birthdate'];
      expect(profile(['nickname', 'locale'], gated)).toEqual({ allow: true, reason: 'no_verified_trait_changed' });
      expect(profile(['name.last'], gated)).toEqual({ allow: false, reason: 'step_up_required' });
      expect(profile(['birthdate'], gated)).toEqual({ allow: false, reason: 'step_up_required' });
      expect(profile(['name.last'], ['name.first'])).toEqual({ allow: true, reason: 'no_verified_trait_changed' });
      // The whole `name` object replaced (it was not an object before) covers `name.first`.
      expect(profile(['name'], ['name.first'])).toEqual({ allow: false, reason: 'step_up_required' });
    });

    it('gates a changed recovery or verifiable address whatever STEP_UP_TRAITS says', () => {
      expect(profile(['email'], ['name.last'], true)).toEqual({ allow: false, reason: 'step_up_required' });
      expect(profile(['email'], ['name.last'], false)).toEqual({ allow: true, reason: 'no_verified_trait_changed' });
      // A body that cannot say (a settings.jsonnet from before, no session) counts as a change.
      expect(profile(['nickname'], ['name.last'], null)).toEqual({ allow: false, reason: 'step_up_required' });
      const fresh = facts({
        method: 'profile',
        changedTraits: ['email'],
        changedAddresses: true,
        verifiedAt: ago(MINUTE),
      });
      expect(decideSettings(fresh, policy({ traits: ['name.last'] }), now)).toEqual({
        allow: true,
        reason: 'fresh_verification',
      });
    });

    it('counts every trait as changed when the body cannot say which changed', () => {
      expect(profile(null, ['birthdate'])).toEqual({ allow: false, reason: 'step_up_required' });
      expect(profile([''], ['birthdate'])).toEqual({ allow: false, reason: 'step_up_required' });
    });

    it('never lets a trait ATTRIBUTE_MATCH compares change, however fresh, whatever STEP_UP_TRAITS says', () => {
      const compared = policy({ traits: ['email'], comparedTraits: ['name.first', 'name.last', 'birthdate'] });
      const change = (changedTraits: string[] | null, overrides: Partial<SettingsFacts> = {}) =>
        decideSettings(facts({ method: 'profile', changedTraits, ...overrides }), compared, now);
      const locked = { allow: false, reason: 'verified_trait_locked' };
      expect(change(['name.first'], { verifiedAt: ago(MINUTE) })).toEqual(locked);
      expect(change(['birthdate'], { stepUpVerifiedAt: ago(MINUTE) })).toEqual(locked);
      // The whole `name` replaced, a change nobody can name, and a person not yet verified.
      expect(change(['name'])).toEqual(locked);
      expect(change(null, { verifiedAt: ago(MINUTE) })).toEqual(locked);
      expect(change(['name.last'], { status: null, verifiedAt: null })).toEqual(locked);
      // Other traits go by STEP_UP_TRAITS as before; other methods are not about traits.
      expect(change(['nickname'])).toEqual({ allow: true, reason: 'no_verified_trait_changed' });
      expect(change(['email'], { verifiedAt: ago(MINUTE) })).toEqual({ allow: true, reason: 'fresh_verification' });
      expect(decideSettings(facts({ verifiedAt: ago(MINUTE) }), compared, now)).toEqual({
        allow: true,
        reason: 'fresh_verification',
      });
      // A declined identity is told it is declined.
      expect(change(['name.first'], { status: 'declined' })).toEqual({ allow: false, reason: 'declined' });
    });

    it('lets a gated change through with a fresh approval', () => {
      const fresh = decideSettings(
        facts({ method: 'profile', changedTraits: ['birthdate'], stepUpVerifiedAt: ago(MINUTE) }),
        policy({ traits: ['birthdate'] }),
        now,
      );
      expect(fresh).toEqual({ allow: true, reason: 'fresh_verification' });
    });
  });
});
