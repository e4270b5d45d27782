/**
 * Waits between attempts of one notification: Standard Webhooks' example schedule (immediately,
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; spec/standard-webhooks.md, "Deliverability
 * and reliability"), with jitter, so that retries from one outage do not arrive together.
 */
export const RETRY_SCHEDULE_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000,
] as const;

export interface RetryTiming {
  /** Attempts made so far, the failed one included. */
  attempts: number;
  enqueuedAt: number;
  now: number;
  /** NOTIFY_RETRY_FOR: after this long since it was enqueued, a notification is given up. */
  retryForMs: number;
  /** What the receiver asked for (`Retry-After`); never sooner than that. */
  retryAfterMs?: number | undefined;
  /** The waits to use; tests shorten them. */
  scheduleMs?: readonly number[];
  random?: () => number;
}

/**
 * When to try again, or undefined to give up. The last attempt falls at the end of the period
 * rather than after it, so a receiver back just before the end still gets the notification.
 */
export function nextAttemptAt(timing: RetryTiming): number | undefined {
  const schedule = timing.scheduleMs ?? RETRY_SCHEDULE_MS;
  const end = timing.enqueuedAt + timing.retryForMs;
  if (timing.now >= end || schedule.length === 0) return undefined;
  const base = schedule[Math.min(timing.attempts, schedule.length) - 1] ?? (schedule[0] as number);
  const jittered = base * (0.8 + 0.4 * (timing.random ?? Math.random)());
  const wait = Math.max(jittered, timing.retryAfterMs ?? 0);
  return Math.min(Math.round(timing.now + wait), end);
}
