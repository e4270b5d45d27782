import { compareAttributes } from '../matching/compareAttributes.js';
import type { AttributeMatch } from '../matching/attributeMatch.js';
import type { CallOptions } from '../outbound/retry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import type { VerifiedDocument } from '../persona/verifiedDocument.js';
import type { PersonaRecord } from './record.js';
import type { CurrentRecord, RecordStore } from './recordStore.js';
import { instantOf } from './standingDecision.js';
import {
  applyObservation,
  proposedDecision,
  type Observation,
  type TransitionResult,
  type TransitionRules,
} from './transition.js';

export interface ApplyObservedDeps {
  persona: PersonaApi;
  rules: TransitionRules;
  now: () => number;
}

/** An inquiry's passed verified documents as read from Persona before the identity's section. */
export interface FetchedDocuments {
  inquiryId: string;
  documents: VerifiedDocument[];
}

/**
 * The approval whose document the observation needs compared: one of a deciding inquiry whose
 * document was not compared yet (ATTRIBUTE_MATCH), unless it is a decision the record already
 * holds, seen again (a redelivery, a reconciliation), so each inquiry's document is read once.
 */
function approvalToCompare(deps: ApplyObservedDeps, record: PersonaRecord | null, observation: Observation) {
  if (deps.rules.attributeMatch === undefined) return undefined;
  if (observation.eventId !== null && observation.eventId === record?.last_event_id) return undefined;
  const candidate = proposedDecision(record, observation, deps.rules);
  if (candidate?.outcome !== 'approved' || candidate.inquiry_id === null || candidate.decided_at === null)
    return undefined;
  const held = record?.decisions.find((decision) => decision.inquiry_id === candidate.inquiry_id);
  if (held?.attribute_match !== undefined) return undefined;
  if (held !== undefined && instantOf(held.decided_at) === instantOf(candidate.decided_at)) return undefined;
  return { inquiryId: candidate.inquiry_id, decidedAt: candidate.decided_at };
}

/**
 * Reads from Persona, before the identity's section, the documents applying `observation` will
 * need (judged on the record as read without the lock), so the section holding the lock calls
 * nobody but Kratos: in Postgres mode no pool connection waits on Persona. Only approvals under
 * ATTRIBUTE_MATCH need one; every other observation costs nothing here.
 */
export async function fetchDocumentsAhead(
  deps: ApplyObservedDeps & { store: RecordStore },
  identityId: string,
  observation: Observation,
  options: CallOptions,
): Promise<FetchedDocuments | undefined> {
  const { attributeMatch, statuses } = deps.rules;
  if (attributeMatch === undefined || !statuses.approved.has(observation.inquiry.status)) return undefined;
  const stored = await deps.store.read(identityId, options);
  if (!stored.found || stored.reading.kind === 'unreadable') return undefined;
  const approval = approvalToCompare(
    deps,
    stored.reading.kind === 'record' ? stored.reading.record : null,
    observation,
  );
  if (approval === undefined) return undefined;
  return {
    inquiryId: approval.inquiryId,
    documents: await deps.persona.getVerifiedDocuments(approval.inquiryId, options),
  };
}

/**
 * Applies an observation to the identity's record, inside the record store's update: an approval
 * is applied only once its verified documents were compared with the traits the section has just
 * read. The documents come from `fetched`; they are read here, under the lock, only when the record
 * changed since then so that another inquiry's are due. A Persona failure while reading them
 * propagates, so the caller answers with a status that makes Persona deliver again (or
 * reconciliation tries again) and nothing is applied meanwhile.
 */
export async function applyObserved(
  deps: ApplyObservedDeps,
  { identity, record }: CurrentRecord,
  observation: Observation,
  options: CallOptions,
  fetched?: FetchedDocuments,
): Promise<TransitionResult> {
  const approval = approvalToCompare(deps, record, observation);
  const matching = deps.rules.attributeMatch;
  if (approval === undefined || matching === undefined) return applyObservation(record, observation, deps.rules);
  const documents =
    fetched?.inquiryId === approval.inquiryId
      ? fetched.documents
      : await deps.persona.getVerifiedDocuments(approval.inquiryId, options);
  // Traits come from the identity the store has just read: no second Kratos call, no older copy.
  const attributeMatch: AttributeMatch = {
    ...compareAttributes(documents, identity.traits, matching.attributes, matching.rules),
    rules: matching.rules,
    on_mismatch: matching.onMismatch,
    checked_at: new Date(deps.now()).toISOString(),
    first_approved_at: approval.decidedAt,
  };
  return applyObservation(record, { ...observation, attributeMatch }, deps.rules);
}
