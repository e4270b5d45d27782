import type { AttributeComparison } from './compareAttributes.js';
import type { RuleSet } from './ruleSets.js';

/** ATTRIBUTE_MISMATCH_ACTION: what a document that does not match the traits does to an approval. */
export const MISMATCH_ACTIONS = ['review', 'decline', 'flag'] as const;
export type MismatchAction = (typeof MISMATCH_ACTIONS)[number];

/**
 * The comparison of an inquiry's verified document with the identity's traits, as the record keeps
 * it beside the inquiry's decision: outcomes, never values.
 */
export interface AttributeMatch extends AttributeComparison {
  rules: RuleSet;
  /** ATTRIBUTE_MISMATCH_ACTION when it was made: what an outcome other than `match` does. */
  on_mismatch: MismatchAction;
  /** When it was made (this service's clock). */
  checked_at: string;
  /**
   * Persona time of the inquiry's first approval. Under `review` only that one is held for
   * review; an approval decided after it is a person's decision in Persona, made after the review.
   */
  first_approved_at: string;
}

/** Whether the inquiry's later approvals depend on when it was first approved (`review`). */
export const holdsForReview = (check: AttributeMatch | undefined) =>
  check !== undefined && check.outcome !== 'match' && check.on_mismatch === 'review';

/**
 * What a Persona approval comes to under the comparison of its document. A match, or a mismatch
 * with `flag`, keeps it; `decline` makes it a decline; `review` holds the inquiry's first approval
 * for review (the login gate does not count it as approved), and a later approval, a person's
 * decision in Persona, stands.
 */
export function approvalUnder(
  check: AttributeMatch | undefined,
  approvedAgain: boolean,
): 'approved' | 'declined' | 'needs_review' {
  if (check === undefined || check.outcome === 'match') return 'approved';
  switch (check.on_mismatch) {
    case 'flag':
      return 'approved';
    case 'decline':
      return 'declined';
    case 'review':
      return approvedAgain ? 'approved' : 'needs_review';
  }
}
