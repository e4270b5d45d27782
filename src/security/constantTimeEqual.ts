import { timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented secret with an expected one in constant time once their lengths agree, as
 * Stripe's webhook library does: only the length can be learnt from timing, never how much of the
 * secret matched.
 */
function equalBytes(received: Buffer, expected: Buffer): boolean {
  return received.length === expected.length && timingSafeEqual(received, expected);
}

export function constantTimeEqual(received: string, expected: string): boolean {
  return equalBytes(Buffer.from(received), Buffer.from(expected));
}

/**
 * A check of a presented secret against a list (several during rotation): the secrets are turned
 * into bytes once, and every one is compared, match or not.
 */
export function secretMatcher(secrets: readonly string[]): (received: string) => boolean {
  const expected = secrets.map((secret) => Buffer.from(secret));
  return (received) => {
    const presented = Buffer.from(received);
    let matched = false;
    for (const secret of expected) matched = equalBytes(presented, secret) || matched;
    return matched;
  };
}
