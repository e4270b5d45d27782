import { createHash } from 'node:crypto';
import type { PrefillField } from '../config.js';
import type { CompleteInquiry } from '../persona/inquiry.js';
import type { CallOptions } from '../outbound/retry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import { prefillFromTraits } from './prefill.js';
import type { RecordStore, UpdateResult } from './recordStore.js';
import { applyObservation, type TransitionRules } from './transition.js';

export interface OpenInquiryDeps {
  persona: PersonaApi;
  store: RecordStore;
  templateId: string;
  prefillFields: readonly PrefillField[];
  rules: TransitionRules;
}

export interface OpenInquiryRequest {
  identityId: string;
  traits: unknown;
  /** The inquiry this one follows (re-verification, retry); null for the identity's first. */
  previousInquiryId: string | null;
}

/** Call options (deadline, observer) for the Persona create and for the Kratos read and write. */
export interface OpenInquiryBudget {
  persona: CallOptions;
  kratos: CallOptions;
}

/**
 * Stable for one identity, template and predecessor, so every retry of the same step (Kratos calls
 * initiate up to three times; a user may click twice) gets Persona's replay of the first inquiry,
 * and `/persona/start` after a failed initiate finds the inquiry initiate may have created. The
 * prefill is part of it because Persona refuses a key reused with other parameters.
 */
function idempotencyKeyFor(request: {
  identityId: string;
  templateId: string;
  previousInquiryId: string | null;
  fields: object;
}) {
  const material = JSON.stringify([request.identityId, request.templateId, request.previousInquiryId, request.fields]);
  return `ory-persona-idv-${createHash('sha256').update(material).digest('hex').slice(0, 40)}`;
}

/** Creates the identity's inquiry at Persona and records it on the identity. */
export async function openInquiry(
  deps: OpenInquiryDeps,
  request: OpenInquiryRequest,
  budget: OpenInquiryBudget,
): Promise<{ inquiry: CompleteInquiry; update: UpdateResult }> {
  const fields = prefillFromTraits(request.traits, deps.prefillFields);
  const inquiry = await deps.persona.createInquiry(
    {
      templateId: deps.templateId,
      referenceId: request.identityId,
      fields,
      idempotencyKey: idempotencyKeyFor({ ...request, templateId: deps.templateId, fields }),
    },
    budget.persona,
  );
  const update = await deps.store.update(
    request.identityId,
    (current) => applyObservation(current, { inquiry, observedAt: inquiry.createdAt, eventId: null }, deps.rules),
    budget.kratos,
  );
  return { inquiry, update };
}
