import { timingSafeEqual } from 'node:crypto';
import type { START_PURPOSES } from '../../http/startLinks.js';

/** A short code as stored: its handle, a digest of its secret, what it grants and until when. */
export interface IssuedCode {
  handle: string;
  secretDigest: Buffer;
  identityId: string;
  purpose: (typeof START_PURPOSES)[number];
  returnTo: string | null;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** Wrong secrets its handle may still take before it is destroyed. */
  attemptsLeft: number;
  issuedBy: string;
}

export type IssueResult =
  | 'issued'
  /** A live code has this handle: draw another. */
  | 'handle_taken'
  /** As many codes as the store keeps are live. */
  | 'full';

export type Redemption =
  | { kind: 'redeemed'; code: IssuedCode }
  /** No live code has this handle (never issued, used, expired or destroyed). */
  | { kind: 'unknown' }
  | { kind: 'wrong'; attemptsLeft: number }
  /** The last wrong secret its handle could take: the code is destroyed. */
  | { kind: 'destroyed'; code: IssuedCode };

/**
 * Where short codes live until used: in the process for the embedded default, in Postgres with
 * DATABASE_URL so that every replica redeems what any one issued. Issuing replaces the identity's
 * earlier codes; a code is used once.
 */
export interface ShortCodeStore {
  issue(code: IssuedCode, nowMs: number): Promise<IssueResult>;
  redeem(handle: string, presentedDigest: Buffer, nowMs: number): Promise<Redemption>;
}

/**
 * The one judgement of a presented secret, for every store: `keep` is the code to store afterwards
 * (undefined: delete it).
 */
export function judge(
  stored: IssuedCode | undefined,
  presentedDigest: Buffer,
  nowMs: number,
): { redemption: Redemption; keep: IssuedCode | undefined } {
  if (stored === undefined || stored.expiresAt <= nowMs) return { redemption: { kind: 'unknown' }, keep: undefined };
  const matches =
    presentedDigest.length === stored.secretDigest.length && timingSafeEqual(presentedDigest, stored.secretDigest);
  if (matches) return { redemption: { kind: 'redeemed', code: stored }, keep: undefined };
  const attemptsLeft = stored.attemptsLeft - 1;
  return attemptsLeft <= 0
    ? { redemption: { kind: 'destroyed', code: stored }, keep: undefined }
    : { redemption: { kind: 'wrong', attemptsLeft }, keep: { ...stored, attemptsLeft } };
}
