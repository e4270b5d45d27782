const settle = () => undefined;

/** Lets a task keep its identity closed for a while after it ended (UnitOfWork.holdAfter). */
export type HoldAfter = (ms: number) => void;

/**
 * Runs tasks one after another per identity, and in parallel across identities: the section of one
 * replica. In Postgres mode it stays in front of the database lock, so tasks waiting for one
 * identity hold no pool connection. A task that asks for a hold is answered at once, but the next
 * task of its identity starts only when the hold is over.
 */
export class IdentityQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(identityId: string, task: (holdAfter: HoldAfter) => Promise<T>): Promise<T> {
    const previous = this.tails.get(identityId) ?? Promise.resolve();
    let heldMs = 0;
    const holdAfter: HoldAfter = (ms) => {
      heldMs = Math.max(heldMs, ms);
    };
    const result = previous.then(() => task(holdAfter));
    const tail = result
      .then(settle, settle)
      .then(() => (heldMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, heldMs).unref()) : undefined));
    this.tails.set(identityId, tail);
    void tail.then(() => {
      if (this.tails.get(identityId) === tail) this.tails.delete(identityId);
    });
    return result;
  }

  /** Identities with work queued, running or held. */
  get size(): number {
    return this.tails.size;
  }
}
