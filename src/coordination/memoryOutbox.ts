import type { OutboxDelivery, OutboxMessage, OutboxReader, OutboxWriter, Settlement } from '../notifications/outbox.js';

/**
 * At most this many notifications of one channel wait in memory; more are refused (and reported)
 * rather than grow without end. Per channel, so one receiver down for its days of retries
 * crowds out no other channel.
 */
export const MAX_WAITING_PER_CHANNEL = 10_000;
/** Sent messages are remembered this long, and at most this many, so a repeat of one is not sent again. */
const REMEMBER_MS = 7 * 86_400_000;
const MAX_REMEMBERED = 100_000;

interface Waiting extends OutboxDelivery {
  dueAt: number;
  leasedUntil: number;
  oncePer: OutboxMessage['oncePer'];
}

const keyOf = (message: { id: string; channel: string }) => `${message.channel}\n${message.id}`;

/**
 * The outbox of the embedded default (no DATABASE_URL): in this process's memory, so what waits
 * in it is lost when the process stops. Bounded in size per channel: beyond it, new messages of
 * that channel are dropped, and `onDropped` is told of each.
 */
export class MemoryOutbox implements OutboxReader, OutboxWriter {
  private readonly waiting = new Map<string, Waiting>();
  private readonly waitingPerChannel = new Map<string, number>();
  /** Key -> when it was settled; Map order is settle order, so the oldest come first. */
  private readonly settled = new Map<string, number>();
  /** `oncePer` keys with a message waiting to be sent. */
  private readonly pendingLimits = new Set<string>();
  /** `oncePer` key -> until when the message delivered under it holds further ones back. */
  private readonly sentLimits = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly onDropped: (message: OutboxMessage) => void = () => undefined,
  ) {}

  async enqueue(messages: readonly OutboxMessage[]): Promise<void> {
    const now = this.now();
    this.prune(now);
    for (const message of messages) {
      const key = keyOf(message);
      if (this.waiting.has(key) || this.settled.has(key)) continue;
      if (message.oncePer !== undefined && this.heldBack(message.oncePer.key, now)) continue;
      const waitingInChannel = this.waitingPerChannel.get(message.channel) ?? 0;
      if (waitingInChannel >= MAX_WAITING_PER_CHANNEL) {
        this.onDropped(message);
        continue;
      }
      if (message.oncePer !== undefined) this.pendingLimits.add(message.oncePer.key);
      this.waitingPerChannel.set(message.channel, waitingInChannel + 1);
      this.waiting.set(key, {
        id: message.id,
        channel: message.channel,
        body: message.body,
        attempts: 0,
        enqueuedAt: now,
        dueAt: now,
        leasedUntil: 0,
        oncePer: message.oncePer,
      });
    }
  }

  async claimDue(limit: number, leaseMs: number, busy?: ReadonlySet<string>): Promise<OutboxDelivery[]> {
    const now = this.now();
    const due: OutboxDelivery[] = [];
    for (const entry of this.waiting.values()) {
      if (due.length >= limit) break;
      if (entry.dueAt > now || entry.leasedUntil > now || busy?.has(entry.channel)) continue;
      entry.leasedUntil = now + leaseMs;
      const { dueAt: _dueAt, leasedUntil: _leasedUntil, oncePer: _oncePer, ...delivery } = entry;
      due.push(delivery);
    }
    return due;
  }

  async settle(delivery: OutboxDelivery, settlement: Settlement): Promise<void> {
    const key = keyOf(delivery);
    const entry = this.waiting.get(key);
    if (entry === undefined) return;
    if (settlement.kind === 'retry') {
      entry.attempts = delivery.attempts + 1;
      entry.dueAt = settlement.at;
      entry.leasedUntil = 0;
      return;
    }
    const now = this.now();
    this.waiting.delete(key);
    this.waitingPerChannel.set(entry.channel, (this.waitingPerChannel.get(entry.channel) ?? 1) - 1);
    this.settled.set(key, now);
    if (entry.oncePer !== undefined) {
      this.pendingLimits.delete(entry.oncePer.key);
      if (settlement.kind === 'delivered') this.sentLimits.set(entry.oncePer.key, now + entry.oncePer.withinMs);
    }
  }

  /** Messages waiting to be sent. */
  get size(): number {
    return this.waiting.size;
  }

  private heldBack(limitKey: string, now: number): boolean {
    return this.pendingLimits.has(limitKey) || (this.sentLimits.get(limitKey) ?? 0) > now;
  }

  private prune(now: number) {
    for (const [key, at] of this.settled) {
      if (at >= now - REMEMBER_MS && this.settled.size < MAX_REMEMBERED) break;
      this.settled.delete(key);
    }
    for (const [key, until] of this.sentLimits) if (until <= now) this.sentLimits.delete(key);
  }
}
