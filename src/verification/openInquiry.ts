import { createHash } from 'node:crypto';
import type { PrefillField } from '../config.js';
import type { CompleteInquiry } from '../persona/inquiry.js';
import type { Deadline } from '../outbound/retry.js';
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
  /** How many inquiries the identity had before this one: 0 at registration. */
  generation: number;
}

export interface OpenInquiryBudget {
  persona: Deadline;
  kratos: Deadline;
}

/**
 * Stable for one identity, template and attempt, so every retry of the same request (Kratos makes
 * up to three) gets Persona's replay of the first inquiry; the prefill is part of it because Persona
 * refuses a key reused with other parameters.
 */
export function idempotencyKeyFor(request: {
  identityId: string;
  templateId: string;
  generation: number;
  fields: object;
}) {
  const material = JSON.stringify([request.identityId, request.templateId, request.generation, request.fields]);
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
    { deadline: budget.persona },
  );
  const update = await deps.store.update(
    request.identityId,
    (current) => applyObservation(current, { inquiry, observedAt: inquiry.createdAt, eventId: null }, deps.rules),
    { deadline: budget.kratos },
  );
  return { inquiry, update };
}
