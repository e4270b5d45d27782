import { describe, expect, it } from 'vitest';
import { computeSignature, parseSignatureHeader, verifyPersonaSignature } from '../../src/persona/signature.js';

const body = Buffer.from('{"data":{"id":"evt_1"}}');
const secret = 'wbhsec_known-answer-secret';
const t = 1_700_000_000;
// Computed with Python's hmac module, not with the code under test.
const KNOWN_ANSWER = '6556964684064de61472597c310980a2082dbc5c8d679df98ef9e9afa08ac13b';

const verify = (header: string | undefined, overrides: Partial<Parameters<typeof verifyPersonaSignature>[0]> = {}) =>
  verifyPersonaSignature({
    header,
    rawBody: body,
    secrets: [secret],
    nowSeconds: t,
    toleranceSeconds: 300,
    ...overrides,
  });

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
});
