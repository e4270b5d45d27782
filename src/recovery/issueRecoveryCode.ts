import { SECOND_FACTOR_TYPES, type KratosApi, type RecoveryCode } from '../kratos/kratosClient.js';
import { eventNotice } from '../notifications/notice.js';
import type { CallOptions } from '../outbound/retry.js';
import { isCompleteInquiry, type Inquiry } from '../persona/inquiry.js';
import type { RecordStore } from '../verification/recordStore.js';
import { applyObservation, type TransitionResult, type TransitionRules } from '../verification/transition.js';
import { isRecoverable } from './recoverable.js';
import { RECOVERY_CODE_EXPIRES_IN } from './recoveryPages.js';

export interface IssueRecoveryCodeDeps {
  store: RecordStore;
  kratos: KratosApi;
  rules: TransitionRules;
  recoveryTemplateId: string;
  removeSecondFactors: boolean;
  now: () => number;
}

export type RecoveryRefusal =
  /** The inquiry is not of the recovery template, or not about this identity. */
  | 'not_our_inquiry'
  /** A newer recovery inquiry of the identity has been opened since. */
  | 'superseded'
  | 'not_approved'
  /** The identity can no longer be recovered (declined, deactivated, gone, or its record unreadable). */
  | 'not_recoverable'
  /** A code was issued for this inquiry before: one approved inquiry, one code. */
  | 'already_issued';

export type RecoveryOutcome =
  | { kind: 'code_issued'; code: RecoveryCode; secondFactorsRemoved: boolean }
  | { kind: 'refused'; reason: RecoveryRefusal };

/**
 * Issues the Kratos recovery code for an approved recovery inquiry, under the identity's lock,
 * only for the identity the inquiry was opened for: Persona's own account of the inquiry must name
 * that identity (reference id) and template, and carry this service's note, the record must name the inquiry as the identity's
 * latest recovery and hold it approved, the identity must still be recoverable, and no code may
 * have been issued for it before. The inquiry as read from Persona is applied first, the way a
 * webhook would be, so a decision Persona delivers late is not waited for.
 *
 * Second factors are removed (RECOVERY_REMOVE_SECOND_FACTORS) and sessions revoked before the code
 * is created, and the code is recorded with them in one write: each step before the write can be
 * repeated, and the code reaches the browser only after the write, so a failure anywhere leaves at
 * most an unseen code that expires.
 */
export async function issueRecoveryCode(
  deps: IssueRecoveryCodeDeps,
  identityId: string,
  inquiry: Inquiry,
  options: CallOptions,
): Promise<RecoveryOutcome> {
  if (
    !isCompleteInquiry(inquiry) ||
    inquiry.openedByService !== true ||
    inquiry.referenceId !== identityId ||
    inquiry.templateId !== deps.recoveryTemplateId
  ) {
    return { kind: 'refused', reason: 'not_our_inquiry' };
  }
  let outcome: RecoveryOutcome = { kind: 'refused', reason: 'not_recoverable' };
  await deps.store.update(
    identityId,
    async ({ identity, record }): Promise<TransitionResult> => {
      const observed = applyObservation(
        record,
        { inquiry, observedAt: inquiry.updatedAt ?? inquiry.createdAt, eventId: null, purpose: 'recovery' },
        deps.rules,
      );
      const current = observed.record;
      const refuse = (reason: RecoveryRefusal) => {
        outcome = { kind: 'refused', reason };
        return observed;
      };
      if (current === null) return refuse('not_recoverable');
      if (current.recovery_code?.inquiry_id === inquiry.id) return refuse('already_issued');
      const held = current.purposes.recovery;
      if (held?.inquiry_id !== inquiry.id) return refuse('superseded');
      if (held.outcome !== 'approved') return refuse('not_approved');
      if (!isRecoverable(identity.state, current)) return refuse('not_recoverable');

      if (deps.removeSecondFactors) {
        for (const type of SECOND_FACTOR_TYPES) await deps.kratos.deleteCredentials(identityId, type, options);
      }
      await deps.kratos.revokeSessions(identityId, options);
      const code = await deps.kratos.createRecoveryCode(identityId, RECOVERY_CODE_EXPIRES_IN, options);
      const at = new Date(deps.now()).toISOString();
      outcome = { kind: 'code_issued', code, secondFactorsRemoved: deps.removeSecondFactors };
      return {
        outcome: 'applied',
        record: {
          ...current,
          recovery_code: { inquiry_id: inquiry.id, issued_at: at, second_factors_removed: deps.removeSecondFactors },
          actions: { ...current.actions, sessions_revoked_at: at },
        },
        notices: [
          eventNotice('recovery.completed', at, { inquiryId: inquiry.id, purpose: 'recovery', status: held.status }),
        ],
      };
    },
    options,
  );
  return outcome;
}
