import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../security/constantTimeEqual.js';

/** One `t=...,v1=...` set of a `Persona-Signature` header; during Persona's rotation there are two. */
export interface SignatureSet {
  timestamp: number;
  signatures: string[];
}

export type SignatureVerification =
  | { valid: true }
  | {
      valid: false;
      reason: 'missing_header' | 'malformed_header' | 'timestamp_out_of_tolerance' | 'no_matching_signature';
    };

export interface VerifySignatureInput {
  /** The `Persona-Signature` header as received. */
  header: string | undefined;
  /** The request body exactly as received: re-serialised JSON would not hash the same. */
  rawBody: Buffer;
  /** Our webhook secrets (with their `wbhsec_` prefix); several while we rotate ours. */
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
}

/**
 * Splits `t=1,v1=ab t=2,v1=cd` into sets. Sets are separated by whitespace (reference/persona-api.md,
 * "Webhooks"); each needs exactly one `t` and at least one `v1`. Unknown schemes are ignored.
 */
export function parseSignatureHeader(header: string): SignatureSet[] | undefined {
  const sets: SignatureSet[] = [];
  for (const rawSet of header.trim().split(/\s+/)) {
    let timestamp: number | undefined;
    const signatures: string[] = [];
    for (const pair of rawSet.split(',')) {
      const separator = pair.indexOf('=');
      const key = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      if (separator <= 0) return undefined;
      if (key === 't') {
        if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
        timestamp = Number(value);
      } else if (key === 'v1') {
        signatures.push(value);
      }
    }
    if (timestamp === undefined || signatures.length === 0) return undefined;
    sets.push({ timestamp, signatures });
  }
  return sets.length > 0 ? sets : undefined;
}

export function computeSignature(secret: string, timestamp: number, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * Verifies Persona's webhook signature: HMAC-SHA256 over `${t}.${rawBody}` with the secret as shown
 * in the dashboard. Any set signed by any of our secrets within the tolerance (past or future) is enough.
 */
export function verifyPersonaSignature(input: VerifySignatureInput): SignatureVerification {
  if (input.header === undefined || input.header.trim() === '') return { valid: false, reason: 'missing_header' };
  const sets = parseSignatureHeader(input.header);
  if (sets === undefined) return { valid: false, reason: 'malformed_header' };

  let signedOutsideTolerance = false;
  for (const set of sets) {
    const withinTolerance = Math.abs(input.nowSeconds - set.timestamp) <= input.toleranceSeconds;
    for (const secret of input.secrets) {
      const expected = computeSignature(secret, set.timestamp, input.rawBody);
      for (const received of set.signatures) {
        if (!constantTimeEqual(received.toLowerCase(), expected)) continue;
        if (withinTolerance) return { valid: true };
        signedOutsideTolerance = true;
      }
    }
  }
  return { valid: false, reason: signedOutsideTolerance ? 'timestamp_out_of_tolerance' : 'no_matching_signature' };
}
