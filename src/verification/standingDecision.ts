import { approvalUnder, holdsForReview, type AttributeMatch } from '../matching/attributeMatch.js';
import type { Decision, DecisionStatuses } from './record.js';

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

/** At the same instant a review outranks an approval: what cannot be settled never counts as approved. */
const RANK: Record<Decision['outcome'], number> = { approved: 0, needs_review: 1, declined: 2 };

const latest = (decisions: Decision[]) =>
  decisions.reduce<Decision | null>((found, decision) => {
    if (found === null) return decision;
    const order = instantOf(decision.decided_at) - instantOf(found.decided_at);
    return order > 0 || (order === 0 && RANK[decision.outcome] > RANK[found.outcome]) ? decision : found;
  }, null);

/**
 * The identity's standing decision, from the latest decision of each of its deciding inquiries: a
 * decline stands until an approval lifts it (`lifts`); with no decline standing, the latest
 * approval or review stands (a review only where the attribute comparison holds one). Because it
 * depends only on each inquiry's latest decision, the order in which Persona delivers them never
 * changes the result.
 */
export function standingDecision(decisions: Decision[]): Decision | null {
  const declines = decisions.filter((decision) => decision.outcome === 'declined');
  const unlifted = declines.filter((decline) => !decisions.some((approval) => lifts(approval, decline)));
  return latest(unlifted) ?? latest(decisions.filter((decision) => decision.outcome !== 'declined'));
}

/**
 * Only what can still matter is kept, so the list stays small however many inquiries an identity
 * goes through:
 * - a lifted decline cannot block again (whatever later undoes its lifter blocks by itself: an
 *   approval never turns into a review);
 * - a decline another decline dominates (of an inquiry created later, decided no earlier) is lifted
 *   by whatever lifts that one, as long as that one stays a decline (see `settled`);
 * - an approval is dropped when another, of an inquiry created later and decided no earlier, lifts
 *   everything it could;
 * - an inquiry held for review is always kept: its later approvals stand only because its first
 *   approval is remembered.
 */
function pruned(decisions: Decision[], reviews: boolean): Decision[] {
  // Where approvals can be held for review, a decline of an inquiry not compared yet may still give
  // way to a review of its first approval, which blocks nothing: it dominates nothing meanwhile.
  const settled = (decline: Decision) => !reviews || decline.attribute_match !== undefined;
  const dominated = (decision: Decision) =>
    decisions.some(
      (other) =>
        other !== decision &&
        other.outcome === decision.outcome &&
        (other.outcome !== 'declined' || settled(other)) &&
        createdAfter(other, decision) &&
        instantOf(other.decided_at) >= instantOf(decision.decided_at),
    );
  return decisions.filter(
    (decision) =>
      holdsForReview(decision.attribute_match) ||
      (!dominated(decision) &&
        !(decision.outcome === 'declined' && decisions.some((approval) => lifts(approval, decision)))),
  );
}

/**
 * The comparison of an inquiry's document, as two entries of the inquiry know it: the one made at
 * its first approval, dated by the earliest approval either of them saw (an entry that is not a
 * decline is an approval, counted or held for review).
 */
function attributeMatchOf(held: Decision, candidate: Decision): AttributeMatch | undefined {
  const checks = [held.attribute_match, candidate.attribute_match].filter((check) => check !== undefined);
  const first = checks.reduce<AttributeMatch | undefined>(
    (found, check) =>
      found === undefined ||
      instantOf(check.first_approved_at) < instantOf(found.first_approved_at) ||
      (check.first_approved_at === found.first_approved_at && check.checked_at < found.checked_at)
        ? check
        : found,
    undefined,
  );
  if (first === undefined) return undefined;
  const approvals = [held, candidate].filter((entry) => entry.outcome !== 'declined' && entry.decided_at !== null);
  const earliest = approvals.reduce(
    (time, entry) => (instantOf(entry.decided_at) < instantOf(time) ? (entry.decided_at as string) : time),
    first.first_approved_at,
  );
  return { ...first, first_approved_at: earliest };
}

/**
 * One inquiry's entry after `candidate` is seen: the later decision (a decline wins at the same
 * instant), counting as the inquiry's attribute comparison makes it. Only approvals are compared:
 * a decline, Persona's or the comparison's, stays one.
 */
function merged(held: Decision, candidate: Decision): Decision {
  const order = instantOf(candidate.decided_at) - instantOf(held.decided_at);
  const later = order > 0 || (order === 0 && candidate.outcome === 'declined' && held.outcome !== 'declined');
  const decision = later ? candidate : held;
  const check = attributeMatchOf(held, candidate);
  if (check === undefined) return decision;
  const approvedAgain = instantOf(decision.decided_at) > instantOf(check.first_approved_at);
  return {
    ...decision,
    outcome: decision.outcome === 'declined' ? 'declined' : approvalUnder(check, approvedAgain),
    attribute_match: check,
  };
}

/**
 * The decisions after `candidate` is seen, or null when nothing changes. Within one inquiry the
 * decision made later (Persona's `decisioned-at`) holds, both ways (a manual review that flips
 * it); an earlier one, or the same one seen again, changes nothing, but for telling of an earlier
 * approval of an inquiry held for review; at the same instant a decline wins. Keeping the latest
 * of each inquiry, and the earliest approval, makes the result independent of delivery order.
 */
export function withDecision(
  decisions: Decision[],
  candidate: Decision,
  statuses: Pick<DecisionStatuses, 'heldForReview'> = {},
): Decision[] | null {
  const index = decisions.findIndex((held) => sameInquiry(held, candidate));
  const held = decisions[index];
  const next =
    held === undefined
      ? [...decisions, merged(candidate, candidate)]
      : decisions.map((decision, position) => (position === index ? merged(held, candidate) : decision));
  const result = pruned(next, statuses.heldForReview === true);
  return JSON.stringify(result) === JSON.stringify(decisions) ? null : result;
}
