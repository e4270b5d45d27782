import type { AttributeMatchConfig } from '../config.js';
import type { AttributeMatch } from '../matching/attributeMatch.js';
import type { Notice } from '../notifications/notice.js';
import type { CompleteInquiry } from '../persona/inquiry.js';
import { decisionOf } from './readRecord.js';
import {
  DECIDING_PURPOSES,
  HISTORY_LIMIT,
  emptyRecord,
  isForgotten,
  notStartedRecord,
  type Decision,
  outcomeOf,
  type DecisionStatuses,
  type PersonaRecord,
  type Purpose,
  type PurposeResult,
} from './record.js';
import { withRequirementMet } from './reverification.js';
import { instantOf, standingDecision, withDecision } from './standingDecision.js';

/** What we learnt about an inquiry, and when Persona says it was so. */
export interface Observation {
  inquiry: CompleteInquiry;
  /**
   * Persona time of this state of the inquiry: its `updated-at` as the payload or the API gave it
   * (the event's `created-at` when a payload lacks it). Webhooks, creation and reconciliation
   * all order by it, so a state read by reconciliation is never undone by an older event.
   */
  observedAt: string;
  /** The webhook event id; null for a state read from the API. */
  eventId: string | null;
  /** Why the service opened this inquiry; absent for events, where the record tells. */
  purpose?: Purpose;
  /** The comparison of the approved inquiry's document with the traits, made for this observation. */
  attributeMatch?: AttributeMatch;
}

export type TransitionOutcome =
  /** The record changed and must be written. */
  | 'applied'
  /** This event was the last one applied. */
  | 'duplicate'
  /** Not newer than what the record already holds. */
  | 'stale'
  /** About an inquiry older than the record's one, and deciding nothing. */
  | 'superseded'
  /** About an inquiry the service neither opened nor knows: it counts for nothing. */
  | 'unrecognised'
  /** Nothing to do. */
  | 'unchanged';

export interface TransitionResult {
  outcome: TransitionOutcome;
  /** The record after the transition (the current one when nothing was applied). */
  record: PersonaRecord | null;
  /** What to tell beyond what the record shows (src/notifications), written with the record. */
  notices?: Notice[];
}

export interface TransitionRules {
  statuses: DecisionStatuses;
  /** Templates whose inquiries verify for step-up or recovery (and not for the standing decision). */
  purposeTemplates: Partial<Record<'step_up' | 'recovery', ReadonlySet<string>>>;
  /** ATTRIBUTE_MATCH: approvals are applied only after their verified document was compared (applyObserved.ts). */
  attributeMatch?: AttributeMatchConfig | undefined;
}

/**
 * How far along an inquiry is (reference/persona-api.md, "Statuses and events"). Used only to break
 * an exact tie of times, so a decision made in the same millisecond as the completion it follows
 * is not lost; unknown statuses rank lowest.
 */
const PROGRESS: Record<string, number> = {
  created: 1,
  pending: 2,
  expired: 2,
  completed: 3,
  failed: 3,
  needs_review: 4,
  approved: 5,
  declined: 5,
};
const progress = (status: string) => PROGRESS[status] ?? 0;

/** Newer than what is held: a later time, or the same time and a status further along. */
function isNewer(held: { updated_at: string | null; status: string }, observation: Observation): boolean {
  if (held.updated_at === null) return true;
  const difference = instantOf(observation.observedAt) - instantOf(held.updated_at);
  return difference > 0 || (difference === 0 && progress(observation.inquiry.status) > progress(held.status));
}

/** The purpose of an observed inquiry: as opened, as recorded, or by its template. */
function purposeOf(record: PersonaRecord, observation: Observation, rules: TransitionRules): Purpose {
  if (observation.purpose !== undefined) return observation.purpose;
  const { id, templateId } = observation.inquiry;
  for (const [purpose, result] of Object.entries(record.purposes)) {
    if (result.inquiry_id === id) return purpose as Purpose;
  }
  if (record.inquiry_id === id && record.purpose !== null) return record.purpose;
  const earlier = record.history.find((entry) => entry.inquiry_id === id)?.purpose;
  if (earlier !== undefined) return earlier;
  if (rules.purposeTemplates.step_up?.has(templateId)) return 'step_up';
  if (rules.purposeTemplates.recovery?.has(templateId)) return 'recovery';
  return record.decision === null ? 'onboarding' : 'reverification';
}

