import { createHmac } from 'node:crypto';
import { isIdentityId } from '../identityId.js';
import { constantTimeEqual } from './constantTimeEqual.js';

/**
 * The token of a link to `/persona/start` for a user who has no session (the login gate blocked
 * them): `<identity id>.<expiry, unix seconds>.<HMAC-SHA256, base64url>`. It proves only that this
 * service issued it for that identity, until then.
 */

const mac = (key: Buffer, identityId: string, expiresAt: number) =>
  createHmac('sha256', key).update(`persona-start:${identityId}:${expiresAt}`).digest('base64url');

export function signStartToken(identityId: string, expiresAtSeconds: number, key: Buffer): string {
  return `${identityId}.${expiresAtSeconds}.${mac(key, identityId, expiresAtSeconds)}`;
}

export type StartTokenVerification =
  { valid: true; identityId: string } | { valid: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export function verifyStartToken(token: string, keys: readonly Buffer[], nowSeconds: number): StartTokenVerification {
  const [identityId, expiry, signature, ...rest] = token.split('.');
  if (
    rest.length > 0 ||
    !isIdentityId(identityId) ||
    expiry === undefined ||
    !/^\d{1,12}$/.test(expiry) ||
    signature === undefined ||
    !/^[A-Za-z0-9_-]{43}$/.test(signature)
  ) {
    return { valid: false, reason: 'malformed' };
  }
  const expiresAt = Number(expiry);
  let matched = false;
  for (const key of keys) matched = constantTimeEqual(signature, mac(key, identityId, expiresAt)) || matched;
  if (!matched) return { valid: false, reason: 'bad_signature' };
  if (expiresAt <= nowSeconds) return { valid: false, reason: 'expired' };
  return { valid: true, identityId };
}
