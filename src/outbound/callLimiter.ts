export interface CallLimit {
  /** Calls allowed at once. */
  burst: number;
  /** Then one more every this long. */
  refillMs: number;
  /** Keys remembered at most; the least recently used are forgotten first. */
  maxKeys: number;
}

export type CallPermit = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * A token bucket per key, such as an identity: `burst` calls, then one per `refillMs`. A refused
 * call costs nothing. In process: each replica keeps its own buckets.
 */
export class CallLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limit: CallLimit) {}

  take(key: string, nowMs: number): CallPermit {
    const { burst, refillMs, maxKeys } = this.limit;
    const bucket = this.buckets.get(key);
    const tokens = bucket === undefined ? burst : Math.min(burst, bucket.tokens + (nowMs - bucket.at) / refillMs);
    if (tokens < 1) return { allowed: false, retryAfterMs: Math.ceil((1 - tokens) * refillMs) };
    // Re-inserted, so the map's order is the order of last use.
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - 1, at: nowMs });
    if (this.buckets.size > maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    return { allowed: true };
  }
}
