export type OutboundTarget = 'kratos' | 'persona';

/** `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds), each when the answer had it. */
export interface RateLimitWindow {
  limit: number | undefined;
  remaining: number | undefined;
  resetSeconds: number | undefined;
}

export type OutboundFailure =
  | { kind: 'status'; status: number }
  /** An answer redirecting elsewhere, where the call must not go unasked (see kratosClient.ts). */
  | { kind: 'redirect'; status: number }
  | { kind: 'timeout' }
  | { kind: 'network'; code: string }
  | { kind: 'invalid_response' };

/**
 * A failed call to Kratos or Persona. It carries the status, never the response body: error
 * bodies can hold personal data and internals (pitfalls.md, 14).
 */
export class OutboundError extends Error {
  constructor(
    readonly target: OutboundTarget,
    readonly operation: string,
    readonly failure: OutboundFailure,
    readonly details: {
      requestId?: string | undefined;
      /** Persona's rate window, as the answer told it. */
      rateLimit?: RateLimitWindow | undefined;
      /** The peer saved this answer under the request's Idempotency-Key: repeating it replays it. */
      answerStored?: boolean | undefined;
    } = {},
  ) {
    super(`${target} ${operation} failed: ${describeFailure(failure)}`);
    this.name = 'OutboundError';
  }

  get status(): number | undefined {
    return this.failure.kind === 'status' ? this.failure.status : undefined;
  }

  /**
   * Worth trying again later: the peer was unreachable, slow, rate-limiting or failing. 501 means
   * "not implemented" and will not change (Kratos treats it the same way).
   */
  get transient(): boolean {
    if (this.failure.kind === 'timeout' || this.failure.kind === 'network') return true;
    if (this.failure.kind !== 'status') return false;
    const { status } = this.failure;
    return status === 429 || (status >= 500 && status !== 501);
  }

  /**
   * The peer may have carried the request out although no answer says so: it timed out (or was
   * abandoned), the connection broke after it was sent, or a gateway answered 502 or 504 for an
   * upstream that may still act on it. A write that failed so may still land, later.
   */
  get outcomeUnknown(): boolean {
    switch (this.failure.kind) {
      case 'timeout':
        return true;
      case 'network':
        return !NOT_SENT.has(this.failure.code);
      case 'status':
        return this.failure.status === 502 || this.failure.status === 504;
      default:
        return false;
    }
  }
}

/** Network failures that happen before a request is sent: the peer never saw it. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

function describeFailure(failure: OutboundFailure): string {
  switch (failure.kind) {
    case 'status':
      return `HTTP ${failure.status}`;
    case 'redirect':
      return `redirected (HTTP ${failure.status}), which is not followed`;
    case 'timeout':
      return 'timed out';
    case 'network':
      return `network error (${failure.code})`;
    case 'invalid_response':
      return 'unexpected response body';
  }
}
