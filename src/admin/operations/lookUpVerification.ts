import type { z } from 'zod';
import { inquiryDashboardUrl } from '../../persona/dashboard.js';
import { decideLogin, decideLoginUnreadable, loginPolicyOf, type LoginDecision } from '../../policy/loginPolicy.js';
import { BLOCKS } from '../../routes/validate.js';
import { planNextStep } from '../../verification/nextStep.js';
import { isCurrentVersion } from '../../verification/readRecord.js';
import { mirrorOf } from '../../verification/record.js';
import { instantOf } from '../../verification/standingDecision.js';
import type { AdminContext } from '../adminContext.js';
import { adminError } from '../adminErrors.js';
import { failureOutcome } from '../audit/auditLog.js';
import type { verificationResponse } from '../schemas.js';

/**
 * An identity's verification as a help-desk agent needs it: the record (ids, statuses, times), the
 * standing decision, each purpose's latest result, whether it must verify again and why, what the
 * login gate and /persona/start would do now, and where the inquiry is in Persona's dashboard.
 */
export async function lookUpVerification(
  context: AdminContext,
  identityId: string,
  actor: string,
): Promise<z.input<typeof verificationResponse>> {
  const audit = (outcome: string) =>
    context.helpDesk.audit.record({ actor, action: 'verification.read', identityId, outcome });
  let stored;
  try {
    stored = await context.store.read(identityId);
  } catch (error) {
    await audit(failureOutcome(error));
    throw error;
  }
  if (!stored.found) {
    await audit('unknown_identity');
    throw adminError('unknown_identity', 'Kratos has no identity with this id.');
  }
  const { identity, reading } = stored;
  const { config } = context;
  const now = context.now();
  const record = reading.kind === 'record' ? reading.record : null;
  const policy = loginPolicyOf(config);
  let login: LoginDecision;
  if (reading.kind === 'unreadable') login = decideLoginUnreadable(policy);
  else {
    const mirror = record === null ? undefined : mirrorOf(record);
    login = decideLogin(
      {
        status: mirror?.status ?? null,
        verifiedAt: mirror?.verified_at ?? null,
        identityCreatedAt: identity.createdAt,
        reverificationRequired: mirror?.reverification_required === true,
      },
      policy,
      now,
    );
  }
  const decision = record?.decision ?? null;
  const due =
    decision?.outcome === 'approved' &&
    config.login.reverifyAfterMs !== undefined &&
    now - instantOf(decision.decided_at) > config.login.reverifyAfterMs;
  const because = record?.reverification != null ? 'operator' : due ? 'reverify_after' : null;

  await audit('ok');
  return {
    identity_id: identityId,
    identity_state: identity.state,
    record_state: reading.kind,
    unreadable_reason: reading.kind === 'unreadable' ? reading.reason : null,
    stored_version_current: reading.kind === 'none' ? null : isCurrentVersion(identity.metadataAdmin),
    record,
    decision,
    purposes: record?.purposes ?? {},
    reverification: { required: because !== null, because, requirement: record?.reverification ?? null },
    login: { allowed: login.allow, reason: login.reason, message_id: login.allow ? null : BLOCKS[login.reason].id },
    next_step: planNextStep(reading, context.nextStepRules, now).kind,
    dashboard: {
      inquiry: inquiryDashboardUrl(record?.inquiry_id),
      decision: inquiryDashboardUrl(decision?.inquiry_id),
    },
  };
}
