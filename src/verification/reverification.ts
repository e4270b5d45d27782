import type { PersonaRecord } from './record.js';
import { instantOf } from './standingDecision.js';

/**
 * An operator's requirement that the identity verify again (a role change, an incident: the admin
 * API's `reverification`). It stands until an approval of an inquiry opened after it becomes the
 * standing decision; nothing else lifts it, not the approval it was required despite, not an
 * inquiry that was already in progress.
 */
export interface ReverificationRequirement {
  /** When it was required, by this service's clock. */
  required_at: string;
  /** A code or a short text naming why (no personal data). */
  reason: string;
  /** The login gate answers 4100003 until it is met, under either login policy. */
  block_login: boolean;
  /** The inquiry in progress when it was required: it cannot meet it, however it ends. */
  inquiry_id: string | null;
}

/** How long a reason may be: a code or a short phrase, never a case file. */
export const REASON_MAX_LENGTH = 200;

/** The record with the requirement: a later one replaces an earlier one (it is the stricter). */
export function withRequirement(
  record: PersonaRecord,
  requirement: Omit<ReverificationRequirement, 'inquiry_id'>,
): PersonaRecord {
  return { ...record, reverification: { ...requirement, inquiry_id: record.inquiry_id } };
}

/**
 * Whether an inquiry may meet the requirement: opened after it, by Persona's creation time. The
 * inquiry in progress at the time is excluded by id as well, so a clock running behind Persona's
 * cannot let it count.
 */
export function opensAfter(
  requirement: ReverificationRequirement,
  inquiry: { inquiry_id: string | null; created_at: string | null },
): boolean {
  return (
    inquiry.inquiry_id !== null &&
    inquiry.inquiry_id !== requirement.inquiry_id &&
    instantOf(inquiry.created_at) > instantOf(requirement.required_at)
  );
}

/** The record without its requirement once the standing decision is an approval that meets it. */
export function withRequirementMet(record: PersonaRecord): PersonaRecord {
  const { reverification: requirement, decision } = record;
  if (requirement === null || decision?.outcome !== 'approved') return record;
  const approved = { inquiry_id: decision.inquiry_id, created_at: decision.inquiry_created_at };
  return opensAfter(requirement, approved) ? { ...record, reverification: null } : record;
}
