import type { CallObserver } from './observe.js';

/** Longer than any rate window Persona documents (a minute); a larger `RateLimit-Reset` is not waited out whole. */
const LONGEST_WAIT_MS = 120_000;

export interface PaceOptions {
  /** The share of each window left to the service's live traffic: 0.5 leaves half. */
  reserveShare: number;
  now?: () => number;
  /** Told before each wait, for a command's progress lines. */
  onWait?: (ms: number) => void;
}

/**
 * Paces background work (the redaction sweeps) by the rate window Persona tells on every answer
 * (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`; reference/persona-api.md, "Access"):
 * one limit covers everything the service asks of Persona, so once the window's remaining requests
 * fall to the reserved share, the work waits for the window to reset and the logins, callbacks and
 * registrations keep theirs. A 429 all the same is waited out by the retry (retry.ts).
 */
export class RateLimitPace {
  private window: { limit: number; remaining: number; resetsAt: number } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: PaceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Pass to the calls' options: learns the window from each answer. */
  readonly observe: CallObserver = (call) => {
    const told = call.rateLimit;
    if (call.target !== 'persona' || told?.remaining === undefined || told.limit === undefined) return;
    this.window = {
      limit: told.limit,
      remaining: told.remaining,
      resetsAt: this.now() + (told.resetSeconds ?? 0) * 1_000,
    };
  };

  /** Resolves when the next call may go: at once, or once the window has reset. */
  async turn(): Promise<void> {
    const window = this.window;
    if (window === undefined || window.remaining > window.limit * this.options.reserveShare) return;
    const waitMs = Math.min(LONGEST_WAIT_MS, window.resetsAt - this.now());
    this.window = undefined;
    if (waitMs <= 0) return;
    this.options.onWait?.(waitMs);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
