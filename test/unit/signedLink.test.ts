import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIGNED_LINK_MAX_TTL_SECONDS, signStartToken, verifyStartToken } from '../../src/security/signedLink.js';

const key = Buffer.from('link-key-0123456789abcdef0123456789');
const identityId = '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34';
const otherIdentity = '0b9d7a4c-1e2f-4a3b-8c5d-6e7f8a9b0c1d';
const now = 1_800_000_000;

describe('signed start links', () => {
  it('verifies its own token until it expires, and not at or after its expiry', () => {
    const token = signStartToken(identityId, now + 60, key);
    const valid = { valid: true, identityId, purpose: 'verification', expiresAtSeconds: now + 60 };
    expect(verifyStartToken(token, [key], now)).toEqual(valid);
    expect(verifyStartToken(token, [key], now + 59)).toEqual(valid);
    expect(verifyStartToken(token, [key], now + 60)).toEqual({ valid: false, reason: 'expired' });
  });

  it('refuses a genuine token whose expiry lies beyond the longest lifetime a link may have', () => {
    expect(SIGNED_LINK_MAX_TTL_SECONDS).toBe(72 * 3_600);
    const longest = signStartToken(identityId, now + SIGNED_LINK_MAX_TTL_SECONDS, key);
    expect(verifyStartToken(longest, [key], now).valid).toBe(true);
    for (const expiry of [now + SIGNED_LINK_MAX_TTL_SECONDS + 1, now + 5200 * 7 * 86_400]) {
      expect(verifyStartToken(signStartToken(identityId, expiry, key), [key], now)).toEqual({
        valid: false,
        reason: 'beyond_max_ttl',
      });
    }
  });

  it('matches an HMAC computed independently', () => {
    const expected = createHmac('sha256', key).update(`persona-start:step_up:${identityId}:${now}`).digest('base64url');
    expect(signStartToken(identityId, now, key, 'step_up')).toBe(`${identityId}.${now}.step_up.${expected}`);
  });

  it('refuses a token moved to another identity, given a later expiry or another purpose', () => {
    const [, expiry, purpose, signature] = signStartToken(identityId, now + 60, key).split('.');
    for (const forged of [
      `${otherIdentity}.${expiry}.${purpose}.${signature}`,
      `${identityId}.${now + 86_400}.${purpose}.${signature}`,
      `${identityId}.${expiry}.recovery.${signature}`,
    ]) {
      expect(verifyStartToken(forged, [key], now)).toEqual({ valid: false, reason: 'bad_signature' });
    }
  });

  it('accepts any key of a rotation list and refuses other keys', () => {
    const token = signStartToken(identityId, now + 60, key);
    expect(verifyStartToken(token, [Buffer.from('new-key-0123456789abcdef0123456789'), key], now).valid).toBe(true);
    expect(verifyStartToken(token, [Buffer.from('other-key-0123456789abcdef01234567')], now)).toEqual({
      valid: false,
      reason: 'bad_signature',
    });
  });

  it.each([
    '',
    'garbage',
    `${identityId}.${now}`,
    `00000000-0000-0000-0000-000000000000.${now}.${'a'.repeat(43)}`,
    `${identityId}.soon.verification.${'a'.repeat(43)}`,
    `${identityId}.${now}.verification.${'a'.repeat(42)}`,
    `${identityId}.${now}.verification.${'a'.repeat(43)}.extra`,
    `${identityId}.${now}.admin.${'a'.repeat(43)}`,
    `${identityId}.${now}.${'a'.repeat(43)}`,
  ])('refuses the malformed token %j', (token) => {
    expect(verifyStartToken(token, [key], now)).toEqual({ valid: false, reason: 'malformed' });
  });
});
