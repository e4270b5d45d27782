import type { OutboxDelivery } from './outbox.js';

/**
 * How an attempt went. A failure carries a short reason (`http_503`, `timeout`, `smtp_550`), never
 * a receiver's answer: those can echo personal data and secrets.
 */
export type DeliveryResult =
  | { kind: 'delivered' }
  /** Nothing to send (an email for an identity without an address): done, not failed. */
  | { kind: 'skipped'; reason: string }
  | {
      kind: 'failed';
      reason: string;
      /** The receiver said when to come back (`Retry-After`). */
      retryAfterMs?: number | undefined;
      /** Trying again cannot help (the receiver said it wants no more, the address is refused). */
      permanent?: boolean;
    };

/** One kind of receiver: Standard Webhooks endpoints, Slack, ServiceNow, email. */
export interface Channel {
  /** Short and fixed, for logs and metrics: `webhook`, `slack`, `servicenow`, `email`. */
  readonly kind: string;
  deliver(delivery: OutboxDelivery, signal: AbortSignal): Promise<DeliveryResult>;
}

/** How long one attempt may take: Standard Webhooks recommends 15 to 30 seconds for receivers. */
export const ATTEMPT_TIMEOUT_MS = 15_000;

/** A failure of an HTTP attempt, read from the answer's status and `Retry-After` only. */
export function httpFailure(response: Response, permanentStatuses: readonly number[] = []): DeliveryResult {
  const retryAfter = response.headers.get('retry-after');
  const seconds = retryAfter !== null && /^\d{1,6}$/.test(retryAfter) ? Number(retryAfter) : undefined;
  return {
    kind: 'failed',
    reason: `http_${response.status}`,
    retryAfterMs: seconds === undefined ? undefined : seconds * 1_000,
    permanent: permanentStatuses.includes(response.status),
  };
}

/** A failure of an HTTP attempt that got no answer. */
export function networkFailure(error: unknown): DeliveryResult {
  const name = (error as { name?: string } | null)?.name;
  return { kind: 'failed', reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network' };
}
