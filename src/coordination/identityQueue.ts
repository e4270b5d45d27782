const settle = () => undefined;

/**
 * Runs tasks one after another per identity, and in parallel across identities: the section of one
 * replica. In Postgres mode it stays in front of the database lock, so tasks waiting for one
 * identity hold no pool connection.
 */
export class IdentityQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(identityId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(identityId) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(settle, settle);
    this.tails.set(identityId, tail);
    void tail.then(() => {
      if (this.tails.get(identityId) === tail) this.tails.delete(identityId);
    });
    return result;
  }

  /** Identities with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
