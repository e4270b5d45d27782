import type { Logger } from '../logger.js';
import { channelKindOf, type OutboxMessage } from '../notifications/outbox.js';
import { createMemorySweepState } from '../privacy/sweep/sweepState.js';
import type { Coordination, Leadership, UnitOfWork } from './coordination.js';
import { IdentityQueue } from './identityQueue.js';
import { MemoryInbox } from './memoryInbox.js';
import { MAX_WAITING_PER_CHANNEL, MemoryOutbox } from './memoryOutbox.js';

export interface InProcessOptions {
  now?: () => number;
  /** Told of each notification the full in-memory outbox refused (log and metric), with its channel's kind. */
  logger?: Logger;
  countDropped?: (channel: string) => void;
}

/** The only replica leads everything. */
const ALWAYS_LEADING: Leadership = { claim: async () => true, release: async () => undefined };
/** A lock in the process is lost only with the process, and with it the work that held it. */
const NEVER_LOST = new AbortController().signal;

/**
 * Coordination for exactly one replica (no `DATABASE_URL`): the per-identity queue, and an inbox,
 * an outbox and the redaction sweeps' state in memory. Correct only as long as no other process
 * writes the same records.
 */
export function createInProcessCoordination(options: InProcessOptions = {}): Coordination {
  const queue = new IdentityQueue();
  const inbox = new MemoryInbox(options.now);
  const outbox = new MemoryOutbox(options.now, (message) => {
    const channel = channelKindOf(message.channel);
    options.countDropped?.(channel);
    options.logger?.warn(
      { channel, notification_id: message.id, waiting_limit: MAX_WAITING_PER_CHANNEL },
      'notification dropped: the in-memory outbox is full for its channel',
    );
  });

  return {
    mode: 'single-instance',
    writable: true,
    withIdentity<T>(identityId: string, _deadline: unknown, work: (unit: UnitOfWork) => Promise<T>) {
      return queue.run(identityId, async (holdAfter) => {
        const claimed: string[] = [];
        const unit: UnitOfWork = {
          lost: NEVER_LOST,
          fence: async () => undefined,
          holdAfter,
          async claimEvent(eventId) {
            const fresh = inbox.claim(eventId);
            if (fresh) claimed.push(eventId);
            return fresh;
          },
          async enqueue(messages) {
            written.push(...messages);
          },
        };
        const written: OutboxMessage[] = [];
        let result: T;
        try {
          result = await work(unit);
        } catch (error) {
          inbox.rollback(claimed);
          throw error;
        }
        // Committed with the section: a section that failed wrote nothing. The queue runs one
        // section of an identity at a time, so `oncePer` is checked without a race.
        await outbox.enqueue(written);
        return result;
      });
    },
    leadership: () => ALWAYS_LEADING,
    outbox,
    // A restart forgets it: every grace period starts again (later, never earlier).
    sweepState: createMemorySweepState(),
    health: async () => ({ ok: true }),
    shared: undefined,
    close: async () => undefined,
  };
}
