import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();

/**
 * Compares two secrets without leaking, through timing, how much of them matched or how long the
 * expected one is: both sides are hashed to equal-length digests before the constant-time compare.
 */
export function constantTimeEqual(received: string | Buffer, expected: string | Buffer): boolean {
  return timingSafeEqual(digest(received), digest(expected));
}

/** True when `received` equals any of the accepted secrets; every secret is compared, match or not. */
export function matchesAnySecret(received: string, secrets: readonly string[]): boolean {
  let matched = false;
  for (const secret of secrets) matched = constantTimeEqual(received, secret) || matched;
  return matched;
}
