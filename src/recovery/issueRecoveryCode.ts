import { SECOND_FACTOR_TYPES, type KratosApi, type RecoveryCode } from '../kratos/kratosClient.js';
import { eventNotice } from '../notifications/notice.js';
import type { CallOptions } from '../outbound/retry.js';
import type { AccountReferences } from '../persona/accountReferences.js';
import { isCompleteInquiry, type CompleteInquiry, type Inquiry } from '../persona/inquiry.js';
import { applyObserved, type ApplyObservedDeps } from '../verification/applyObserved.js';
import { outcomeOf, type RecoveryCodeIssued } from '../verification/record.js';
import type { RecordStore } from '../verification/recordStore.js';
import { instantOf } from '../verification/standingDecision.js';
import type { TransitionResult } from '../verification/transition.js';
import { holdsForeignVerification, readAccountInquiries } from './foreignVerification.js';
import { isRecoverable } from './recoverable.js';
import { RECOVERY_CODE_EXPIRES_IN } from './recoveryPages.js';

export interface IssueRecoveryCodeDeps extends ApplyObservedDeps {
  store: RecordStore;
  kratos: KratosApi;
  accountReferences: AccountReferences;
  recoveryTemplateId: string;
  /** The templates whose inquiries the identity's Persona account may hold (acceptedTemplateIds). */
  templateIds: readonly string[];
  removeSecondFactors: boolean;
}

export type RecoveryRefusal =
  /** The inquiry is not of the recovery template, not opened by this service, or not about this identity. */
  | 'not_our_inquiry'
  | 'not_approved'
  /** A code was issued for a recovery inquiry created after this one. */
  | 'superseded'
  /** The identity can no longer be recovered (declined, deactivated, gone, or its record unreadable). */
  | 'not_recoverable'
  /** The identity's Persona account holds an inquiry this service did not open (foreignVerification.ts). */
  | 'foreign_verification'
  /** A code was issued for this inquiry before: one approved inquiry, one code. */
  | 'already_issued';

export type RecoveryOutcome =
  | { kind: 'code_issued'; code: RecoveryCode; secondFactorsRemoved: boolean }
  | { kind: 'refused'; reason: RecoveryRefusal };

/** Why a code issued before rules out one for `inquiry`: the same inquiry, or one created no later. */
function issuedBefore(code: RecoveryCodeIssued | null, inquiry: CompleteInquiry): RecoveryRefusal | undefined {
  if (code === null) return undefined;
  if (code.inquiry_id === inquiry.id) return 'already_issued';
  // Records written before the inquiry's creation time was kept: the code's own time bounds it.
  const bound = instantOf(code.inquiry_created_at ?? code.issued_at);
  return instantOf(inquiry.createdAt) <= bound ? 'superseded' : undefined;
}

/**
 * Issues the Kratos recovery code for an approved recovery inquiry, under the identity's lock,
 * only for the identity the inquiry was opened for. It decides from the inquiry as read from
 * Persona: approved, of the recovery template, carrying this service's note, and about this
 * identity (its reference id, or its account's, accountReferences.ts). Which recovery inquiry of
 * the identity is the latest does not matter: anyone who knows the identifier can open a newer
 * one, and that must not void the owner's approval. One code per recovery: none again for this
 * inquiry or for one created before the inquiry a code was issued for. The identity must still be
 * recoverable, and its Persona account (read before the section, which calls nobody but Kratos)
 * hold no verification the service did not open. The inquiry is applied to the record first, the
 * way a webhook would be.
 *
 * Second factors are removed (RECOVERY_REMOVE_SECOND_FACTORS) and sessions revoked before the code
 * is created, and the code is recorded with them in one write: each step before the write can be
 * repeated, and the code reaches the browser only after the write, so a failure anywhere leaves at
 * most an unseen code that expires.
 */
export async function issueRecoveryCode(
  deps: IssueRecoveryCodeDeps,
  identityId: string,
  read: Inquiry,
  options: CallOptions,
): Promise<RecoveryOutcome> {
  const refused = (reason: RecoveryRefusal): RecoveryOutcome => ({ kind: 'refused', reason });
  if (read.openedByService !== true || read.templateId !== deps.recoveryTemplateId) return refused('not_our_inquiry');
  const inquiry = { ...read, referenceId: await deps.accountReferences.referenceIdOf(read, options) };
  if (!isCompleteInquiry(inquiry) || inquiry.referenceId !== identityId) return refused('not_our_inquiry');
  if (outcomeOf(inquiry.status, deps.rules.statuses) !== 'approved') return refused('not_approved');

  const account = await readAccountInquiries(deps.persona, deps.templateIds, identityId, options);
  let outcome = refused('not_recoverable');
  await deps.store.update(
    identityId,
    async (stored): Promise<TransitionResult> => {
      const observed = await applyObserved(
        deps,
        stored,
        { inquiry, observedAt: inquiry.updatedAt ?? inquiry.createdAt, eventId: null, purpose: 'recovery' },
        options,
      );
      const current = observed.record;
      const refuse = (reason: RecoveryRefusal) => {
        outcome = refused(reason);
        return observed;
      };
      if (current === null) return refuse('not_recoverable');
      const before = issuedBefore(current.recovery_code, inquiry);
      if (before !== undefined) return refuse(before);
      if (!isRecoverable(stored.identity.state, current)) return refuse('not_recoverable');
      if (holdsForeignVerification(account, current)) return refuse('foreign_verification');

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
          recovery_code: {
            inquiry_id: inquiry.id,
            inquiry_created_at: inquiry.createdAt,
            decided_at: inquiry.decisionedAt ?? inquiry.updatedAt ?? inquiry.createdAt,
            issued_at: at,
            second_factors_removed: deps.removeSecondFactors,
          },
          actions: { ...current.actions, sessions_revoked_at: at },
        },
        notices: [
          eventNotice('recovery.completed', at, { inquiryId: inquiry.id, purpose: 'recovery', status: inquiry.status }),
        ],
      };
    },
    options,
  );
  return outcome;
}
