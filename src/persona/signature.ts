import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../security/constantTimeEqual.js';

/** One `t=...,v1=...` set of a `Persona-Signature` header; during Persona's rotation there are two. */
export interface SignatureSet {
  timestamp: number;
  signatures: string[];
}

/**
 * Persona sends one set, two while it rotates a secret, each with one `v1` (reference/persona-api.md,
 * "Webhooks"), about 170 characters in all. The bounds leave room for more and keep a forged header
 * from costing more than a few comparisons.
 */
export const SIGNATURE_HEADER_LIMITS = { maxLength: 2_048, maxSets: 4, maxSignaturesPerSet: 4 } as const;

export type HeaderFailure = 'missing_header' | 'malformed_header' | 'timestamp_out_of_tolerance';
export type SignatureFailure = HeaderFailure | 'no_matching_signature';
export type SignatureVerification = { valid: true } | { valid: false; reason: SignatureFailure };

/**
 * The received signatures worth an HMAC: those of sets within the tolerance, grouped by timestamp,
 * so that each secret is hashed over the body once per timestamp however many sets share it.
 */
export type SignatureCandidates = ReadonlyMap<number, readonly string[]>;

export type HeaderCheck = { ok: true; candidates: SignatureCandidates } | { ok: false; reason: HeaderFailure };

export interface CheckHeaderInput {
  /** The `Persona-Signature` header as received. */
  header: string | undefined;
  nowSeconds: number;
  toleranceSeconds: number;
}

/**
 * Splits `t=1,v1=ab t=2,v1=cd` into sets. Sets are separated by whitespace (reference/persona-api.md,
 * "Webhooks"); each needs exactly one `t` and at least one `v1`. Unknown schemes are ignored. Headers
 * beyond SIGNATURE_HEADER_LIMITS are malformed, refused before they are split.
 */
export function parseSignatureHeader(header: string): SignatureSet[] | undefined {
  if (header.length > SIGNATURE_HEADER_LIMITS.maxLength) return undefined;
  const rawSets = header.trim().split(/\s+/);
  if (rawSets.length > SIGNATURE_HEADER_LIMITS.maxSets) return undefined;
  const sets: SignatureSet[] = [];
  for (const rawSet of rawSets) {
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
        if (signatures.push(value) > SIGNATURE_HEADER_LIMITS.maxSignaturesPerSet) return undefined;
      }
    }
    if (timestamp === undefined || signatures.length === 0) return undefined;
    sets.push({ timestamp, signatures });
  }
  return sets.length > 0 ? sets : undefined;
}

/**
 * The first step, before the body is read: the header's shape, and the sets whose timestamp is
 * within the tolerance (past or future). Sets outside it are dropped here and never hashed.
 */
export function checkSignatureHeader(input: CheckHeaderInput): HeaderCheck {
  if (input.header === undefined || input.header.trim() === '') return { ok: false, reason: 'missing_header' };
  const sets = parseSignatureHeader(input.header);
  if (sets === undefined) return { ok: false, reason: 'malformed_header' };
  const candidates = new Map<number, string[]>();
  for (const set of sets) {
    if (Math.abs(input.nowSeconds - set.timestamp) > input.toleranceSeconds) continue;
    candidates.set(set.timestamp, [...(candidates.get(set.timestamp) ?? []), ...set.signatures]);
  }
  return candidates.size > 0 ? { ok: true, candidates } : { ok: false, reason: 'timestamp_out_of_tolerance' };
}

export function computeSignature(secret: string, timestamp: number, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * The second step, over the raw body: HMAC-SHA256 of `${t}.${rawBody}` with each secret as shown in
 * the dashboard, at most once per secret and timestamp, compared in constant time with every
 * signature received for that timestamp. Any match is enough.
 */
export function verifySignedBody(
  candidates: SignatureCandidates,
  /** The request body exactly as received: re-serialised JSON would not hash the same. */
  rawBody: Buffer,
  /** Our webhook secrets (with their `wbhsec_` prefix); several while we rotate ours. */
  secrets: readonly string[],
): SignatureVerification {
  for (const [timestamp, received] of candidates) {
    for (const secret of secrets) {
      const expected = computeSignature(secret, timestamp, rawBody);
      if (received.some((signature) => constantTimeEqual(signature.toLowerCase(), expected))) return { valid: true };
    }
  }
  return { valid: false, reason: 'no_matching_signature' };
}
