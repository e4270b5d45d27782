/**
 * Values that cost a Persona call, kept for `ttlMs` per key and shared by concurrent requests: the
 * first request makes the call, the others wait for its answer. A failed call is not kept. In
 * process: each replica keeps its own.
 */
export class EntryCache<T> {
  private readonly entries = new Map<string, { expiresAt: number; value: Promise<T> }>();

  constructor(private readonly options: { ttlMs: number; maxEntries: number }) {}

  get(key: string, nowMs: number, create: () => Promise<T>): Promise<T> {
    const cached = this.entries.get(key);
    if (cached !== undefined && cached.expiresAt > nowMs) return cached.value;
    this.entries.delete(key);
    const value = create();
    this.entries.set(key, { expiresAt: nowMs + this.options.ttlMs, value });
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }
}
