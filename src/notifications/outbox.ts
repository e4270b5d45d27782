/**
 * The outbox: notifications written with the change they announce, sent afterwards by the relay
 * (relay.ts). In Postgres mode it is a table written in the identity's transaction, so what was
 * decided is announced at least once, across restarts; in the embedded default it lives in memory,
 * best effort (README, "Notifications").
 */

/** One notification for one channel. */
export interface OutboxMessage {
  /** With `channel`, what makes it unique: enqueuing the same pair again changes nothing. */
  id: string;
  /** `webhook:<receiver>`, `slack`, `servicenow` or `email`. */
  channel: string;
  /** JSON the channel reads: an event, or an email request. */
  body: unknown;
  /**
   * Enqueued only if no message with this key was enqueued within `withinMs`: one email per
   * identity per EMAIL_MIN_INTERVAL, on every replica.
   */
  oncePer?: { key: string; withinMs: number };
}

/** A message the relay took to send. */
export interface OutboxDelivery {
  id: string;
  channel: string;
  body: unknown;
  /** Attempts made before this one. */
  attempts: number;
  /** Milliseconds since the epoch. */
  enqueuedAt: number;
}

export type Settlement =
  { kind: 'delivered' } | { kind: 'retry'; at: number; reason: string } | { kind: 'abandoned'; reason: string };

export interface OutboxWriter {
  /** A message already there (same channel and id), or held back by its `oncePer`, is not written again. */
  enqueue(messages: readonly OutboxMessage[]): Promise<void>;
}

export interface OutboxReader {
  /**
   * Messages due now, leased to the caller for `leaseMs`: nobody else takes them meanwhile, and
   * a relay that died holding them leaves them to the next one.
   */
  claimDue(limit: number, leaseMs: number): Promise<OutboxDelivery[]>;
  settle(delivery: OutboxDelivery, settlement: Settlement): Promise<void>;
}
