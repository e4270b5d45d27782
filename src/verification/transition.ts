import type { CompleteInquiry } from '../persona/inquiry.js';
import { HISTORY_LIMIT, notStartedRecord, type PersonaRecord } from './record.js';

/** What we learnt about an inquiry, and when Persona says it was so. */
export interface Observation {
  inquiry: CompleteInquiry;
  /** Persona time of this state: the event's `created-at`, or the inquiry's `created-at` at creation. */
  observedAt: string;
  /** The webhook event id; null for a state read from the API. */
  eventId: string | null;
}

export type TransitionOutcome =
  /** The record changed and must be written. */
  | 'applied'
  /** This event was the last one applied. */
  | 'duplicate'
  /** Not newer than what the record already holds. */
  | 'stale'
  /** About an inquiry older than the record's one. */
  | 'superseded'
  /** Nothing to do. */
  | 'unchanged';

export interface TransitionResult {
  outcome: TransitionOutcome;
  /** The record after the transition (the current one when nothing was applied). */
  record: PersonaRecord | null;
}

export interface TransitionRules {
  /** Statuses that are decisions (approved and declined, plus their configured equivalents). */
  decidedStatuses: ReadonlySet<string>;
}

const instant = (time: string) => Date.parse(time);

/**
 * How far along an inquiry is (reference/persona-api.md, "Statuses and events"). Used only to break
 * an exact tie of event times, so a decision made in the same millisecond as the completion it
 * follows is not lost; unknown statuses rank lowest.
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

/** Newer than the record: a later event time, or the same time and a status further along. */
function isNewer(current: PersonaRecord, observation: Observation): boolean {
  if (current.updated_at === null) return true;
  const difference = instant(observation.observedAt) - instant(current.updated_at);
  return difference > 0 || (difference === 0 && progress(observation.inquiry.status) > progress(current.status));
}

function startRecord(current: PersonaRecord | null, observation: Observation, rules: TransitionRules): PersonaRecord {
  const { inquiry, observedAt, eventId } = observation;
  const earlier = current?.inquiry_id
    ? [{ inquiry_id: current.inquiry_id, status: current.status, decided_at: current.decided_at }, ...current.history]
    : (current?.history ?? []);
  return {
    inquiry_id: inquiry.id,
    status: inquiry.status,
    template_id: inquiry.templateId,
    created_at: inquiry.createdAt,
    updated_at: observedAt,
    decided_at: rules.decidedStatuses.has(inquiry.status) ? observedAt : null,
    last_event_id: eventId,
    history: earlier.slice(0, HISTORY_LIMIT),
  };
}

function advanceRecord(current: PersonaRecord, observation: Observation, rules: TransitionRules): PersonaRecord {
  const { inquiry, observedAt, eventId } = observation;
  const decided = rules.decidedStatuses.has(inquiry.status);
  const sameDecision = decided && inquiry.status === current.status && current.decided_at !== null;
  return {
    ...current,
    status: inquiry.status,
    updated_at: observedAt,
    decided_at: decided ? (sameDecision ? current.decided_at : observedAt) : null,
    last_event_id: eventId ?? current.last_event_id,
  };
}

/**
 * The one place the record changes. Persona delivers out of order and more than once
 * (reference/persona-api.md, "Webhooks"), so an observation of the stored inquiry applies only when
 * it is newer than `updated_at` (see `isNewer`) and is not the last event again; an observation of another inquiry
 * of the same identity replaces the record only when that inquiry was created later.
 */
export function applyObservation(
  current: PersonaRecord | null,
  observation: Observation,
  rules: TransitionRules,
): TransitionResult {
  if (current === null || current.inquiry_id === null) {
    return { outcome: 'applied', record: startRecord(current, observation, rules) };
  }
  if (observation.inquiry.id !== current.inquiry_id) {
    const newer = current.created_at === null || instant(observation.inquiry.createdAt) > instant(current.created_at);
    return newer
      ? { outcome: 'applied', record: startRecord(current, observation, rules) }
      : { outcome: 'superseded', record: current };
  }
  if (observation.eventId !== null && observation.eventId === current.last_event_id) {
    return { outcome: 'duplicate', record: current };
  }
  if (!isNewer(current, observation)) return { outcome: 'stale', record: current };
  return { outcome: 'applied', record: advanceRecord(current, observation, rules) };
}

/** Initiate could not create the inquiry: say so, unless something is already recorded. */
export function markNotStarted(current: PersonaRecord | null, templateId: string): TransitionResult {
  return current === null
    ? { outcome: 'applied', record: notStartedRecord(templateId) }
    : { outcome: 'unchanged', record: current };
}
