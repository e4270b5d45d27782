import type { OutboxDelivery, OutboxMessage, OutboxReader, OutboxWriter, Settlement } from '../notifications/outbox.js';

/** At most this many notifications wait in memory; more are refused (and counted) rather than grow without end. */
const MAX_WAITING = 10_000;
/** Sent messages are remembered this long, and at most this many, so a repeat of one is not sent again. */
const REMEMBER_MS = 7 * 86_400_000;
const MAX_REMEMBERED = 100_000;

interface Waiting extends OutboxDelivery {
  dueAt: number;
  leasedUntil: number;
}

const keyOf = (message: { id: string; channel: string }) => `${message.channel}\n${message.id}`;

/**
 * The outbox of the embedded default (no DATABASE_URL): in this process's memory, so what waits
 * in it is lost when the process stops. Bounded in size: beyond it, new messages are dropped.
 */
export class MemoryOutbox implements OutboxReader, OutboxWriter {
  private readonly waiting = new Map<string, Waiting>();
  /** Key -> when it was settled; Map order is settle order, so the oldest come first. */
  private readonly settled = new Map<string, number>();
  /** `oncePer` key -> until when it holds further messages back. */
  private readonly heldBack = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async enqueue(messages: readonly OutboxMessage[]): Promise<void> {
    const now = this.now();
    this.prune(now);
    for (const message of messages) {
      const key = keyOf(message);
      if (this.waiting.has(key) || this.settled.has(key) || this.waiting.size >= MAX_WAITING) continue;
      if (message.oncePer !== undefined) {
        if ((this.heldBack.get(message.oncePer.key) ?? 0) > now) continue;
        this.heldBack.set(message.oncePer.key, now + message.oncePer.withinMs);
      }
      this.waiting.set(key, {
        id: message.id,
        channel: message.channel,
        body: message.body,
        attempts: 0,
        enqueuedAt: now,
        dueAt: now,
        leasedUntil: 0,
      });
    }
  }

  async claimDue(limit: number, leaseMs: number): Promise<OutboxDelivery[]> {
    const now = this.now();
    const due: OutboxDelivery[] = [];
    for (const entry of this.waiting.values()) {
      if (due.length >= limit) break;
      if (entry.dueAt > now || entry.leasedUntil > now) continue;
      entry.leasedUntil = now + leaseMs;
      const { dueAt: _dueAt, leasedUntil: _leasedUntil, ...delivery } = entry;
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
    this.waiting.delete(key);
    this.settled.set(key, this.now());
  }

  /** Messages waiting to be sent. */
  get size(): number {
    return this.waiting.size;
  }

  private prune(now: number) {
    for (const [key, at] of this.settled) {
      if (at >= now - REMEMBER_MS && this.settled.size < MAX_REMEMBERED) break;
      this.settled.delete(key);
    }
    for (const [key, until] of this.heldBack) if (until <= now) this.heldBack.delete(key);
  }
}
