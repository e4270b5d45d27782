import { describe, expect, it } from 'vitest';
import {
  SIGNATURE_HEADER_LIMITS,
  checkSignatureHeader,
  computeSignature,
  parseSignatureHeader,
  verifySignedBody,
} from '../../src/persona/signature.js';

const body = Buffer.from('{"data":{"id":"evt_1"}}');
const secret = 'wbhsec_known-answer-secret';
const t = 1_700_000_000;
// Computed with Python's hmac module, not with the code under test.
const KNOWN_ANSWER = '6556964684064de61472597c310980a2082dbc5c8d679df98ef9e9afa08ac13b';

interface Overrides {
  rawBody?: Buffer;
  secrets?: string[];
  nowSeconds?: number;
}

/** Both steps, as the callback runs them: the header before the body is read, then the body. */
const verify = (header: string | undefined, overrides: Overrides = {}) => {
  const checked = checkSignatureHeader({ header, nowSeconds: overrides.nowSeconds ?? t, toleranceSeconds: 300 });
  if (!checked.ok) return { valid: false, reason: checked.reason };
  return verifySignedBody(checked.candidates, overrides.rawBody ?? body, overrides.secrets ?? [secret]);
};
const set = (timestamp: number, ...signatures: string[]) =>
  [`t=${timestamp}`, ...signatures.map((signature) => `v1=${signature}`)].join(',');

describe('Persona signature', () => {
  it('matches a known answer', () => {
    expect(computeSignature(secret, t, body)).toBe(KNOWN_ANSWER);
    expect(verify(`t=${t},v1=${KNOWN_ANSWER}`)).toEqual({ valid: true });
  });

  it('parses rotation headers into one set per timestamp', () => {
    expect(parseSignatureHeader(`t=1,v1=aa t=2,v1=bb,v1=cc`)).toEqual([
      { timestamp: 1, signatures: ['aa'] },
      { timestamp: 2, signatures: ['bb', 'cc'] },
    ]);
  });

  it.each(['v1=aa', 't=1', 't=x,v1=aa', 't=1,t=2,v1=aa', 'garbage', '=,=', KNOWN_ANSWER])(
    'rejects the malformed header %s',
    (header) => {
      expect(verify(header)).toEqual({ valid: false, reason: 'malformed_header' });
    },
  );

  it('accepts any matching set and any of several secrets', () => {
    expect(verify(`t=${t},v1=${'0'.repeat(64)} t=${t},v1=${KNOWN_ANSWER}`)).toEqual({ valid: true });
    expect(verify(`t=${t},v1=${KNOWN_ANSWER}`, { secrets: ['wbhsec_other', secret] })).toEqual({ valid: true });
  });

  it('checks the timestamp of the set that matched, both ways, at the edge of the tolerance', () => {
    const at = (now: number) => verify(`t=${t},v1=${KNOWN_ANSWER}`, { nowSeconds: now });
    expect(at(t + 300)).toEqual({ valid: true });
    expect(at(t - 300)).toEqual({ valid: true });
    expect(at(t + 301)).toEqual({ valid: false, reason: 'timestamp_out_of_tolerance' });
    expect(at(t - 301)).toEqual({ valid: false, reason: 'timestamp_out_of_tolerance' });
  });

  it('refuses a signature over other bytes, or with another secret', () => {
    expect(verify(`t=${t},v1=${KNOWN_ANSWER}`, { rawBody: Buffer.from('{"data":{"id":"evt_1"}} ') })).toEqual({
      valid: false,
      reason: 'no_matching_signature',
    });
    expect(verify(`t=${t},v1=${KNOWN_ANSWER}`, { secrets: ['wbhsec_known-answer-secreT'] })).toEqual({
      valid: false,
      reason: 'no_matching_signature',
    });
    expect(verify(`t=${t + 1},v1=${KNOWN_ANSWER}`)).toEqual({ valid: false, reason: 'no_matching_signature' });
  });

  it('refuses a missing header', () => {
    expect(verify(undefined)).toEqual({ valid: false, reason: 'missing_header' });
    expect(verify('  ')).toEqual({ valid: false, reason: 'missing_header' });
  });

  describe('bounds', () => {
    it('refuses headers beyond the limits before splitting them, however well formed their sets', () => {
      const sets = (count: number) => Array.from({ length: count }, () => set(t, KNOWN_ANSWER)).join(' ');
      expect(verify(sets(SIGNATURE_HEADER_LIMITS.maxSets))).toEqual({ valid: true });
      expect(verify(sets(SIGNATURE_HEADER_LIMITS.maxSets + 1))).toEqual({ valid: false, reason: 'malformed_header' });
      const signatures = (count: number) => set(t, ...Array.from({ length: count - 1 }, () => 'ab'), KNOWN_ANSWER);
      expect(verify(signatures(SIGNATURE_HEADER_LIMITS.maxSignaturesPerSet))).toEqual({ valid: true });
      expect(verify(signatures(SIGNATURE_HEADER_LIMITS.maxSignaturesPerSet + 1))).toEqual({
        valid: false,
        reason: 'malformed_header',
      });
      expect(verify(`${set(t, KNOWN_ANSWER)}${' '.repeat(SIGNATURE_HEADER_LIMITS.maxLength)}`)).toEqual({
        valid: false,
        reason: 'malformed_header',
      });
    });

    it('refuses the amplification header of 1,800 empty sets as malformed', () => {
      expect(verify(Array.from({ length: 1_800 }, () => 't=1,v1=').join(' '))).toEqual({
        valid: false,
        reason: 'malformed_header',
      });
    });

    it('drops sets outside the tolerance before any HMAC, and groups the rest by timestamp', () => {
      const checked = checkSignatureHeader({
        header: [set(t, 'aa'), set(t - 10_000, 'bb'), set(t, 'cc', 'dd'), set(t + 5, 'ee')].join(' '),
        nowSeconds: t,
        toleranceSeconds: 300,
      });
      expect(checked.ok && [...checked.candidates]).toEqual([
        [t, ['aa', 'cc', 'dd']],
        [t + 5, ['ee']],
      ]);
    });

    it('reports a stale timestamp without hashing, whether or not the signature would match', () => {
      expect(verify(set(t - 301, '0'.repeat(64)))).toEqual({ valid: false, reason: 'timestamp_out_of_tolerance' });
    });
  });
});
