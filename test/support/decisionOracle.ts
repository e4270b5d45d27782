import type { DecisionOutcome } from '../../src/verification/record.js';

/** Persona times on one day, by second: inquiry `n` is created at `time(n)`, decisions come from `time(10)` on. */
export const time = (second: number) => new Date(Date.UTC(2026, 6, 1, 10, 0, second)).toISOString();

/**
 * How an inquiry's verified document compared with the traits, fixed per inquiry as its document
 * is: not compared (before ATTRIBUTE_MATCH), a match, or a mismatch under each action.
 */
export const CHECKS = ['none', 'match', 'flag', 'decline', 'review'] as const;
export type Check = (typeof CHECKS)[number];

/** One Persona decision of inquiry `inquiry`, made at `time(10 + second)`. */
export interface HistoryEntry {
  inquiry: number;
  outcome: 'approved' | 'declined';
  second: number;
  check: Check;
}

/** A small deterministic generator, so a failure can be replayed. */
export function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/**
 * The rules stated directly, as an oracle written apart from the code: each inquiry counts with its
 * latest decision (a Persona decline wins at the same instant). An approval counts as its
 * comparison says: a match or `flag` approves, `decline` declines, `review` holds the inquiry's
 * first approval for review and lets a later one approve. The identity is declined while one of
 * those declines is not lifted by an approval decided later of an inquiry created later; otherwise
 * the latest approval or review stands (a review at the same instant as an approval).
 */
export function oracle(history: HistoryEntry[]): DecisionOutcome | null {
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
