import type { AccountActions, Decision, PersonaRecord } from './record.js';

/** What ON_DECLINE asks for when a decline comes to stand. */
export interface DeclineActions {
  revokeSessions: boolean;
  deactivate: boolean;
}

/**
 * The account actions a record about to be written needs (ON_DECLINE), against the decision the
 * stored record said: a decline that comes to stand asks for the sessions to be revoked and, with
 * `deactivate`, holds the identity inactive; an approval that lifts a decline reactivates only an
 * identity this service deactivated. Comparing with what was stored, not with what was read,
 * makes a decline found when a 0.1.0 record is upgraded act on the account too.
 *
 * `identity.state` is the identity's state as read: an identity already inactive was deactivated
 * by someone else, and this service does not claim it (so it never reactivates it).
 */
export function withAccountActions(
  record: PersonaRecord,
  storedDecision: Decision | null,
  identity: { state: string | null; now: string },
  onDecline: DeclineActions,
): PersonaRecord {
  const next = record.decision?.outcome;
  if (next === storedDecision?.outcome) return record;
  const actions: AccountActions = record.actions;
  if (next === 'declined') {
    const claimsDeactivation = onDecline.deactivate && actions.deactivated_at === null && identity.state === 'active';
    return {
      ...record,
      actions: {
        ...actions,
        deactivated_at: claimsDeactivation ? (record.decision?.decided_at ?? identity.now) : actions.deactivated_at,
        pending: onDecline.revokeSessions ? ['revoke_sessions'] : actions.pending,
      },
    };
  }
  // A review (an approval whose document did not match the traits) is no approval: a decline's
  // measures stay until one comes.
  return next === 'approved' && storedDecision !== null
    ? { ...record, actions: { ...actions, deactivated_at: null, pending: [] } }
    : record;
}
