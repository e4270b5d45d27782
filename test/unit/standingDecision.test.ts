import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/verification/record.js';
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

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const fold = (decisions: Decision[]) =>
  standingDecision(decisions.reduce<Decision[]>((held, next) => withDecision(held, next) ?? held, []));

/**
 * The rules stated directly, as an oracle written apart from the code: each inquiry counts with its
 * latest decision (a decline at the same instant wins); the identity is declined while one of
 * those declines is not lifted by an approval decided later of an inquiry created later.
 */
function oracle(decisions: Decision[]): 'approved' | 'declined' | null {
  const latestPerInquiry = new Map<string, Decision>();
  for (const candidate of decisions) {
    const held = latestPerInquiry.get(candidate.inquiry_id as string);
    const later =
      held === undefined ||
      Date.parse(candidate.decided_at as string) > Date.parse(held.decided_at as string) ||
      (candidate.decided_at === held.decided_at && candidate.outcome === 'declined');
    if (later) latestPerInquiry.set(candidate.inquiry_id as string, candidate);
  }
  const latest = [...latestPerInquiry.values()];
  const blocked = latest.some(
    (decline) =>
      decline.outcome === 'declined' &&
      !latest.some(
        (approval) =>
          approval.outcome === 'approved' &&
          Date.parse(approval.inquiry_created_at as string) > Date.parse(decline.inquiry_created_at as string) &&
          Date.parse(approval.decided_at as string) > Date.parse(decline.decided_at as string),
      ),
  );
  if (blocked) return 'declined';
  return latest.length > 0 ? 'approved' : null;
}

describe('the standing decision', () => {
  it('follows the rules whatever the order of delivery, with duplicates (20,000 random histories)', () => {
    const next = random(20261129);
    for (let trial = 0; trial < 20_000; trial += 1) {
      const decisions: Decision[] = [];
      const count = 1 + Math.floor(next() * 6);
      for (let n = 0; n < count; n += 1) {
        decisions.push(
          decision(Math.floor(next() * 4), next() < 0.5 ? 'approved' : 'declined', Math.floor(next() * 12)),
        );
      }
      const delivered = [...decisions, ...decisions.filter(() => next() < 0.3)].sort(() => next() - 0.5);
      const expected = oracle(decisions);
      const actual = fold(delivered)?.outcome ?? null;
      if (actual !== expected) {
        throw new Error(
          `delivered ${JSON.stringify(delivered.map((d) => [d.inquiry_id, d.outcome, d.decided_at]))}: ${actual}, expected ${expected}`,
        );
      }
    }
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
