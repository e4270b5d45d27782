import { describe, expect, it } from 'vitest';
import { OutboundError } from '../../src/outbound/outboundError.js';
import { RETRY_POLICY, deadlineIn, retryDelayMs, withRetries } from '../../src/outbound/retry.js';

const status = (code: number, resetSeconds?: number) =>
  new OutboundError(
    'persona',
    'createInquiry',
    { kind: 'status', status: code },
    { rateLimit: { limit: undefined, remaining: undefined, resetSeconds } },
  );
const half = () => 0.5;

describe('retryDelayMs', () => {
  it.each([
    ['a timeout', new OutboundError('kratos', 'getIdentity', { kind: 'timeout' })],
    ['a network error', new OutboundError('kratos', 'getIdentity', { kind: 'network', code: 'ECONNRESET' })],
    ['a 500', status(500)],
    ['a 503', status(503)],
  ])('retries %s with growing, jittered delays', (_name, error) => {
    expect(retryDelayMs(error, 1, 10_000, half)).toBe(75);
    expect(retryDelayMs(error, 2, 10_000, half)).toBe(150);
    expect(retryDelayMs(error, 1, 10_000, () => 0)).toBe(50);
    expect(retryDelayMs(error, 1, 10_000, () => 1)).toBe(100);
  });

  it.each([
    ['a 400', status(400)],
    ['a 401', status(401)],
    ['a 404', status(404)],
    ['a 409', status(409)],
    ['a 501', status(501)],
    ['an unexpected body', new OutboundError('persona', 'getInquiry', { kind: 'invalid_response' })],
    ['a programming error', new TypeError('x is undefined')],
    [
      'a 500 Persona stored under the Idempotency-Key',
      new OutboundError('persona', 'createInquiry', { kind: 'status', status: 500 }, { answerStored: true }),
    ],
    ['a redirect', new OutboundError('kratos', 'toSession', { kind: 'redirect', status: 307 })],
    // Kratos's and Ory Network's: a retry within the request is refused too, and spends the limit.
    ['a 429 that does not say when its window resets', status(429)],
  ])('gives up at once on %s', (_name, error) => {
    expect(retryDelayMs(error, 1, 10_000, half)).toBeUndefined();
  });

  it('waits for the rate-limit reset Persona announces, when that fits', () => {
    expect(retryDelayMs(status(429, 2), 1, 10_000, half)).toBe(2_000);
    expect(retryDelayMs(status(429, 30), 1, 10_000, half)).toBeUndefined();
  });

  it('stops after the attempt budget and before the deadline', () => {
    expect(retryDelayMs(status(500), RETRY_POLICY.maxAttempts, 10_000, half)).toBeUndefined();
    expect(retryDelayMs(status(500), 1, 174, half)).toBeUndefined();
    expect(retryDelayMs(status(500), 1, 175, half)).toBe(75);
  });
});

describe('withRetries', () => {
  it('returns the first success', async () => {
    let calls = 0;
    const result = await withRetries(
      async () => {
        calls += 1;
        if (calls < 3) throw status(503);
        return 'ok';
      },
      { timeoutMs: 1_000, random: () => 0 },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('throws the last failure when attempts run out', async () => {
    let calls = 0;
    const failing = withRetries(
      async () => {
        calls += 1;
        throw status(500);
      },
      { timeoutMs: 1_000, random: () => 0 },
    );
    await expect(failing).rejects.toThrow('persona createInquiry failed: HTTP 500');
    expect(calls).toBe(RETRY_POLICY.maxAttempts);
  });

  // Without the deadline each attempt would wait out its 10 s timeout, past the test's own timeout.
  it('hands each attempt a signal that fires at the deadline', async () => {
    const hanging = withRetries(
      (signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () =>
            reject(new OutboundError('kratos', 'getIdentity', { kind: 'timeout' })),
          ),
        ),
      { timeoutMs: 10_000, deadline: deadlineIn(150) },
    );
    await expect(hanging).rejects.toThrow('timed out');
  });
});

describe('OutboundError.outcomeUnknown', () => {
  it.each([
    ['a timeout', { kind: 'timeout' }, true],
    ['a connection reset after sending', { kind: 'network', code: 'ECONNRESET' }, true],
    ["a gateway's 504", { kind: 'status', status: 504 }, true],
    ["a gateway's 502", { kind: 'status', status: 502 }, true],
    ['a refused connection', { kind: 'network', code: 'ECONNREFUSED' }, false],
    ['a host name that does not resolve', { kind: 'network', code: 'ENOTFOUND' }, false],
    ['a 500', { kind: 'status', status: 500 }, false],
    ['a 503', { kind: 'status', status: 503 }, false],
    ['an unexpected body', { kind: 'invalid_response' }, false],
  ] as const)('says whether the write may have been made after %s', (_name, failure, unknown) => {
    expect(new OutboundError('kratos', 'patchIdentity', failure).outcomeUnknown).toBe(unknown);
  });
});

describe('withRetries: an ordered write (fence)', () => {
  const fence = (check: () => Promise<void> = async () => undefined) => {
    const told = { checks: 0, uncertain: 0 };
    return {
      told,
      fence: {
        check: async () => {
          told.checks += 1;
          await check();
        },
        uncertain: (inFlightMs: number) => {
          told.uncertain += 1;
          expect(inFlightMs).toBeGreaterThanOrEqual(0);
        },
      },
    };
  };

  it('checks the lock before every attempt, and retries a failure that says the write was not made', async () => {
    const { told, fence: writeFence } = fence();
    let calls = 0;
    const result = await withRetries(
      async () => {
        calls += 1;
        if (calls === 1) throw status(503);
        return 'written';
      },
      { timeoutMs: 1_000, deadline: deadlineIn(5_000), fence: writeFence, random: () => 0 },
    );
    expect(result).toBe('written');
    expect(told).toEqual({ checks: 2, uncertain: 0 });
  });

  it('sends nothing once the lock is gone', async () => {
    let calls = 0;
    let held = true;
    const { fence: writeFence } = fence(async () => {
      if (!held) throw new Error('lock lost');
    });
    const written = withRetries(
      async () => {
        calls += 1;
        held = false;
        throw status(503);
      },
      { timeoutMs: 1_000, deadline: deadlineIn(5_000), fence: writeFence, random: () => 0 },
    );
    await expect(written).rejects.toThrow('lock lost');
    expect(calls).toBe(1);
  });

  it('gives its one attempt the whole time left, not the per-attempt timeout', async () => {
    const { told, fence: writeFence } = fence();
    const result = await withRetries(
      (signal) =>
        new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => resolve('written'), 300);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new OutboundError('kratos', 'patchIdentity', { kind: 'timeout' }));
          });
        }),
      { timeoutMs: 100, deadline: deadlineIn(2_000), fence: writeFence },
    );
    expect(result).toBe('written');
    expect(told).toEqual({ checks: 1, uncertain: 0 });
  });

  it('never repeats an attempt that may have been carried out, and says so', async () => {
    const { told, fence: writeFence } = fence();
    let calls = 0;
    const written = withRetries(
      async () => {
        calls += 1;
        throw new OutboundError('kratos', 'patchIdentity', { kind: 'network', code: 'ECONNRESET' });
      },
      { timeoutMs: 1_000, deadline: deadlineIn(5_000), fence: writeFence, random: () => 0 },
    );
    await expect(written).rejects.toThrow('network error (ECONNRESET)');
    expect(calls).toBe(1);
    expect(told).toEqual({ checks: 1, uncertain: 1 });
  });
});
