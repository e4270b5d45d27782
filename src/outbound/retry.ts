import type { CallObserver } from './observe.js';
import { OutboundError } from './outboundError.js';

/** When the caller needs an answer by: an instant, and a signal that fires then. */
export interface Deadline {
  at: number;
  signal: AbortSignal;
}

export function deadlineIn(ms: number, now: () => number = Date.now): Deadline {
  return { at: now() + ms, signal: AbortSignal.timeout(ms) };
}

export interface CallOptions {
  /** The caller's deadline; every attempt and every wait between attempts fit inside it. */
  deadline?: Deadline | undefined;
  /** Told about every attempt (the request log collects Persona's Request-Ids this way). */
  observe?: CallObserver | undefined;
  /** Makes the call an ordered write, made under this lock (see `withRetries`). */
  fence?: WriteFence | undefined;
}

/**
 * The lock a write is made under, for a write that must never land after a later one (the
 * record's, in its identity's section: Kratos has no compare-and-set).
 */
export interface WriteFence {
  /** Resolves when the lock is still held; throws when it is not, and nothing is sent. */
  check(): Promise<void>;
  /**
   * Told when an attempt failed without saying whether it was carried out, `inFlightMs` after it
   * was sent: it may still land.
   */
  uncertain(inFlightMs: number): void;
}

export const RETRY_POLICY = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
  /** An attempt that cannot get this long before the deadline is not started. */
  minAttemptMs: 100,
} as const;

/**
 * The one place a retry is decided: the delay before attempt `attempt + 1`, or undefined to give up.
 * Every call this service makes is safe to repeat (GETs, creates with an Idempotency-Key, patches
 * that set absolute values), so only the failure and the time left decide.
 */
export function retryDelayMs(
  error: unknown,
  attempt: number,
  remainingMs: number,
  random: () => number,
): number | undefined {
  // Only failures that may pass by themselves: timeouts, network errors, 429, 5xx but 501.
  if (!(error instanceof OutboundError) || !error.transient) return undefined;
  // Persona replays a stored answer to the same Idempotency-Key: the request must change first.
  if (error.details.answerStored) return undefined;
  if (attempt >= RETRY_POLICY.maxAttempts) return undefined;
  const reset = error.details.rateLimit?.resetSeconds;
  // A 429 that does not say when its window resets (Kratos, Ory Network) is not tried again within
  // the request: a retry seconds later is refused too, and spends the project's limit on every
  // request a stranger sends. Persona always says (reference/persona-api.md, "Access").
  if (error.status === 429 && reset === undefined) return undefined;
  const delay =
    error.status === 429 && reset !== undefined
      ? // Persona says when its rate window resets (RateLimit-Reset, seconds); earlier is refused again.
        reset * 1_000
      : // Exponential backoff with jitter, so retries from many requests do not arrive together.
        Math.min(RETRY_POLICY.maxDelayMs, RETRY_POLICY.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);
  // Never past the caller's deadline: a late success is a failure for a caller that gave up.
  return delay + RETRY_POLICY.minAttemptMs <= remainingMs ? delay : undefined;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Runs `attempt` until it succeeds, `retryDelayMs` gives up or the deadline passes. Each attempt gets
 * a signal that fires at its own timeout or at the deadline, whichever comes first.
 *
 * An ordered write (`fence`) checks its lock before every attempt and gets the whole time left in
 * one attempt: an attempt given up on may still be carried out, and land after the next holder of
 * the lock wrote. For the same reason an attempt whose outcome is unknown is never repeated; the
 * fence is told, so the lock can be held until it has landed.
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  options: {
    timeoutMs: number;
    deadline?: Deadline | undefined;
    fence?: WriteFence | undefined;
    now?: () => number;
    random?: () => number;
  },
): Promise<T> {
  const now = options.now ?? Date.now;
  const { fence } = options;
  const deadline = options.deadline ?? deadlineIn(options.timeoutMs * RETRY_POLICY.maxAttempts, now);
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    await fence?.check();
    const timeoutMs = fence === undefined ? options.timeoutMs : Math.max(1, deadline.at - now());
    const sentAt = now();
    try {
      return await attempt(AbortSignal.any([AbortSignal.timeout(timeoutMs), deadline.signal]));
    } catch (error) {
      if (fence !== undefined && error instanceof OutboundError && error.outcomeUnknown) {
        fence.uncertain(now() - sentAt);
        throw error;
      }
      const delay = retryDelayMs(error, attemptNumber, deadline.at - now(), options.random ?? Math.random);
      if (delay === undefined || deadline.signal.aborted) throw error;
      await sleep(delay, deadline.signal);
      if (deadline.signal.aborted) throw error;
    }
  }
}
