/**
 * Failed code entries per client address, in fixed windows: a client that failed `limit` times
 * waits for the window to end. Per process (a rate limit, not the guarantee: that is the per-code
 * bound in shortCode.ts). Behind a proxy every client has the proxy's address, so the limit is
 * then shared by everyone behind it.
 */
export class ClientAttempts {
  private readonly windows = new Map<string, { startedAt: number; failures: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 15 * 60_000,
    /** Beyond this many clients the oldest windows are forgotten: memory stays bounded. */
    private readonly maxClients = 10_000,
  ) {}

  /** Milliseconds until the client may try again; undefined when it may now. */
  waitFor(client: string, nowMs: number): number | undefined {
    const window = this.windows.get(client);
    if (window === undefined || nowMs >= window.startedAt + this.windowMs) return undefined;
    return window.failures >= this.limit ? window.startedAt + this.windowMs - nowMs : undefined;
  }

  fail(client: string, nowMs: number): void {
    const window = this.windows.get(client);
    if (window === undefined || nowMs >= window.startedAt + this.windowMs) {
      this.windows.delete(client);
      this.windows.set(client, { startedAt: nowMs, failures: 1 });
      if (this.windows.size > this.maxClients) this.windows.delete(this.windows.keys().next().value as string);
      return;
    }
    window.failures += 1;
  }
}
