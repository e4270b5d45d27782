import { eventNotice } from '../../notifications/notice.js';
import type { CallOptions } from '../../outbound/retry.js';
import { emptyRecord } from '../../verification/record.js';
import type { CurrentRecord, UpdateResult } from '../../verification/recordStore.js';
import { withRequirement, type ReverificationRequirement } from '../../verification/reverification.js';
import { instantOf } from '../../verification/standingDecision.js';
import type { AdminContext } from '../adminContext.js';
import { adminError } from '../adminErrors.js';
import { failureOutcome } from '../audit/auditLog.js';

export interface RequirementRequest {
  actor: string;
  reason: string;
  block_login: boolean;
}

/**
 * Records on the identity that it must verify again, in one write under the identity's lock (the
 * mirror carries the flag the login gate needs), announcing `verification.reverification_required`
 * to the notification receivers with it. `stillApplies` is asked again of the record as
 * it is when the lock is held, so a cohort selected from a listing acts only on what still belongs
 * to it; with `requiredSince`, an identity required since then is left as it is (a resumed cohort).
 */
export function writeRequirement(
  context: AdminContext,
  identityId: string,
  requirement: Omit<ReverificationRequirement, 'inquiry_id'>,
  options: {
    requiredSince?: string;
    stillApplies?: (current: CurrentRecord) => boolean;
    call?: CallOptions;
    /** Told when the requirement is about to be written: a failure from then on may have left it written. */
    onWrite?: () => void;
  } = {},
): Promise<UpdateResult> {
  return context.store.update(
    identityId,
    (current) => {
      const { record } = current;
      const since = options.requiredSince;
      const requiredSince =
        since !== undefined &&
        record?.reverification != null &&
        instantOf(record.reverification.required_at) >= instantOf(since);
      if (requiredSince || options.stillApplies?.(current) === false) return { outcome: 'unchanged', record };
      const required = withRequirement(record ?? emptyRecord(), requirement);
      options.onWrite?.();
      return {
        outcome: 'applied',
        record: required,
        // Receivers hear of it (`verification.reverification_required`), with the inquiry it cannot meet.
        notices: [
          eventNotice('verification.reverification_required', requirement.required_at, {
            inquiryId: required.reverification?.inquiry_id ?? null,
            purpose: 'reverification',
          }),
        ],
      };
    },
    options.call,
  );
}

export async function requireReverification(
  context: AdminContext,
  identityId: string,
  request: RequirementRequest,
): Promise<{ identity_id: string; reverification: ReverificationRequirement }> {
  const requirement = {
    required_at: new Date(context.now()).toISOString(),
    reason: request.reason,
    block_login: request.block_login,
  };
  const audit = (outcome: string) =>
    context.helpDesk.audit.record({
      actor: request.actor,
      action: 'reverification.require',
      identityId,
      outcome,
      details: { reason: request.reason, block_login: request.block_login },
    });
  let writeSent = false;
  let result;
  try {
    result = await writeRequirement(context, identityId, requirement, { onWrite: () => (writeSent = true) });
  } catch (error) {
    await audit(failureOutcome(error, writeSent));
    throw error;
  }
  if (result.outcome === 'identity_not_found') {
    await audit('unknown_identity');
    throw adminError('unknown_identity', 'Kratos has no identity with this id.');
  }
  if (result.outcome === 'record_unreadable') {
    await audit('record_unreadable');
    throw adminError(
      'record_unreadable',
      "The identity's record cannot be interpreted; fix or remove metadata_admin.persona first.",
    );
  }
  await audit('ok');
  return { identity_id: identityId, reverification: result.record?.reverification as ReverificationRequirement };
}
