import { describe, expect, it } from 'vitest';
import type { AttributeMatch } from '../../src/matching/attributeMatch.js';
import type { Decision, DecisionOutcome } from '../../src/verification/record.js';
import { standingDecision, withDecision } from '../../src/verification/standingDecision.js';

const time = (second: number) => new Date(Date.UTC(2026, 6, 1, 10, 0, second)).toISOString();

const decision = (inquiry: number, outcome: 'approved' | 'declined', second: number): Decision => ({
  outcome,
  status: outcome,
  inquiry_id: `inq_${inquiry}`,
  inquiry_created_at: time(inquiry),
  decided_at: time(10 + second),
  purpose: 'onboarding',
});

/**
 * How an inquiry's verified document compared with the traits, fixed per inquiry as its document
 * is: not compared (before ATTRIBUTE_MATCH), a match, or a mismatch under each action.
 */
const CHECKS = ['none', 'match', 'flag', 'decline', 'review'] as const;
type Check = (typeof CHECKS)[number];

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

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const fold = (decisions: Decision[], heldForReview = false) =>
  standingDecision(
    decisions.reduce<Decision[]>((held, next) => withDecision(held, next, { heldForReview }) ?? held, []),
  );

/**
 * The rules stated directly, as an oracle written apart from the code: each inquiry counts with its
 * latest decision (a Persona decline wins at the same instant). An approval counts as its
 * comparison says: a match or `flag` approves, `decline` declines, `review` holds the inquiry's
 * first approval for review and lets a later one approve. The identity is declined while one of
 * those declines is not lifted by an approval decided later of an inquiry created later; otherwise
 * the latest approval or review stands (a review at the same instant as an approval).
 */
function oracle(history: { inquiry: number; outcome: 'approved' | 'declined'; second: number; check: Check }[]) {
  const counted = [...new Set(history.map((entry) => entry.inquiry))].map((inquiry) => {
    const own = history.filter((entry) => entry.inquiry === inquiry);
    const latest = own.reduce((found, entry) =>
      entry.second > found.second || (entry.second === found.second && entry.outcome === 'declined') ? entry : found,
    );
    const firstApproval = Math.min(...own.filter((entry) => entry.outcome === 'approved').map((entry) => entry.second));
    let outcome: DecisionOutcome = latest.outcome;
    if (latest.outcome === 'approved' && latest.check === 'decline') outcome = 'declined';
    if (latest.outcome === 'approved' && latest.check === 'review' && latest.second === firstApproval)
      outcome = 'needs_review';
    return { inquiry, outcome, second: latest.second };
  });
  const blocked = counted.some(
    (decline) =>
      decline.outcome === 'declined' &&
      !counted.some(
        (approval) =>
          approval.outcome === 'approved' && approval.inquiry > decline.inquiry && approval.second > decline.second,
      ),
  );
  if (blocked) return 'declined';
  const standing = counted
    .filter((entry) => entry.outcome !== 'declined')
    .sort((a, b) => b.second - a.second || (a.outcome === 'needs_review' ? -1 : 1))[0];
  return standing?.outcome ?? null;
}

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
