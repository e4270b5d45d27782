import pg from 'pg';

/** Health checks and leadership claims answer within this long, or count as failed. */
const SESSION_QUERY_TIMEOUT_MS = 2_000;

/**
 * One long-lived connection of this replica, outside the pool: it holds the session-level
 * advisory locks of leadership, and answers health checks even when every pool connection is busy.
 * When it breaks, its locks are gone with it: `onLost` is told, and the next query reconnects.
 */
export class SessionConnection {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Advisory locks this session holds, by name. */
  readonly held = new Set<string>();

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly onLost: (error: unknown) => void,
  ) {}

  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const client = await this.connect();
    try {
      return await client.query<R>(text, values);
    } catch (error) {
      if (!(error instanceof pg.DatabaseError)) this.drop(client, error);
      throw error;
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held.clear();
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client> {
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({
        ...this.config,
        connectionTimeoutMillis: SESSION_QUERY_TIMEOUT_MS,
        query_timeout: SESSION_QUERY_TIMEOUT_MS,
      });
      client.on('error', (error) => this.drop(client, error));
      try {
        await client.connect();
        this.client = client;
        return client;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private drop(client: pg.Client, error: unknown) {
    if (this.client !== client) return;
    this.client = undefined;
    const hadLocks = this.held.size > 0;
    this.held.clear();
    void client.end().catch(() => undefined);
    if (hadLocks) this.onLost(error);
  }
}
