import type { Coordination, Leadership, UnitOfWork } from './coordination.js';
import { IdentityQueue } from './identityQueue.js';
import { MemoryInbox } from './memoryInbox.js';

/** The only replica leads everything. */
const ALWAYS_LEADING: Leadership = { claim: async () => true, release: async () => undefined };

/**
 * Coordination for exactly one replica (no `DATABASE_URL`): the per-identity queue and an inbox in
 * memory. Correct only as long as no other process writes the same records.
 */
export function createInProcessCoordination(options: { now?: () => number } = {}): Coordination {
  const queue = new IdentityQueue();
  const inbox = new MemoryInbox(options.now);

  return {
    mode: 'single-instance',
    withIdentity(identityId, _deadline, work) {
      return queue.run(identityId, async () => {
        const claimed: string[] = [];
        const unit: UnitOfWork = {
          async claimEvent(eventId) {
            const fresh = inbox.claim(eventId);
            if (fresh) claimed.push(eventId);
            return fresh;
          },
        };
        try {
          return await work(unit);
        } catch (error) {
          inbox.rollback(claimed);
          throw error;
        }
      });
    },
    leadership: () => ALWAYS_LEADING,
    health: async () => ({ ok: true }),
    close: async () => undefined,
  };
}
