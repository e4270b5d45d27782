import type { Decision } from './record.js';

/** Milliseconds of a Persona time; an unknown time is earlier than every known one. */
export const instantOf = (time: string | null | undefined): number => {
  const parsed = time == null ? Number.NaN : Date.parse(time);
  return Number.isNaN(parsed) ? Number.NEGATIVE_INFINITY : parsed;
};

/** Entries of the same inquiry; declines read from records that named no inquiry count by status. */
const sameInquiry = (a: Decision, b: Decision) =>
  a.inquiry_id === null ? b.inquiry_id === null && a.status === b.status : a.inquiry_id === b.inquiry_id;

/** Whether `later`'s inquiry is known to be created after `earlier`'s. */
const createdAfter = (later: Decision, earlier: Decision) =>
  earlier.inquiry_created_at !== null && instantOf(later.inquiry_created_at) > instantOf(earlier.inquiry_created_at);

/**
 * Whether `approval` lifts `decline`: it decided later, about an inquiry known to be created after
 * the declined one. An approval of an older inquiry, of one whose age cannot be compared, or made
 * at the same instant never lifts a decline.
 */
export const lifts = (approval: Decision, decline: Decision) =>
  approval.outcome === 'approved' &&
  decline.outcome === 'declined' &&
  !sameInquiry(approval, decline) &&
  createdAfter(approval, decline) &&
  instantOf(approval.decided_at) > instantOf(decline.decided_at);

const latest = (decisions: Decision[]) =>
  decisions.reduce<Decision | null>(
    (found, decision) =>
      found === null || instantOf(decision.decided_at) > instantOf(found.decided_at) ? decision : found,
    null,
  );

/**
 * The identity's standing decision, from the latest decision of each of its deciding inquiries: a
 * decline stands until an approval lifts it (`lifts`); with no decline standing, the latest
 * approval stands. Because it depends only on each inquiry's latest decision, the order in which
 * Persona delivers them never changes the result.
 */
export function standingDecision(decisions: Decision[]): Decision | null {
  const declines = decisions.filter((decision) => decision.outcome === 'declined');
  const unlifted = declines.filter((decline) => !decisions.some((approval) => lifts(approval, decline)));
  return latest(unlifted) ?? latest(decisions.filter((decision) => decision.outcome === 'approved'));
}

/**
 * Only what can still matter is kept, so the list stays small however many inquiries an identity
 * goes through:
 * - a lifted decline cannot block again (whatever later undoes its lifter blocks by itself);
 * - a decline another decline dominates (of an inquiry created later, decided no earlier) is lifted
 *   by whatever lifts that one;
 * - an approval is dropped when another, of an inquiry created later and decided no earlier, lifts
 *   everything it could.
 */
function pruned(decisions: Decision[]): Decision[] {
  const dominated = (decision: Decision) =>
    decisions.some(
      (other) =>
        other !== decision &&
        other.outcome === decision.outcome &&
        createdAfter(other, decision) &&
        instantOf(other.decided_at) >= instantOf(decision.decided_at),
    );
  return decisions.filter(
    (decision) =>
      !dominated(decision) &&
      !(decision.outcome === 'declined' && decisions.some((approval) => lifts(approval, decision))),
  );
}

/**
 * The decisions after `candidate` is seen, or null when nothing changes. Within one inquiry the
 * decision made later (Persona's `decisioned-at`) holds, both ways (a manual review that flips
 * it); an earlier one, or the same one seen again, changes nothing; at the same instant a decline
 * wins. Keeping the latest of each inquiry makes the result independent of delivery order.
 */
export function withDecision(decisions: Decision[], candidate: Decision): Decision[] | null {
  const index = decisions.findIndex((held) => sameInquiry(held, candidate));
  const held = decisions[index];
  if (held !== undefined) {
    const order = instantOf(candidate.decided_at) - instantOf(held.decided_at);
    const declineAtSameInstant = order === 0 && candidate.outcome === 'declined' && held.outcome === 'approved';
    if (!(order > 0) && !declineAtSameInstant) return null;
  }
  const next =
    held === undefined
      ? [...decisions, candidate]
      : decisions.map((decision, position) => (position === index ? candidate : decision));
  const result = pruned(next);
  return JSON.stringify(result) === JSON.stringify(decisions) ? null : result;
}
