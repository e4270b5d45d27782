import { describe, expect, it } from 'vitest';
import { RETRY_SCHEDULE_MS, nextAttemptAt } from '../../src/notifications/retrySchedule.js';

const HOUR = 3_600_000;
const base = { enqueuedAt: 0, retryForMs: 72 * HOUR, random: () => 0.5 };

describe('nextAttemptAt', () => {
  it("follows Standard Webhooks' schedule, 5 s after the first failure and 24 h apart at the end", () => {
    expect(nextAttemptAt({ ...base, attempts: 1, now: 1_000 })).toBe(6_000);
    expect(nextAttemptAt({ ...base, attempts: 2, now: 10_000 })).toBe(310_000);
    expect(nextAttemptAt({ ...base, attempts: 30, now: HOUR })).toBe(HOUR + 24 * HOUR);
    expect(RETRY_SCHEDULE_MS).toHaveLength(9);
  });

  it('spreads retries by a fifth either way', () => {
    const low = nextAttemptAt({ ...base, attempts: 3, now: 0, random: () => 0 }) as number;
    const high = nextAttemptAt({ ...base, attempts: 3, now: 0, random: () => 1 }) as number;
    expect([low, high]).toEqual([0.8 * 1_800_000, 1.2 * 1_800_000]);
  });

  it("waits at least as long as the receiver's Retry-After", () => {
    expect(nextAttemptAt({ ...base, attempts: 1, now: 0, retryAfterMs: 120_000 })).toBe(120_000);
  });

  it('makes the last attempt at the end of NOTIFY_RETRY_FOR, then gives up', () => {
    const end = base.retryForMs;
    expect(nextAttemptAt({ ...base, attempts: 9, now: end - HOUR })).toBe(end);
    expect(nextAttemptAt({ ...base, attempts: 10, now: end })).toBeUndefined();
  });
});