/** When Persona decided the observed state: its `decisioned-at`, else the time it was seen. */
const decisionTimeOf = (observation: Observation) => observation.inquiry.decisionedAt ?? observation.observedAt;

const resultOf = (observation: Observation, rules: TransitionRules, held?: PurposeResult): PurposeResult => {
  const { inquiry, observedAt } = observation;
  const outcome = outcomeOf(inquiry.status, rules.statuses);
  const decided = outcome !== null;
  const sameDecision = decided && held?.inquiry_id === inquiry.id && held.status === inquiry.status;
  const decidedAt = sameDecision ? (held?.decided_at ?? decisionTimeOf(observation)) : decisionTimeOf(observation);
  return {
    inquiry_id: inquiry.id,
    status: inquiry.status,
    created_at: inquiry.createdAt,
    updated_at: observedAt,
    decided_at: decided ? decidedAt : null,
    outcome,
  };
};

/** The latest result of a purpose: another inquiry replaces it only when created later. */
function nextPurposeResult(
  held: PurposeResult | undefined,
  observation: Observation,
  rules: TransitionRules,
): PurposeResult | undefined {
  const { inquiry } = observation;
  if (held === undefined) return resultOf(observation, rules);
  if (held.inquiry_id !== inquiry.id) {
    return instantOf(inquiry.createdAt) > instantOf(held.created_at) ? resultOf(observation, rules) : undefined;
  }
  return isNewer(held, observation) ? resultOf(observation, rules, held) : undefined;
}

/** The inquiry in progress: the same one moves on, a later-created one takes its place. */
function nextInProgress(
  record: PersonaRecord,
  observation: Observation,
  purpose: Purpose,
  rules: TransitionRules,
): PersonaRecord | TransitionOutcome {
  const { inquiry } = observation;
  const held = {
    inquiry_id: record.inquiry_id ?? '',
    status: record.status,
    created_at: record.created_at,
    updated_at: record.updated_at,
    decided_at: record.decided_at,
    outcome: outcomeOf(record.status, rules.statuses),
  };
  const moved = (result: PurposeResult) => ({
    ...record,
    status: result.status,
    updated_at: result.updated_at,
    decided_at: result.decided_at,
  });

  if (record.inquiry_id === null) {
    return { ...moved(resultOf(observation, rules)), ...started(record, observation, purpose) };
  }
  if (inquiry.id !== record.inquiry_id) {
    if (record.created_at !== null && instantOf(inquiry.createdAt) <= instantOf(record.created_at)) return 'superseded';
    const earlier = { inquiry_id: record.inquiry_id, status: record.status, decided_at: record.decided_at };
    return {
      ...moved(resultOf(observation, rules)),
      ...started(record, observation, purpose),
      history: [{ ...earlier, ...(record.purpose !== null && { purpose: record.purpose }) }, ...record.history].slice(
        0,
        HISTORY_LIMIT,
      ),
    };
  }
  if (!isNewer(held, observation)) return 'stale';
  return moved(resultOf(observation, rules, held));
}

const started = (record: PersonaRecord, observation: Observation, purpose: Purpose) => ({
  inquiry_id: observation.inquiry.id,
  template_id: observation.inquiry.templateId,
  created_at: observation.inquiry.createdAt,
  purpose,
  history: record.history,
});

/**
 * The decision an observation brings, as Persona made it, for the purposes that decide the
 * standing decision; null when it brings none (a status that decides nothing, a step-up, an
 * inquiry the service does not recognise).
 */
export function proposedDecision(
  record: PersonaRecord | null,
  observation: Observation,
  rules: TransitionRules,
): Decision | null {
  const current = record ?? emptyRecord();
  if (!recognised(current, observation, rules)) return null;
  const purpose = purposeOf(current, observation, rules);
  if (!DECIDING_PURPOSES.has(purpose)) return null;
  const { inquiry } = observation;
  // Only Persona's `decisioned-at` tells a new decision from the same one seen again later (a tag
  // update, a reconciliation): without it, the status held for the inquiry keeps its time, so
  // neither an approval's age nor a review held on it moves.
  const held = current.decisions.find((decision) => decision.inquiry_id === inquiry.id);
  const decidedAt =
    inquiry.decisionedAt ?? (held?.status === inquiry.status ? held.decided_at : null) ?? observation.observedAt;
  return decisionOf(inquiry.id, inquiry.status, inquiry.createdAt, decidedAt, purpose, rules.statuses);
}

