import type { Logger } from '../logger.js';
import { errorFields } from '../logger.js';
import type { Channel, DeliveryResult } from './channel.js';
import { ATTEMPT_TIMEOUT_MS } from './channel.js';
import { channelKindOf, type OutboxDelivery, type OutboxReader, type Settlement } from './outbox.js';
import { nextAttemptAt } from './retrySchedule.js';

/** Who may relay now: one replica at a time (the coordination's leadership; always this one in-process). */
export interface RelayLeadership {
  claim(): Promise<boolean>;
  release(): Promise<void>;
}

export type RelayResult = 'delivered' | 'skipped' | 'retried' | 'abandoned';

export interface RelayOptions {
  outbox: OutboxReader;
  /** The channel a message's `channel` names; undefined when it is no longer configured. */
  channelFor(name: string): Channel | undefined;
  leadership: RelayLeadership;
  retryForMs: number;
  logger: Logger;
  now?: () => number;
  /** Told about every attempt's result (metrics). */
  count?: (kind: string, result: RelayResult) => void;
  /** How often the relay looks for due messages when nobody wakes it. */
  pollMs?: number;
  /** Tests shorten the waits between attempts. */
  scheduleMs?: readonly number[];
}

export interface Relay {
  start(): void;
  /** Something was enqueued: look now rather than at the next poll. */
  wake(): void;
  /** Sends what is due now, then resolves when nothing is under way (tests; the schedule calls it too). */
  runOnce(): Promise<void>;
  /**
   * Stops polling, cuts the attempts under way short (each is settled as one to try again) and
   * waits for them, then hands the lead back.
   */
  stop(): Promise<void>;
}

/** Messages taken at once; one channel's are sent one after another, in order. */
const BATCH = 20;
/**
 * How long taken messages stay with this relay. Only one replica relays at a time (leadership),
 * so the lease guards against a replica that lost the lead mid-batch; a replica killed mid-batch
 * leaves its messages to the next leader after this long. A slow receiver can outlast it, and a
 * second relay may then send a message twice: delivery is at least once.
 */
const LEASE_MS = 4 * ATTEMPT_TIMEOUT_MS;
const POLL_MS = 1_000;

/**
 * Sends what the outbox holds, after the change that wrote it committed, on the replica that
 * leads `notifications`: each message to its channel, retried with backoff (retrySchedule.ts) for
 * NOTIFY_RETRY_FOR, then given up with an error log. Each channel (each webhook receiver its own)
 * has a lane of its own: its messages go one after another in the order they were taken, and
 * the relay takes more for the other channels while it is busy, so a receiver that hangs for its
 * attempt timeout holds up nobody else.
 */
export function createRelay(options: RelayOptions): Relay {
  const now = options.now ?? Date.now;
  const { logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  /** Channel name -> the attempts under way for it: its lane. */
  const lanes = new Map<string, Promise<void>>();
  /** Cuts the attempts under way short at shutdown. */
  const stopping = new AbortController();

  const settlementOf = (delivery: OutboxDelivery, result: DeliveryResult): Settlement => {
    if (result.kind === 'delivered') return { kind: 'delivered' };
    if (result.kind === 'skipped') return { kind: 'skipped', reason: result.reason };
    const at = result.permanent
      ? undefined
      : nextAttemptAt({
          attempts: delivery.attempts + 1,
          enqueuedAt: delivery.enqueuedAt,
          now: now(),
          retryForMs: options.retryForMs,
          retryAfterMs: result.retryAfterMs,
          ...(options.scheduleMs !== undefined && { scheduleMs: options.scheduleMs }),
        });
    return at === undefined
      ? { kind: 'abandoned', reason: result.reason }
      : { kind: 'retry', at, reason: result.reason };
  };

  async function attempt(delivery: OutboxDelivery): Promise<void> {
    const channel = options.channelFor(delivery.channel);
    let result: DeliveryResult;
    if (channel === undefined) result = { kind: 'failed', reason: 'channel_not_configured', permanent: true };
    else {
      try {
        result = await channel.deliver(
          delivery,
          AbortSignal.any([AbortSignal.timeout(ATTEMPT_TIMEOUT_MS), stopping.signal]),
        );
      } catch (error) {
        logger.error({ channel: channel.kind, ...errorFields(error) }, 'notification channel failed unexpectedly');
        result = { kind: 'failed', reason: 'internal_error' };
      }
    }
    const settlement = settlementOf(delivery, result);
    await options.outbox.settle(delivery, settlement);
    const kind = channel?.kind ?? channelKindOf(delivery.channel);
    const fields = { notification_id: delivery.id, channel: kind, attempts: delivery.attempts + 1 };
    if (result.kind === 'skipped') {
      options.count?.(kind, 'skipped');
      logger.debug({ ...fields, reason: result.reason }, 'notification had nothing to send');
    } else if (settlement.kind === 'delivered') {
      options.count?.(kind, 'delivered');
      logger.debug(fields, 'notification delivered');
    } else if (settlement.kind === 'retry') {
      options.count?.(kind, 'retried');
      logger.warn(
        { ...fields, reason: settlement.reason, retry_at: new Date(settlement.at).toISOString() },
        'notification not delivered; trying again later',
      );
    } else {
      options.count?.(kind, 'abandoned');
      logger.error({ ...fields, reason: settlement.reason }, 'notification given up');
    }
  }

  /** Sends one channel's messages in order, then looks for more (of this channel and others). */
  function runLane(channel: string, deliveries: readonly OutboxDelivery[]) {
    const lane = (async () => {
      for (const delivery of deliveries) {
        // At shutdown the rest stay leased, and are taken again when the lease ends.
        if (stopped) return;
        await attempt(delivery);
      }
    })()
      .catch((error: unknown) =>
        logger.warn(errorFields(error), 'notification outcome not written; sent again when its lease ends'),
      )
      .finally(() => {
        lanes.delete(channel);
        if (!stopped) void look();
      });
    lanes.set(channel, lane);
  }

  /** Takes what is due for the channels without a lane under way, and starts their lanes. */
  async function drain(): Promise<void> {
    if (!(await options.leadership.claim())) return;
    while (!stopped) {
      const due = await options.outbox.claimDue(BATCH, LEASE_MS, new Set(lanes.keys()));
      if (due.length === 0) return;
      const byChannel = new Map<string, OutboxDelivery[]>();
      for (const delivery of due)
        byChannel.set(delivery.channel, [...(byChannel.get(delivery.channel) ?? []), delivery]);
      for (const [channel, deliveries] of byChannel) runLane(channel, deliveries);
    }
  }

  /** One look at a time; one asked for while another runs follows it, as the latest message may have come after. */
  function look(): Promise<void> {
    if (draining !== undefined) {
      again = true;
      return draining.then(() => draining);
    }
    draining = drain()
      .catch((error: unknown) => logger.warn(errorFields(error), 'notification outbox not read; trying again'))
      .finally(() => {
        draining = undefined;
        if (again && !stopped) {
          again = false;
          void look();
        }
      });
    return draining;
  }

  /** Resolves when no look and no lane is under way. */
  async function quiet(): Promise<void> {
    while (draining !== undefined || lanes.size > 0) await Promise.all([draining, ...lanes.values()]);
  }

  return {
    start() {
      timer = setInterval(() => void look(), options.pollMs ?? POLL_MS);
      timer.unref();
      void look();
    },
    wake() {
      if (!stopped) setImmediate(() => void look());
    },
    async runOnce() {
      await look();
      await quiet();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      stopping.abort();
      await quiet();
      await options.leadership.release();
    },
  };
}
