import { describe, expect, it } from 'vitest';
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  MAX_WRONG_ATTEMPTS,
  drawCode,
  readTypedCode,
  secretDigester,
} from '../../src/admin/shortCodes/shortCode.js';
import { judge, type IssuedCode } from '../../src/admin/shortCodes/shortCodeStore.js';

describe('short codes: never guessable within their lifetime', () => {
  it('draw ten symbols of 32, four of them the handle and six the secret', () => {
    expect(new Set(CODE_ALPHABET).size).toBe(32);
    expect(CODE_LENGTH).toBe(10);
    const seen = new Set<string>();
    for (let draw = 0; draw < 2_000; draw += 1) {
      const { handle, secret, display } = drawCode();
      expect(handle).toHaveLength(4);
      expect(secret).toHaveLength(6);
      expect(display).toBe(`${(handle + secret).slice(0, 5)}-${(handle + secret).slice(5)}`);
      seen.add(display);
    }
    // 2,000 draws from 2^50 codes: any repeat would mean a broken random source.
    expect(seen.size).toBe(2_000);
  });

  it('give a guesser at most five tries at a secret of 2^30: below one chance in 200 million per code', () => {
    const chance = MAX_WRONG_ATTEMPTS / CODE_ALPHABET.length ** 6;
    expect(chance).toBeLessThan(5e-9);
  });

  it('read what people type and refuse what cannot be a code', () => {
    expect(readTypedCode('abcde-fghjk')).toEqual({ handle: 'ABCD', secret: 'EFGHJK' });
    expect(readTypedCode('OIL23 45678')).toEqual({ handle: '0112', secret: '345678' });
    for (const typed of ['ABCDE-FGHJ', 'ABCDE-FGHJKM', 'ABCDE-FGHJU', '', 'x'.repeat(100)]) {
      expect(readTypedCode(typed)).toBeUndefined();
    }
  });

  it('judge a presented secret: used once, a wrong one costs a try, the last wrong one destroys it', () => {
    const digest = secretDigester(Buffer.from('key-0123456789abcdef0123456789abcdef'));
    const right = digest({ handle: 'ABCD', secret: 'EFGHJK' });
    const wrong = digest({ handle: 'ABCD', secret: 'EFGHJM' });
    const code: IssuedCode = {
      handle: 'ABCD',
      secretDigest: right,
      identityId: 'id',
      purpose: 'verification',
      returnTo: null,
      expiresAt: 1_000,
      attemptsLeft: 2,
      issuedBy: 'agent',
    };
    expect(judge(code, right, 999)).toEqual({ redemption: { kind: 'redeemed', code }, keep: undefined });
    expect(judge(code, right, 1_000)).toEqual({ redemption: { kind: 'unknown' }, keep: undefined });
    expect(judge(undefined, right, 0)).toEqual({ redemption: { kind: 'unknown' }, keep: undefined });
    const once = judge(code, wrong, 0);
    expect(once).toEqual({ redemption: { kind: 'wrong', attemptsLeft: 1 }, keep: { ...code, attemptsLeft: 1 } });
    expect(judge(once.keep, wrong, 0)).toEqual({
      redemption: { kind: 'destroyed', code: { ...code, attemptsLeft: 1 } },
      keep: undefined,
    });
    // Another key makes another digest: a copy of the store redeems nothing.
    const elsewhere = secretDigester(Buffer.from('another-key-0123456789abcdef012345'));
    expect(elsewhere({ handle: 'ABCD', secret: 'EFGHJK' }).equals(right)).toBe(false);
  });
});
