import type { OutboundFailure, OutboundTarget, RateLimitWindow } from './outboundError.js';

/** One attempt of a call to Kratos or Persona, as metrics and the request log see it. */
export interface OutboundCall {
  target: OutboundTarget;
  operation: string;
  durationMs: number;
  /** The HTTP status, when there was an answer. */
  status?: number | undefined;
  /** Absent when the attempt succeeded. */
  failure?: OutboundFailure | undefined;
  /** Persona's `Request-Id`, for support requests. */
  requestId?: string | undefined;
  /** Persona's rate window as the answer told it; with a 429 the retry waits out its reset. */
  rateLimit?: RateLimitWindow | undefined;
}

export type CallObserver = (call: OutboundCall) => void;

/** Reports to the client's own observer (metrics) and to the caller's (the request log). */
export function report(observers: readonly (CallObserver | undefined)[], call: OutboundCall): void {
  for (const observe of observers) observe?.(call);
}
