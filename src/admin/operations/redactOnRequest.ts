import { redactIdentity, RedactionRefused, type IdentityRedaction } from '../../privacy/redactIdentity.js';
import { acceptedTemplateIds } from '../../services.js';
import type { AdminContext } from '../adminContext.js';
import { adminError } from '../adminErrors.js';

export interface RedactionRequest {
  actor: string;
  dry_run: boolean;
  forget_decision: boolean;
  whole_account: boolean;
}

/**
 * An operator's redaction of an identity's Persona data (privacy/redactIdentity.ts), audited as
 * `persona.redact`. An identity Kratos no longer has is redacted by what the service opened for it,
 * so Ory Network's identity-deleted events can call this too.
 */
export async function redactOnRequest(
  context: AdminContext,
  identityId: string,
  request: RedactionRequest,
): Promise<IdentityRedaction> {
  try {
    return await redactIdentity(
      {
        persona: context.persona,
        store: context.store,
        templateIds: acceptedTemplateIds(context.config),
        audit: context.helpDesk.redactions,
        now: context.now,
      },
      {
        identityId,
        actor: request.actor,
        trigger: 'request',
        forgetDecision: request.forget_decision,
        wholeAccount: request.whole_account,
        dryRun: request.dry_run,
      },
      {},
    );
  } catch (error) {
    if (error instanceof RedactionRefused) throw adminError(error.reason, `${error.message}.`);
    throw error;
  }
}
