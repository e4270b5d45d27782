import { describe, expect, it } from 'vitest';
import type { AttributeMatch } from '../../src/matching/attributeMatch.js';
import type { Decision } from '../../src/verification/record.js';
import { standingDecision, withDecision } from '../../src/verification/standingDecision.js';
import { CHECKS, oracle, random, time, type Check } from '../support/decisionOracle.js';

const decision = (inquiry: number, outcome: 'approved' | 'declined', second: number): Decision => ({
  outcome,
  status: outcome,
  inquiry_id: `inq_${inquiry}`,
  inquiry_created_at: time(inquiry),
  decided_at: time(10 + second),
  purpose: 'onboarding',
});

/** A Persona decision of an inquiry, as the transition hands it over: approvals carry the comparison of their document. */
function delivered(inquiry: number, outcome: 'approved' | 'declined', second: number, check: Check): Decision {
  const plain = decision(inquiry, outcome, second);
  if (outcome === 'declined' || check === 'none') return plain;
  const attributeMatch: AttributeMatch = {
    outcome: check === 'match' ? 'match' : 'mismatch',
    attributes: {},
    rules: 'relaxed',
    on_mismatch: check === 'match' ? 'review' : check,
    checked_at: time(59),
    first_approved_at: plain.decided_at as string,
  };
  return { ...plain, attribute_match: attributeMatch };
}

const fold = (decisions: Decision[], heldForReview = false) =>
  standingDecision(
    decisions.reduce<Decision[]>((held, next) => withDecision(held, next, { heldForReview }) ?? held, []),
  );

describe('the standing decision', () => {
  it('follows the rules whatever the order of delivery, with duplicates and comparisons (20,000 random histories)', () => {
    const next = random(20261129);
    for (let trial = 0; trial < 20_000; trial += 1) {
      // Few inquiries with several decisions each, so that one inquiry is decided again and again.
      const inquiries = 2 + Math.floor(next() * 4);
      const checks = Array.from({ length: inquiries }, () => CHECKS[Math.floor(next() * CHECKS.length)] as Check);
      const history = Array.from({ length: 1 + Math.floor(next() * (inquiries + 4)) }, () => {
        const inquiry = Math.floor(next() * inquiries);
        const outcome = next() < 0.5 ? ('approved' as const) : ('declined' as const);
        return { inquiry, outcome, second: Math.floor(next() * 12), check: checks[inquiry] as Check };
      });
      const decisions = history.map((entry) => delivered(entry.inquiry, entry.outcome, entry.second, entry.check));
      const order = [...decisions, ...decisions.filter(() => next() < 0.3)].sort(() => next() - 0.5);
      const expected = oracle(history);
      // Folded as configured: only where `review` is drawn may approvals be held for review.
      const actual = fold(order, checks.includes('review'))?.outcome ?? null;
      if (actual !== expected) {
        throw new Error(
          `delivered ${JSON.stringify(order.map((d) => [d.inquiry_id, d.outcome, d.decided_at, d.attribute_match?.on_mismatch]))}: ${actual}, expected ${expected}`,
        );
      }
    }
  });

  // Two orders the random histories above reach only now and then, each undone by a shortcut in
  // what the decisions keep.
  it('remembers the first approval of an inquiry held for review, however many approvals follow', () => {
    const reviewed = (second: number) => delivered(0, 'approved', second, 'review');
    const order = [reviewed(1), reviewed(3), delivered(1, 'approved', 4, 'match'), reviewed(5)];
    expect(fold(order, true)).toMatchObject({ inquiry_id: 'inq_0', outcome: 'approved' });
    expect(fold(order.slice(0, 1), true)?.outcome).toBe('needs_review');
  });

  it('keeps a decline that a later one would cover while that one can still give way to a review', () => {
    const order = [
      delivered(0, 'declined', 1, 'review'),
      delivered(1, 'declined', 2, 'review'),
      delivered(1, 'approved', 3, 'review'),
    ];
    expect(fold(order, true)).toMatchObject({ inquiry_id: 'inq_0', outcome: 'declined' });
    // Without reviews a decline covers the earlier one: the list stays small.
    const declines = Array.from({ length: 30 }, (_, n) => decision(n, 'declined', n));
    expect(declines.reduce<Decision[]>((list, item) => withDecision(list, item) ?? list, [])).toHaveLength(1);
  });

  it('names the decline that stands, and the latest approval when none does', () => {
    expect(fold([decision(1, 'declined', 1), decision(2, 'approved', 5)])).toMatchObject({ inquiry_id: 'inq_2' });
    expect(fold([decision(2, 'declined', 1), decision(1, 'approved', 5)])).toMatchObject({
      inquiry_id: 'inq_2',
      outcome: 'declined',
    });
    expect(fold([decision(1, 'approved', 1), decision(2, 'approved', 5)])).toMatchObject({ inquiry_id: 'inq_2' });
  });

  it('changes nothing for the same decision seen again or an earlier one, and keeps what it holds small', () => {
    const first = decision(1, 'approved', 1);
    expect(withDecision([first], first)).toBeNull();
    expect(withDecision([first], { ...decision(1, 'declined', 0) })).toBeNull();
    expect(withDecision([first], decision(1, 'declined', 1))).toEqual([decision(1, 'declined', 1)]);
    const many = Array.from({ length: 30 }, (_, n) => decision(n, n % 2 === 0 ? 'declined' : 'approved', n));
    const kept = many.reduce<Decision[]>((list, item) => withDecision(list, item) ?? list, []);
    expect(kept.length).toBeLessThanOrEqual(2);
  });
});
