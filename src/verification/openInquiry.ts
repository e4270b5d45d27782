import { createHash } from 'node:crypto';
import type { PrefillField } from '../config.js';
import type { CallOptions } from '../outbound/retry.js';
import { serviceNote } from '../persona/inquiry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import { prefillFromTraits } from './prefill.js';
import type { Purpose } from './record.js';
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
  purpose: Purpose;
}

/** Call options (deadline, observer) for the Persona create and for the Kratos read and write. */
export interface OpenInquiryBudget {
  persona: CallOptions;
  kratos: CallOptions;
}

export interface OpenedInquiry {
  /** The inquiry the identity now has: the one created, or one a concurrent request created first. */
  inquiryId: string | null;
  status: string | null;
  update: UpdateResult;
}

/**
 * Stable for one identity, template, purpose and predecessor, so every retry of the same step
 * (Kratos calls initiate up to three times; a user may click twice) gets Persona's replay of the
 * first inquiry. The prefill is part of it because Persona refuses a key reused with other
 * parameters.
 */
function idempotencyKeyFor(request: {
  identityId: string;
  templateId: string;
  purpose: Purpose;
  previousInquiryId: string | null;
  fields: object;
}) {
  const material = JSON.stringify([
    request.identityId,
    request.templateId,
    request.purpose,
    request.previousInquiryId,
    request.fields,
  ]);
  return `ory-persona-idv-${createHash('sha256').update(material).digest('hex').slice(0, 40)}`;
}

/**
 * Creates the identity's inquiry at Persona and records it, under the identity's lock: a request
 * that finds an inquiry newer than the one it meant to follow (a concurrent request created it)
 * uses that one instead of creating a second.
 */
export async function openInquiry(
  deps: OpenInquiryDeps,
  request: OpenInquiryRequest,
  budget: OpenInquiryBudget,
): Promise<OpenedInquiry> {
  const fields = prefillFromTraits(request.traits, deps.prefillFields);
  let opened: { id: string; status: string } | undefined;
  const update = await deps.store.update(
    request.identityId,
    async ({ record }) => {
      if (record?.inquiry_id != null && record.inquiry_id !== request.previousInquiryId) {
        opened = { id: record.inquiry_id, status: record.status };
        return { outcome: 'unchanged', record };
      }
      const inquiry = await deps.persona.createInquiry(
        {
          templateId: deps.templateId,
          referenceId: request.identityId,
          fields,
          note: serviceNote(request.purpose),
          idempotencyKey: idempotencyKeyFor({ ...request, templateId: deps.templateId, fields }),
        },
        budget.persona,
      );
      opened = inquiry;
      return applyObservation(
        record,
        { inquiry, observedAt: inquiry.updatedAt ?? inquiry.createdAt, eventId: null, purpose: request.purpose },
        deps.rules,
      );
    },
    budget.kratos,
  );
  return { inquiryId: opened?.id ?? null, status: opened?.status ?? null, update };
}
