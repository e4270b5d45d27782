/**
 * Persona's rate limit (reference/persona-api.md, "Access"): so many requests per window (300 a
 * minute by default), told on every authenticated answer in `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset` (whole seconds until the window resets), and a 429
 * once the window is spent. Measured in wall time, as Persona does, whatever clock a test gives
 * the stand-in.
 */
export interface RateLimitOptions {
  /** Requests per window. */
  limit: number;
  windowMs: number;
}

export type RateWindow = { allowed: boolean; limit: number; remaining: number; resetSeconds: number };

const PERSONA_DEFAULT: RateLimitOptions = { limit: 300, windowMs: 60_000 };

export class PersonaRateLimit {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;

  /**
   * Without options nothing is counted or refused (the headers say the whole window remains), so
   * tests not about the rate limit never meet it.
   */
  constructor(
    private readonly options: RateLimitOptions | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  take(): RateWindow {
    const { limit, windowMs } = this.options ?? PERSONA_DEFAULT;
    const now = this.now();
    if (now - this.windowStart >= windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    const resetSeconds = Math.max(1, Math.ceil((this.windowStart + windowMs - now) / 1_000));
    if (this.options === undefined) return { allowed: true, limit, remaining: limit, resetSeconds };
    const allowed = this.used < limit;
    if (allowed) this.used += 1;
    return { allowed, limit, remaining: limit - this.used, resetSeconds };
  }
}
