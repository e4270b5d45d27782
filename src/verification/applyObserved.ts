import { compareAttributes } from '../matching/compareAttributes.js';
import type { AttributeMatch } from '../matching/attributeMatch.js';
import type { CallOptions } from '../outbound/retry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import type { CurrentRecord } from './recordStore.js';
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

/**
 * The comparison an observation needs: one for an approval of a deciding inquiry whose document
 * was not compared yet (ATTRIBUTE_MATCH), unless it is a decision the record already holds, seen
 * again (a redelivery, a reconciliation), so each inquiry's document is read once.
 */
async function attributeMatchFor(
  deps: ApplyObservedDeps,
  { identity, record }: CurrentRecord,
  observation: Observation,
  options: CallOptions,
): Promise<AttributeMatch | undefined> {
  const matching = deps.rules.attributeMatch;
  if (matching === undefined) return undefined;
  if (observation.eventId !== null && observation.eventId === record?.last_event_id) return undefined;
  const candidate = proposedDecision(record, observation, deps.rules);
  if (candidate?.outcome !== 'approved' || candidate.inquiry_id === null || candidate.decided_at === null)
    return undefined;
  const held = record?.decisions.find((decision) => decision.inquiry_id === candidate.inquiry_id);
  if (held?.attribute_match !== undefined) return undefined;
  if (held !== undefined && instantOf(held.decided_at) === instantOf(candidate.decided_at)) return undefined;

  // Traits come from the identity the store has just read: no second Kratos call, no older copy.
  const documents = await deps.persona.getVerifiedDocuments(candidate.inquiry_id, options);
  return {
    ...compareAttributes(documents, identity.traits, matching.attributes, matching.rules),
    rules: matching.rules,
    on_mismatch: matching.onMismatch,
    checked_at: new Date(deps.now()).toISOString(),
    first_approved_at: candidate.decided_at,
  };
}

/**
 * Applies an observation to the identity's record, inside the record store's update: an approval
 * is applied only once its verified document was compared with the traits. A Persona failure
 * while reading the document propagates, so the caller answers with a status that makes Persona
 * deliver again (or reconciliation tries again) and nothing is applied meanwhile.
 */
export async function applyObserved(
  deps: ApplyObservedDeps,
  current: CurrentRecord,
  observation: Observation,
  options: CallOptions,
): Promise<TransitionResult> {
  const attributeMatch = await attributeMatchFor(deps, current, observation, options);
  return applyObservation(
    current.record,
    attributeMatch === undefined ? observation : { ...observation, attributeMatch },
    deps.rules,
  );
}
