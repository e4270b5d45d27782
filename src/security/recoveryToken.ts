import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { isUuid } from '../identityId.js';

/**
 * What ties a recovery by verification to the browser that asked for it: the identity to recover
 * (the nil UUID when the identifier named no recoverable identity), the inquiry opened for it, and
 * an expiry, kept in a cookie of that browser only. It is sealed (AES-256-GCM), not merely signed
 * like the start links (signedLink.ts): a signed token would show the identity id, and so tell
 * whoever typed an identifier that the account exists. Sealed, both kinds have the same length and
 * look alike.
 */
export interface RecoveryToken {
  identityId: string;
  inquiryId: string;
  expiresAtSeconds: number;
}

const VERSION = 'r1';
const PURPOSE = 'recovery';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A key of its own per link signing key, so a recovery token can never be read as anything else. */
const keyFor = (linkKey: Buffer) => Buffer.from(hkdfSync('sha256', linkKey, 'ory-persona-idv', 'recovery token', 32));

export function sealRecoveryToken(token: RecoveryToken, linkKey: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(linkKey), iv);
  cipher.setAAD(Buffer.from(`${VERSION}:${PURPOSE}`));
  const payload = JSON.stringify({ p: PURPOSE, i: token.identityId, q: token.inquiryId, e: token.expiresAtSeconds });
  const sealed = Buffer.concat([iv, cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${sealed.toString('base64url')}`;
}

export type RecoveryTokenReading =
  { valid: true; token: RecoveryToken } | { valid: false; reason: 'malformed' | 'bad_seal' | 'expired' };

function open(sealed: Buffer, linkKey: Buffer): unknown {
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(linkKey), sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${VERSION}:${PURPOSE}`));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Opens a token with any of the keys (rotation), and checks its purpose and expiry. */
export function openRecoveryToken(text: string, linkKeys: readonly Buffer[], nowSeconds: number): RecoveryTokenReading {
  const [version, body, ...rest] = text.split('.');
  if (version !== VERSION || body === undefined || rest.length > 0 || !/^[A-Za-z0-9_-]{40,1000}$/.test(body)) {
    return { valid: false, reason: 'malformed' };
  }
  const sealed = Buffer.from(body, 'base64url');
  const payload = linkKeys.map((key) => open(sealed, key)).find((opened) => opened !== undefined) as
    Record<string, unknown> | undefined;
  if (payload === undefined) return { valid: false, reason: 'bad_seal' };
  const { p: purpose, i: identityId, q: inquiryId, e: expiresAt } = payload;
  if (purpose !== PURPOSE || !isUuid(identityId) || typeof inquiryId !== 'string' || typeof expiresAt !== 'number') {
    return { valid: false, reason: 'malformed' };
  }
  if (expiresAt <= nowSeconds) return { valid: false, reason: 'expired' };
  return { valid: true, token: { identityId, inquiryId, expiresAtSeconds: expiresAt } };
}
