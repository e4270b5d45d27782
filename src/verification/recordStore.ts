import type { Coordination, UnitOfWork } from '../coordination/coordination.js';
import type { JsonPatchOperation, KratosApi, KratosIdentity } from '../kratos/kratosClient.js';
import type { WrittenChange } from '../notifications/notifications.js';
import type { CallOptions, Deadline } from '../outbound/retry.js';
import { withAccountActions, type DeclineActions } from './accountActions.js';
import { readRecord, type RecordReading } from './readRecord.js';
import { mirrorOf, type DecisionStatuses, type PersonaRecord, type PublicMirror } from './record.js';
import type { TransitionResult } from './transition.js';

/**
 * A login already past the gate when a decline is written gets its session a moment after the
 * revocation (Kratos stores it after the hook answered). A second revocation this long after the
 * first ends those too: longer than the gate takes to answer, shorter than any session is useful.
 */
const LATE_LOGIN_REVOCATION_MS = 10_000;

export interface RecordStoreOptions {
  kratos: KratosApi;
  coordination: Coordination;
  publicMirror: boolean;
  statuses: DecisionStatuses;
  onDecline: DeclineActions;
  now: () => number;
  /**
   * How long a Kratos write whose outcome is unknown (it timed out) may still take to land, at
   * least (KRATOS_TIMEOUT_MS); a write that was on its way longer gets as long again.
   */
  writeSettleMs: number;
  /**
   * Told when a section lost its lock (its database connection broke) after it had sent a record
   * write: that write may have landed over another replica's, and the record needs a re-check once
   * it has settled, `settleMs` from now.
   */
  onWriteAfterLostLock?: (identityId: string, settleMs: number) => void;
  /** Tests shorten it. */
  lateLoginRevocationMs?: number;
  /**
   * Told about each change written, in the identity's section, with its unit of work: what it
   * announces is written with the change (src/notifications).
   */
  announce?: (change: WrittenChange, unit: UnitOfWork) => Promise<void>;
}

/** The call options of one section: its reads end when it loses its lock, its record writes are fenced by it. */
interface SectionCalls {
  reading: CallOptions;
  writing: CallOptions;
}

/** The caller's deadline, which also passes when the section loses its lock. */
const endingWithLock = (deadline: Deadline | undefined, lost: AbortSignal): Deadline | undefined =>
  deadline === undefined ? undefined : { at: deadline.at, signal: AbortSignal.any([deadline.signal, lost]) };

export type StoredRecord = { found: false } | { found: true; identity: KratosIdentity; reading: RecordReading };

export type UpdateResult =
  | TransitionResult
  | { outcome: 'identity_not_found'; record: null }
  /** The stored record cannot be interpreted: nothing was decided or written (readRecord.ts). */
  | { outcome: 'record_unreadable'; record: null };

/** What a change sees: the identity and its record (null when it has none yet). */
export interface CurrentRecord {
  identity: KratosIdentity;
  record: PersonaRecord | null;
}

export interface RecordStore {
  read(identityId: string, options?: CallOptions): Promise<StoredRecord>;
  /**
   * Reads the record, lets `change` transition it (it may call Persona first) and writes what it
   * applied, then carries out the account actions still pending, all in the identity's section of
   * the coordination (in Postgres mode one transaction holding the identity's lock, in which
   * `unit` writes).
   */
  update(
    identityId: string,
    change: (current: CurrentRecord, unit: UnitOfWork) => TransitionResult | Promise<TransitionResult>,
    options?: CallOptions,
  ): Promise<UpdateResult>;
  /**
   * Writes only the mirror: the login gate blocks a decline that came for a record that cannot
   * be interpreted, while the record itself waits for someone to fix it.
   */
  blockWhileUnreadable(identityId: string, mirror: PublicMirror, options?: CallOptions): Promise<void>;
}

/** `replace` on `/state` when this service deactivated the identity, or lifted its own deactivation. */
function stateChange(before: PersonaRecord | null, after: PersonaRecord): JsonPatchOperation[] {
  const wasDeactivated = before?.actions.deactivated_at != null;
  const isDeactivated = after.actions.deactivated_at !== null;
  if (wasDeactivated === isDeactivated) return [];
  return [{ op: 'replace', path: '/state', value: isDeactivated ? 'inactive' : 'active' }];
}

/**
 * Keeps the record in `metadata_admin.persona` and its mirror in `metadata_public.persona`. One
 * JSON Patch of exactly those paths (and `/state` for ON_DECLINE=deactivate): other metadata keys
 * survive, and `replace` creates missing parents when the metadata is still null
 * (reference/kratos-actions.md, "Admin API").
 *
 * A decline's session revocation runs after the decision is written, so the login gate already
 * blocks when the sessions go; it is recorded as pending with the decision and cleared once done,
 * so a failure is repeated by Persona's redelivery or by reconciliation, never lost.
 */
