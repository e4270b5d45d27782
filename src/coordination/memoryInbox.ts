import { INBOX_RETENTION_MS } from './coordination.js';

/** The in-process inbox's bound: at most this many event ids (about 10 MB), the oldest dropped first. */
const MAX_ENTRIES = 100_000;

/**
 * The ids of Persona events applied in this process, bounded in size and age. A claim is
 * provisional until the unit of work that made it ends: `rollback` forgets it, so a redelivery of
 * an event whose Kratos write failed is applied then.
 */
export class MemoryInbox {
  /** Event id -> when it was claimed; Map order is claim order, so the oldest come first. */
  private readonly claimedAt = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = MAX_ENTRIES,
  ) {}

  claim(eventId: string): boolean {
    this.prune();
    if (this.claimedAt.has(eventId)) return false;
    this.claimedAt.set(eventId, this.now());
    return true;
  }

  rollback(eventIds: readonly string[]): void {
    for (const eventId of eventIds) this.claimedAt.delete(eventId);
  }

  get size(): number {
    return this.claimedAt.size;
  }

  private prune() {
    const oldest = this.now() - INBOX_RETENTION_MS;
    for (const [eventId, at] of this.claimedAt) {
      if (at >= oldest && this.claimedAt.size < this.maxEntries) break;
      this.claimedAt.delete(eventId);
    }
  }
}
