import { describe, expect, it } from 'vitest';
import { NIL_UUID } from '../../src/identityId.js';
import { openRecoveryToken, sealRecoveryToken } from '../../src/security/recoveryToken.js';
import { signStartToken } from '../../src/security/signedLink.js';

const KEY = Buffer.from('recovery-test-key-0123456789abcdef');
const OTHER = Buffer.from('another-key-0123456789abcdef-xyz');
const IDENTITY = '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34';
const token = (identityId = IDENTITY) => ({
  identityId,
  inquiryId: 'inq_AbCdEfGhIjKlMnOpQrStUvWxY',
  expiresAtSeconds: 2_000,
});

describe('recovery tokens', () => {
  it('open to what was sealed, with any of the rotated keys', () => {
    const sealed = sealRecoveryToken(token(), KEY);
    expect(openRecoveryToken(sealed, [OTHER, KEY], 1_000)).toEqual({ valid: true, token: token() });
  });

  it('do not show the identity, and look alike whether an identity was found or not', () => {
    const found = sealRecoveryToken(token(), KEY);
    const none = sealRecoveryToken(token(NIL_UUID), KEY);
    expect(found).not.toContain(IDENTITY);
    expect(Buffer.from(found.slice(3), 'base64url').toString('latin1')).not.toContain(IDENTITY);
    expect(found.length).toBe(none.length);
    expect(sealRecoveryToken(token(), KEY)).not.toBe(found);
  });

  it.each([
    ['expired', (sealed: string) => openRecoveryToken(sealed, [KEY], 2_000), 'expired'],
    ['opened with an unknown key', (sealed: string) => openRecoveryToken(sealed, [OTHER], 1_000), 'bad_seal'],
    [
      'altered',
      (sealed: string) => {
        const bytes = Buffer.from(sealed.slice(3), 'base64url');
        bytes[20] = (bytes[20] ?? 0) ^ 1;
        return openRecoveryToken(`r1.${bytes.toString('base64url')}`, [KEY], 1_000);
      },
      'bad_seal',
    ],
    ['cut short', (sealed: string) => openRecoveryToken(sealed.slice(0, 30), [KEY], 1_000), 'malformed'],
    [
      'a start link token',
      () => openRecoveryToken(signStartToken(IDENTITY, 2_000, KEY, 'recovery'), [KEY], 1_000),
      'malformed',
    ],
  ])('are refused when %s', (_name, open, reason) => {
    expect(open(sealRecoveryToken(token(), KEY))).toEqual({ valid: false, reason });
  });
});
