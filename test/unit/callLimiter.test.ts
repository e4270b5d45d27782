import { describe, expect, it } from 'vitest';
import { CallLimiter } from '../../src/outbound/callLimiter.js';

describe('CallLimiter', () => {
  it('allows the burst, then one call per refill period, and says how long to wait', () => {
    const limiter = new CallLimiter({ burst: 3, refillMs: 60_000, maxKeys: 10 });
    expect([0, 1, 2].map(() => limiter.take('a', 0).allowed)).toEqual([true, true, true]);
    expect(limiter.take('a', 0)).toEqual({ allowed: false, retryAfterMs: 60_000 });
    expect(limiter.take('a', 45_000)).toEqual({ allowed: false, retryAfterMs: 15_000 });
    expect(limiter.take('a', 60_000)).toEqual({ allowed: true });
    expect(limiter.take('a', 60_000).allowed).toBe(false);
  });

  it('keeps keys apart, and a refused call costs nothing', () => {
    const limiter = new CallLimiter({ burst: 1, refillMs: 1_000, maxKeys: 10 });
    expect(limiter.take('a', 0).allowed).toBe(true);
    for (let i = 0; i < 100; i += 1) limiter.take('a', 500);
    expect(limiter.take('b', 500).allowed).toBe(true);
    expect(limiter.take('a', 1_000).allowed).toBe(true);
  });

  it('remembers at most maxKeys, forgetting the least recently used', () => {
    const limiter = new CallLimiter({ burst: 1, refillMs: 1_000, maxKeys: 2 });
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('c', 0);
    expect(limiter.take('a', 0).allowed).toBe(true);
    expect(limiter.take('c', 0).allowed).toBe(false);
  });
});