export function createRecordStore(options: RecordStoreOptions): RecordStore {
  const { kratos } = options;
  const mirrorPatch = (mirror: PublicMirror): JsonPatchOperation[] =>
    options.publicMirror ? [{ op: 'replace', path: '/metadata_public/persona', value: mirror }] : [];
  const patchFor = (record: PersonaRecord, before: PersonaRecord | null): JsonPatchOperation[] => [
    { op: 'replace', path: '/metadata_admin/persona', value: record },
    ...mirrorPatch(mirrorOf(record)),
    ...stateChange(before, record),
  ];

  const read = async (identityId: string, callOptions?: CallOptions): Promise<StoredRecord> => {
    const identity = await kratos.getIdentity(identityId, callOptions);
    return identity === null
      ? { found: false }
      : { found: true, identity, reading: readRecord(identity.metadataAdmin, options.statuses) };
  };

  /**
   * Runs `work` in the identity's section. Every record write in it is an ordered write fenced by
   * the section's lock (retry.ts): sent only while the lock is provably held, in one attempt, and
   * when its outcome is unknown the identity stays locked until it has probably landed: for
   * `writeSettleMs`, or as long again as the write was on its way, whichever is longer. A write
   * already sent when the lock is lost cannot be called back (Kratos has no compare-and-set), so
   * the identity is reported for a re-check.
   */
  async function inSection<T>(
    identityId: string,
    callOptions: CallOptions | undefined,
    work: (unit: UnitOfWork, calls: SectionCalls) => Promise<T>,
  ): Promise<T> {
    let wrote = false;
    let settleMs = options.writeSettleMs;
    let lost: AbortSignal | undefined;
    try {
      return await options.coordination.withIdentity(identityId, callOptions?.deadline, (unit) => {
        lost = unit.lost;
        const writing: CallOptions = {
          ...callOptions,
          fence: {
            check: async () => {
              await unit.fence();
              wrote = true;
            },
            uncertain: (inFlightMs) => {
              settleMs = Math.max(settleMs, inFlightMs);
              unit.holdAfter(settleMs);
            },
          },
        };
        const reading = { ...callOptions, deadline: endingWithLock(callOptions?.deadline, unit.lost) };
        return work(unit, { reading, writing });
      });
    } catch (error) {
      if (wrote && lost?.aborted === true) options.onWriteAfterLostLock?.(identityId, settleMs);
      throw error;
    }
  }

  async function finishPendingActions(identityId: string, record: PersonaRecord, calls: SectionCalls) {
    if (!record.actions.pending.includes('revoke_sessions')) return record;
    await kratos.revokeSessions(identityId, calls.reading);
    const done: PersonaRecord = {
      ...record,
      actions: { ...record.actions, pending: [], sessions_revoked_at: new Date(options.now()).toISOString() },
    };
    await kratos.patchIdentity(
      identityId,
      [{ op: 'replace', path: '/metadata_admin/persona', value: done }],
      calls.writing,
    );
    setTimeout(() => {
      // Best effort: what it would end is a session that passed the gate just before the decline.
      kratos.revokeSessions(identityId).catch(() => undefined);
    }, options.lateLoginRevocationMs ?? LATE_LOGIN_REVOCATION_MS).unref();
    return done;
  }

  return {
    read,
    update(identityId, change, callOptions) {
      return inSection(identityId, callOptions, async (unit, calls): Promise<UpdateResult> => {
        const stored = await read(identityId, calls.reading);
        if (!stored.found) return { outcome: 'identity_not_found', record: null };
        if (stored.reading.kind === 'unreadable') return { outcome: 'record_unreadable', record: null };
        const [before, storedDecision] =
          stored.reading.kind === 'record' ? [stored.reading.record, stored.reading.storedDecision] : [null, null];
        const result = await change({ identity: stored.identity, record: before }, unit);
        let record = before;
        if (result.outcome === 'applied' && result.record !== null) {
          record = withAccountActions(
            result.record,
            storedDecision,
            { state: stored.identity.state, now: new Date(options.now()).toISOString() },
            options.onDecline,
          );
          await kratos.patchIdentity(identityId, patchFor(record, before), calls.writing);
        }
        if (record !== null) record = await finishPendingActions(identityId, record, calls);
        if (record !== null && options.announce !== undefined) {
          await options.announce({ identityId, before, after: record, notices: result.notices ?? [] }, unit);
        }
        return { ...result, record };
      });
    },
    async blockWhileUnreadable(identityId, mirror, callOptions) {
      const patch = mirrorPatch(mirror);
      if (patch.length === 0) return;
      await inSection(identityId, callOptions, (_unit, calls) =>
        kratos.patchIdentity(identityId, patch, calls.writing),
      );
    },
  };
}
