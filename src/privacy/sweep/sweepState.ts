/** The sweeps, each with its own place to go on from. */
export type SweepName = 'deleted_identities' | 'retention';

/** Where a sweep goes on from: the template, and the page after this inquiry (Persona's `page[after]`). */
export interface SweepCursor {
  templateId: string;
  after: string | undefined;
}

/**
 * What the redaction sweeps remember between runs: when a reference id was first found missing from
 * Kratos (Kratos keeps nothing of a deleted identity), and where an unfinished run stopped. In
 * memory for one replica (a restart forgets it: every grace period starts again, so nothing is
 * redacted early, only later), in Postgres with DATABASE_URL (coordination/postgres/sweepState.ts).
 */
export interface SweepState {
  /** The first-missing times of these reference ids, for those found missing before. */
  missingSince(referenceIds: readonly string[]): Promise<Map<string, Date>>;
  /** Notes a reference id found missing now; answers the time it was first found missing. */
  markMissing(referenceId: string, now: Date): Promise<Date>;
  /** Kratos has it again, or its data is redacted: nothing to wait for. */
  forgetMissing(referenceId: string): Promise<void>;
  cursor(sweep: SweepName): Promise<SweepCursor | undefined>;
  /** Undefined: the run finished, the next one starts at the top. */
  saveCursor(sweep: SweepName, cursor: SweepCursor | undefined): Promise<void>;
}

/** The sweep state of one replica, in memory. */
export function createMemorySweepState(): SweepState {
  const missing = new Map<string, Date>();
  const cursors = new Map<SweepName, SweepCursor>();
  return {
    async missingSince(referenceIds) {
      return new Map(
        referenceIds.flatMap((id) => {
          const since = missing.get(id);
          return since === undefined ? [] : [[id, since] as const];
        }),
      );
    },
    async markMissing(referenceId, now) {
      const since = missing.get(referenceId) ?? now;
      missing.set(referenceId, since);
      return since;
    },
    async forgetMissing(referenceId) {
      missing.delete(referenceId);
    },
    async cursor(sweep) {
      return cursors.get(sweep);
    },
    async saveCursor(sweep, cursor) {
      if (cursor === undefined) cursors.delete(sweep);
      else cursors.set(sweep, cursor);
    },
  };
}
