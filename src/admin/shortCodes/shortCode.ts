import { createHmac, hkdfSync, randomInt } from 'node:crypto';

/**
 * Short codes a help-desk agent reads to a caller, who types them at `/persona/start/code`.
 *
 * Ten symbols of Crockford's base32 (no I, L, O or U, so nothing reads as another symbol; typed
 * O, I and L are taken as 0, 1 and 1), shown as `XXXXX-XXXXX`. The first four symbols are the
 * code's handle (2^20 of them), the other six its secret (2^30).
 *
 * Never guessable within its lifetime, whoever tries and from how many addresses: the store lets a
 * handle take at most MAX_WRONG_ATTEMPTS wrong secrets before it destroys the code, so the chance
 * that any one code is guessed before it expires or is used is at most 5 / 2^30, about
 * 4.7 x 10^-9 (five tries at a six-digit code would be 5 x 10^-6). Over a million codes issued, the
 * expected number ever guessed is below 0.005. A guess naming no live handle gets the same answer as
 * a wrong secret, so handles cannot be found first and then attacked; each failed guess also costs
 * its client one of a few attempts per window (clientAttempts.ts), which bounds how fast anyone can
 * destroy other people's codes (a nuisance: the agent issues another, never a disclosure).
 */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const HANDLE_LENGTH = 4;
const SECRET_LENGTH = 6;
export const CODE_LENGTH = HANDLE_LENGTH + SECRET_LENGTH;
export const MAX_WRONG_ATTEMPTS = 5;

/** Codes are read out and typed at once: 15 minutes unless the agent says otherwise, an hour at most. */
export const CODE_DEFAULT_TTL_MS = 15 * 60_000;
export const CODE_MAX_TTL_MS = 60 * 60_000;

export interface CodeParts {
  handle: string;
  secret: string;
}

const draw = (length: number) => Array.from({ length }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');

export function drawCode(): CodeParts & { display: string } {
  const handle = draw(HANDLE_LENGTH);
  const secret = draw(SECRET_LENGTH);
  const symbols = handle + secret;
  return { handle, secret, display: `${symbols.slice(0, 5)}-${symbols.slice(5)}` };
}

/** What a person typed, as handle and secret; undefined when it cannot be a code at all. */
export function readTypedCode(typed: string): CodeParts | undefined {
  if (typed.length > 64) return undefined;
  const symbols = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (symbols.length !== CODE_LENGTH || [...symbols].some((symbol) => !CODE_ALPHABET.includes(symbol)))
    return undefined;
  return { handle: symbols.slice(0, HANDLE_LENGTH), secret: symbols.slice(HANDLE_LENGTH) };
}

/**
 * Stores keep a keyed digest of the secret, never the secret: a copy of the `short_codes` table
 * redeems nothing without the service's key.
 */
export function secretDigester(linkSigningKey: Buffer): (parts: CodeParts) => Buffer {
  const key = Buffer.from(hkdfSync('sha256', linkSigningKey, 'ory-persona-idv', 'short codes', 32));
  return ({ handle, secret }) => createHmac('sha256', key).update(`${handle}:${secret}`).digest();
}