/** The decision with the comparison of the inquiry's document made for it (withDecision says what it counts as). */
const checked = (decision: Decision, check: AttributeMatch | undefined): Decision =>
  check === undefined || decision.outcome !== 'approved' ? decision : { ...decision, attribute_match: check };

/**
 * The one place the record changes. Persona delivers out of order and more than once
 * (reference/persona-api.md, "Webhooks"): an observation of an inquiry applies to what the record
 * holds of it only when it is newer and not the last event again; another inquiry of the same
 * purpose takes the place of the held one only when it was created later. The standing decision
 * follows its own rules (standingDecision.ts): only decisions of the deciding purposes count, and
 * nothing but a decision ever changes it; an operator's requirement to verify again is met only by
 * a standing approval of an inquiry opened after it (reverification.ts).
 */
export function applyObservation(
  current: PersonaRecord | null,
  observation: Observation,
  rules: TransitionRules,
): TransitionResult {
  const record = current ?? emptyRecord();
  if (observation.eventId !== null && observation.eventId === record.last_event_id) {
    return { outcome: 'duplicate', record: current };
  }
  if (!recognised(record, observation, rules)) return { outcome: 'unrecognised', record: current };
  const purpose = purposeOf(record, observation, rules);
  const purposeResult = nextPurposeResult(record.purposes[purpose], observation, rules);
  let next: PersonaRecord = record;
  let outcome: TransitionOutcome = 'stale';

  if (DECIDING_PURPOSES.has(purpose)) {
    const inProgress = nextInProgress(record, observation, purpose, rules);
    if (typeof inProgress === 'string') outcome = inProgress;
    // `last_event_id` names the last event applied to the inquiry in progress, as in version 1.
    else next = { ...inProgress, last_event_id: observation.eventId ?? record.last_event_id };
    const candidate = proposedDecision(record, observation, rules);
    const decisions =
      candidate === null
        ? null
        : withDecision(record.decisions, checked(candidate, observation.attributeMatch), rules.statuses);
    if (decisions !== null) {
      next = withRequirementMet({ ...next, decisions, decision: standingDecision(decisions) });
    }
  }
  if (purposeResult !== undefined) next = { ...next, purposes: { ...next.purposes, [purpose]: purposeResult } };
  return next === record ? { outcome, record: current } : { outcome: 'applied', record: next };
}

/**
 * Whether the observed inquiry counts: the service opened it (its note, or the purpose it opened it
 * for), or the record already holds it. Anyone who can start the template in Persona's hosted flow
 * can open an inquiry with an identity's id as reference (the id is no secret); such an inquiry
 * must neither decline a person nor lift their decline. An inquiry whose decision the operator had
 * forgotten counts for nothing any more, but for a decline: forgetting erases a verification, never
 * a decline Persona gives later (a review flipping an approval, an inquiry decided after the fact).
 */
function recognised(record: PersonaRecord, observation: Observation, rules: TransitionRules): boolean {
  const { id } = observation.inquiry;
  if (isForgotten(record, id)) return rules.statuses.declined.has(observation.inquiry.status);
  return (
    observation.purpose !== undefined ||
    observation.inquiry.openedByService === true ||
    record.inquiry_id === id ||
    record.history.some((entry) => entry.inquiry_id === id) ||
    record.decisions.some((decision) => decision.inquiry_id === id) ||
    Object.values(record.purposes).some((result) => result.inquiry_id === id)
  );
}

/** Initiate could not create the inquiry: say so, unless something is already recorded. */
export function markNotStarted(current: PersonaRecord | null, templateId: string): TransitionResult {
  return current === null
    ? { outcome: 'applied', record: notStartedRecord(templateId) }
    : { outcome: 'unchanged', record: current };
}
