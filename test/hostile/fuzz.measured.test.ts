import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJson, readBody } from '../../src/http/body.js';
import { toHttpError } from '../../src/http/httpError.js';
import { SIGNATURE_HEADER_LIMITS, checkSignatureHeader, verifySignedBody } from '../../src/persona/signature.js';
import { fakeRequest } from '../support/fakeRequest.js';

/**
 * Random and adversarial input for the two parsers an outsider reaches without credentials: the
 * Persona-Signature header and the request body reader. No exception may escape other than the
 * refusals the service answers with 4xx, and no input may cost more than a bounded amount of work.
 */

const NOW = 1_800_000_000;
const SECRETS = ['wbhsec_fuzz_secret_one_0123456789', 'wbhsec_fuzz_secret_two_0123456789'];

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const timestamp = fc.oneof(
  fc.integer({ min: NOW - 400, max: NOW + 400 }),
  fc.integer({ min: 0, max: 999_999_999_999 }),
  fc.constant(1),
);
/** Headers that look like Persona's, with every part bent: counts, spacing, keys, values. */
const signatureSet = fc
  .tuple(
    fc.array(
      fc.oneof(
        timestamp.map((t) => `t=${t}`),
        hex64.map((h) => `v1=${h}`),
        fc.string().map((v) => `v1=${v}`),
        fc.string(),
      ),
      {
        maxLength: 8,
      },
    ),
    fc.constantFrom(',', ', ', ',,', ';'),
  )
  .map(([parts, separator]) => parts.join(separator));
const header = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .tuple(fc.array(signatureSet, { maxLength: 10 }), fc.constantFrom(' ', '  ', '\t', '\n'))
    .map(([sets, gap]) => sets.join(gap)),
  fc.integer({ min: 1, max: 4_000 }).map((count) => Array.from({ length: count }, () => 't=1,v1=').join(' ')),
  fc.integer({ min: 1, max: 2_000 }).map((count) => `t=${NOW},${'v1=ab,'.repeat(count)}`),
);

/** The slowest of `inputs` when each is run alone a few times: noise (GC, JIT) stays out of it. */
function slowestMs<T>(inputs: T[], run: (input: T) => unknown): number {
  const once = (input: T) => {
    const started = performance.now();
    run(input);
    return performance.now() - started;
  };
  const timed = inputs.map((input) => ({ input, ms: once(input) })).sort((a, b) => b.ms - a.ms);
  return Math.max(...timed.slice(0, 5).map(({ input }) => Math.min(...Array.from({ length: 20 }, () => once(input)))));
}

describe('Persona-Signature header', () => {
  const body = Buffer.alloc(256 * 1024, 0x7b);

  it('never throws, keeps at most the bounded number of timestamps and signatures, all within the tolerance', () => {
    fc.assert(
      fc.property(header, (text) => {
        const check = checkSignatureHeader({ header: text, nowSeconds: NOW, toleranceSeconds: 300 });
        if (!check.ok) return;
        expect(check.candidates.size).toBeLessThanOrEqual(SIGNATURE_HEADER_LIMITS.maxSets);
        for (const [t, signatures] of check.candidates) {
          expect(Math.abs(NOW - t)).toBeLessThanOrEqual(300);
          expect(signatures.length).toBeLessThanOrEqual(
            SIGNATURE_HEADER_LIMITS.maxSets * SIGNATURE_HEADER_LIMITS.maxSignaturesPerSet,
          );
        }
        expect(verifySignedBody(check.candidates, Buffer.from('{}'), SECRETS)).toEqual({
          valid: false,
          reason: 'no_matching_signature',
        });
      }),
      { numRuns: 3_000 },
    );
  });

  it('costs any header at most a few HMACs over the largest body: never more than 4 timestamps x 2 secrets', () => {
    const headers = fc.sample(header, 2_000);
    // The bound: a full header of in-tolerance sets, each its own timestamp, over a body at the limit.
    const worstAllowed = Array.from({ length: SIGNATURE_HEADER_LIMITS.maxSets }, (_, i) =>
      [
        `t=${NOW - i}`,
        ...Array.from({ length: SIGNATURE_HEADER_LIMITS.maxSignaturesPerSet }, () => `v1=${'0'.repeat(64)}`),
      ].join(','),
    ).join(' ');
    const check = (text: string) => {
      const checked = checkSignatureHeader({ header: text, nowSeconds: NOW, toleranceSeconds: 300 });
      if (checked.ok) verifySignedBody(checked.candidates, body, SECRETS);
    };
    const bound = slowestMs([worstAllowed], check);
    expect(slowestMs(headers, check)).toBeLessThanOrEqual(bound * 1.5 + 0.5);
  });
});

describe('request body reader', () => {
  const limits = { limitBytes: 4_096, idleTimeoutMs: 60 };

  const request = fc.record({
    chunks: fc.array(fc.uint8Array({ maxLength: 2_048 }), { maxLength: 6 }),
    declaredLength: fc.oneof(
      fc.constant<string | undefined>(undefined),
      fc.constant('exact'),
      fc.nat({ max: 100_000 }).map(String),
      fc.constantFrom('-1', 'abc', '1e3', ' 12', '99999999999999999999'),
    ),
    encoding: fc.constantFrom<string | undefined>(undefined, 'identity', 'gzip', 'br', 'IDENTITY', ''),
    ends: fc.boolean(),
    gapMs: fc.constantFrom(0, 5, 100),
    json: fc.option(fc.json({ maxDepth: 4 }), { nil: undefined }),
  });

  it('settles every request within the idle timeout, with the bytes or a 4xx refusal', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const chunks = input.json === undefined ? input.chunks.map(Buffer.from) : [Buffer.from(input.json)];
        const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
        const headers: Record<string, string> = {};
        if (input.declaredLength !== undefined)
          headers['content-length'] = input.declaredLength === 'exact' ? String(total) : input.declaredLength;
        if (input.encoding !== undefined) headers['content-encoding'] = input.encoding;
        const req = fakeRequest(headers);

        const started = performance.now();
        const reading = readBody(req, limits).then(
          (bytes) => ({ bytes }),
          (error: unknown) => ({ error }),
        );
        void (async () => {
          for (const chunk of chunks) {
            if (req.destroyed) return;
            req.write(chunk);
            if (input.gapMs > 0) await new Promise((resolve) => setTimeout(resolve, input.gapMs));
          }
          if (input.ends && !req.destroyed) req.end();
        })();
        const outcome = await reading;
        const elapsed = performance.now() - started;
        req.destroy();

        // Never longer than the pauses the client made, plus one idle timeout: a stalled client is
        // cut off, whatever it sent before (the slack covers timers firing late on a busy machine).
        expect(elapsed).toBeLessThan(chunks.length * (input.gapMs + 25) + limits.idleTimeoutMs * 2 + 400);
        if ('bytes' in outcome) {
          expect(outcome.bytes.length).toBeLessThanOrEqual(limits.limitBytes);
          try {
            parseJson(outcome.bytes);
          } catch (error) {
            expect(toHttpError(error).status).toBe(400);
          }
        } else {
          const refusal = toHttpError(outcome.error);
          expect(refusal.status, String(outcome.error)).toBeGreaterThanOrEqual(400);
          expect(refusal.status, String(outcome.error)).toBeLessThan(500);
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
