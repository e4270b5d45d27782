import type { OutboxMessage, OutboxReader } from '../notifications/outbox.js';
import type { Deadline } from '../outbound/retry.js';
import type { SweepState } from '../privacy/sweep/sweepState.js';

/** How long the inbox keeps an applied event id: longer than Persona's redeliveries, which span about 51 hours (reference/persona-api.md, "Webhooks"). */
export const INBOX_RETENTION_MS = 7 * 86_400_000;

/**
 * What replicas of the service must agree on: who writes an identity's record now, which Persona
 * events were applied, who runs scheduled work. Kratos has no compare-and-set
 * (reference/kratos-actions.md, "Admin API"), so every read-modify-write of a record runs inside
 * `withIdentity`. Two implementations, chosen once at start: in-process (one replica) and Postgres
 * (`DATABASE_URL`, any number of replicas).
 */
export interface Coordination {
  readonly mode: 'single-instance' | 'postgres';
  /**
   * Exclusive per-identity section across all replicas. In Postgres mode: one transaction that
   * first takes pg_advisory_xact_lock(namespace, hash(identityId)) with lock_timeout inside the
   * deadline; commits when `work` resolves, rolls back when it throws. The in-process queue per
   * identity stays in front, so waiters hold no pool connection.
   */
  withIdentity<T>(
    identityId: string,
    deadline: Deadline | undefined,
    work: (unit: UnitOfWork) => Promise<T>,
  ): Promise<T>;
  /** Runs scheduled work (reconcile, outbox relay, sweeps) on one replica at a time. */
  leadership(name: string): Leadership;
  /**
   * The notifications written by sections, for the relay to send after they committed
   * (src/notifications/relay.ts): in Postgres a table, in-process memory (lost when it stops).
   */
  readonly outbox: OutboxReader;
  /**
   * Whether a section can be expected to commit now, as far as is known without I/O: false in
   * Postgres mode before the schema is migrated and after a section failed for want of the
   * database, until one commits. Always true in-process.
   */
  readonly writable: boolean;
  /** What the redaction sweeps remember between runs (in memory, or shared by every replica). */
  readonly sweepState: SweepState;
  /** For /readyz: whether the database answers (always ok in-process). */
  health(): Promise<{ ok: true } | { ok: false; reason: string }>;
  /**
   * The database every replica shares, for stores that are not an identity's record (the admin
   * API's short codes and audit); undefined in-process, where such stores live in memory.
   */
  readonly shared: SharedDatabase | undefined;
  close(): Promise<void>;
}

/** One statement in a transaction; values are always parameters, never spliced into the text. */
export type SqlRun = (
  text: string,
  values?: unknown[],
) => Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;

export interface SharedDatabase {
  /** The service's schema, quoted, for statements' table names (`${quotedSchema}.audit_log`). */
  readonly quotedSchema: string;
  /**
   * One transaction outside any identity's section: commits when `work` resolves, rolls back when
   * it throws. A failure of the database (unreachable, not migrated yet) is a CoordinationError.
   */
  transaction<T>(work: (run: SqlRun) => Promise<T>): Promise<T>;
}

export interface UnitOfWork {
  /** Inbox: records a Persona event id as applied; false when it was applied before. */
  claimEvent(eventId: string): Promise<boolean>;
  /**
   * Outbox: writes notifications with the section's changes, committed or rolled back with them.
   * One already there (same channel and id), or held back by its `oncePer`, is not written again.
   */
  enqueue(messages: readonly OutboxMessage[]): Promise<void>;
  /**
   * Fires when the section lost its exclusivity before it ended: in Postgres mode, its connection
   * broke (a failover, a restart, a terminated session), and the server released the lock with it
   * while this replica's work still runs. Never fires in-process.
   */
  readonly lost: AbortSignal;
  /**
   * Proves, right before a write to Kratos, that the section still holds its lock (Postgres: a
   * round trip on the section's own connection); throws a CoordinationError `lock_lost` when not.
   */
  fence(): Promise<void>;
  /**
   * Keeps the identity closed to every other section for `ms` after this one ends: a write whose
   * outcome is unknown (it timed out) may still land, and must land before the next section reads.
   */
  holdAfter(ms: number): void;
  // Later issues add: audit(entry).
}

/**
 * The lead of one kind of scheduled work. Leading is an optimisation, never what keeps a record
 * correct: a replica that lost its database session may finish a run while another starts one,
 * and both take the per-identity locks.
 */
export interface Leadership {
  /** True when this replica leads now: takes the lead when it is free, keeps it while it holds it. */
  claim(): Promise<boolean>;
  /** Hands the lead back (at shutdown), so another replica takes it at its next claim. */
  release(): Promise<void>;
}

export type CoordinationFailure =
  /** Another replica held the identity's lock past the caller's budget. */
  | 'lock_timeout'
  /** The database could not be reached or failed. */
  | 'unavailable'
  /** The section's connection broke while it ran: its lock is gone, so it must write nothing more. */
  | 'lock_lost'
  /** The database takes no writes (a standby, a read replica): its locks would exclude nobody. */
  | 'read_only'
  /** The database answers, but its schema is not migrated yet. */
  | 'schema_pending';

/**
 * The coordination could not give the work its section now. Always transient: the caller answers
 * so that someone tries again (the callback answers 503 and Persona delivers again). It carries the
 * database's error code, never its message or the connection string.
 */
export class CoordinationError extends Error {
  readonly transient = true;

  constructor(
    readonly failure: CoordinationFailure,
    readonly code?: string,
  ) {
    super(`coordination ${failure.replace('_', ' ')}${code === undefined ? '' : ` (${code})`}`);
    this.name = 'CoordinationError';
  }
}
