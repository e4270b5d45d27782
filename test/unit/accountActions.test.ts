import { describe, expect, it } from 'vitest';
import { withAccountActions } from '../../src/verification/accountActions.js';
import type { PersonaRecord } from '../../src/verification/record.js';
import { approvedWith, at, mismatchFound, recordAfter } from '../support/records.js';

const revoke = { revokeSessions: true, deactivate: false };
const deactivate = { revokeSessions: false, deactivate: true };
const active = { state: 'active', now: at(59) };

const declined = recordAfter([['inq_1', 'declined', 5, 0]]) as PersonaRecord;
const approved = recordAfter([['inq_1', 'approved', 5, 0]]) as PersonaRecord;

describe('withAccountActions (ON_DECLINE)', () => {
  it('asks for the sessions to be revoked when a decline comes to stand, and not for one that stood', () => {
    expect(withAccountActions(declined, null, active, revoke).actions.pending).toEqual(['revoke_sessions']);
    expect(withAccountActions(declined, approved.decision, active, revoke).actions.pending).toEqual([
      'revoke_sessions',
    ]);
    expect(withAccountActions(declined, declined.decision, active, revoke)).toBe(declined);
  });

  it('acts on a decline found when a record of version 1 is upgraded (nothing was stored as decided)', () => {
    expect(withAccountActions(declined, null, active, { revokeSessions: true, deactivate: true }).actions).toEqual({
      deactivated_at: at(5),
      sessions_revoked_at: null,
      pending: ['revoke_sessions'],
    });
  });

  it('deactivates only an active identity, and reactivates only what it deactivated', () => {
    const held = withAccountActions(declined, null, active, deactivate);
    expect(held.actions.deactivated_at).toBe(at(5));
    const lifted = recordAfter([['inq_2', 'approved', 20, 10]], undefined, held) as PersonaRecord;
    expect(withAccountActions(lifted, held.decision, active, deactivate).actions.deactivated_at).toBeNull();

    const someoneElses = withAccountActions(declined, null, { state: 'inactive', now: at(59) }, deactivate);
    expect(someoneElses.actions.deactivated_at).toBeNull();
  });

  it('lets pending revocations lapse when an approval lifts the decline', () => {
    const pending = withAccountActions(declined, null, active, revoke);
    const lifted = recordAfter([['inq_2', 'approved', 20, 10]], undefined, pending) as PersonaRecord;
    expect(withAccountActions(lifted, pending.decision, active, revoke).actions.pending).toEqual([]);
  });

  it('does nothing to the account with ON_DECLINE=none', () => {
    expect(withAccountActions(declined, null, active, { revokeSessions: false, deactivate: false }).actions).toEqual(
      declined.actions,
    );
  });

  it("keeps a decline's measures while a review follows it, and lifts them on an approval", () => {
    const held = withAccountActions(declined, null, active, { revokeSessions: true, deactivate: true });
    const reviewed = approvedWith(mismatchFound('review', 20), 20, held);
    expect(reviewed.decision?.outcome).toBe('needs_review');
    expect(withAccountActions(reviewed, held.decision, active, deactivate).actions).toEqual(held.actions);
    const approvedAgain = approvedWith(mismatchFound('review', 20), 30, reviewed);
    expect(approvedAgain.decision?.outcome).toBe('approved');
    expect(withAccountActions(approvedAgain, reviewed.decision, active, deactivate).actions).toMatchObject({
      deactivated_at: null,
      pending: [],
    });
  });
});
