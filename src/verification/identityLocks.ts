const settle = () => undefined;

/**
 * Runs tasks one after another per identity, and in parallel across identities. Kratos has no
 * compare-and-set: two concurrent read-modify-writes of one identity lose an update
 * (reference/kratos-actions.md, "Admin API"), so every record update goes through here.
 */
export class IdentityLocks {
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
