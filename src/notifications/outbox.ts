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
   * Enqueued only if no message with this key is waiting to be sent and none was delivered within
   * `withinMs`: one email per identity per EMAIL_MIN_INTERVAL, on every replica, counted on what
   * went out, so a mail relay that is down for hours releases one email, not one per interval.
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
  | { kind: 'delivered' }
  /** Done without sending: the channel found nothing to send (counts for no `oncePer`). */
  | { kind: 'skipped'; reason: string }
  | { kind: 'retry'; at: number; reason: string }
  | { kind: 'abandoned'; reason: string };

/** The channel's kind, for logs and metrics: `webhook:<receiver>` is `webhook`. */
export const channelKindOf = (channel: string): string => channel.split(':')[0] ?? channel;

export interface OutboxWriter {
  /** A message already there (same channel and id), or held back by its `oncePer`, is not written. */
  enqueue(messages: readonly OutboxMessage[]): Promise<void>;
}

export interface OutboxReader {
  /**
   * Messages due now, leased to the caller for `leaseMs`: nobody else takes them meanwhile, and
   * a relay that died holding them leaves them to the next one. None of the channels in `busy`
   * (the relay is still sending their earlier messages) is taken.
   */
  claimDue(limit: number, leaseMs: number, busy?: ReadonlySet<string>): Promise<OutboxDelivery[]>;
  settle(delivery: OutboxDelivery, settlement: Settlement): Promise<void>;
}
