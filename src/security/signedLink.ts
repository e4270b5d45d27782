import { createHmac } from 'node:crypto';
import { isIdentityId } from '../identityId.js';
import { constantTimeEqual } from './constantTimeEqual.js';

/**
 * The token of a link to `/persona/start` for a user who has no session (the login gate blocked
 * them, or a help-desk agent sent it): `<identity id>.<expiry, unix seconds>.<purpose>.<HMAC-SHA256,
 * base64url>`. It proves only that this service issued it for that identity and that purpose,
 * until then; it grants nothing else.
 */

/** The longest the service's own links (a blocked login, a settings change, an email) may be valid: SIGNED_LINK_TTL's upper bound. */
export const SELF_SERVICE_LINK_MAX_TTL_SECONDS = 24 * 3_600;

/**
 * The longest any link may be valid: a help-desk agent's link (`expires_in` of the admin API) may
 * outlive SIGNED_LINK_TTL, up to three days for a person who reads their email after a weekend. A
 * link whose expiry lies further ahead was signed while SIGNED_LINK_TTL had no bound (it took
 * `5200w`): it is refused, not honoured for a century.
 */
export const SIGNED_LINK_MAX_TTL_SECONDS = 72 * 3_600;

/** What a link may be used for: the identity's verification, or a step-up or recovery inquiry. */
export const LINK_PURPOSES = ['verification', 'step_up', 'recovery'] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

const mac = (key: Buffer, identityId: string, expiresAt: number, purpose: LinkPurpose) =>
  createHmac('sha256', key).update(`persona-start:${purpose}:${identityId}:${expiresAt}`).digest('base64url');

export function signStartToken(
  identityId: string,
  expiresAtSeconds: number,
  key: Buffer,
  purpose: LinkPurpose = 'verification',
): string {
  return `${identityId}.${expiresAtSeconds}.${purpose}.${mac(key, identityId, expiresAtSeconds, purpose)}`;
}

export type StartTokenVerification =
  | { valid: true; identityId: string; purpose: LinkPurpose; expiresAtSeconds: number }
  | { valid: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'beyond_max_ttl' };

export function verifyStartToken(token: string, keys: readonly Buffer[], nowSeconds: number): StartTokenVerification {
  const [identityId, expiry, purpose, signature, ...rest] = token.split('.');
  if (
    rest.length > 0 ||
    !isIdentityId(identityId) ||
    expiry === undefined ||
    !/^\d{1,12}$/.test(expiry) ||
    !LINK_PURPOSES.includes(purpose as LinkPurpose) ||
    signature === undefined ||
    !/^[A-Za-z0-9_-]{43}$/.test(signature)
  ) {
    return { valid: false, reason: 'malformed' };
  }
  const expiresAt = Number(expiry);
  const linkPurpose = purpose as LinkPurpose;
  let matched = false;
  for (const key of keys) {
    matched = constantTimeEqual(signature, mac(key, identityId, expiresAt, linkPurpose)) || matched;
  }
  if (!matched) return { valid: false, reason: 'bad_signature' };
  if (expiresAt <= nowSeconds) return { valid: false, reason: 'expired' };
  if (expiresAt > nowSeconds + SIGNED_LINK_MAX_TTL_SECONDS) return { valid: false, reason: 'beyond_max_ttl' };
  // One form for the identity (identityId.ts): a link signed before ids were lowered names it too.
  return { valid: true, identityId: identityId.toLowerCase(), purpose: linkPurpose, expiresAtSeconds: expiresAt };
}
