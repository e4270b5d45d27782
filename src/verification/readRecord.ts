import {
  DECIDING_PURPOSES,
  HISTORY_LIMIT,
  PURPOSES,
  RECORD_VERSION,
  emptyRecord,
  noActions,
  outcomeOf,
  type AccountActions,
  type DecisionStatuses,
  type HistoryEntry,
  type PersonaRecord,
  type Purpose,
  type PurposeResult,
  type Decision,
} from './record.js';
import { instantOf, standingDecision, withDecision } from './standingDecision.js';

/**
 * What `metadata_admin` says about the identity's verification. Records are read leniently and
 * fail safe: a record of this version or the previous one is read (and upgraded on the next
 * write); any recognisable decline blocks, also in a partial record or in the keys the community
 * integration wrote; a record that is present but cannot be interpreted is `unreadable`, never
 * "no record".
 */
export type RecordReading =
  { kind: 'none' } | { kind: 'record'; record: PersonaRecord } | { kind: 'unreadable'; reason: UnreadableReason };

export type UnreadableReason = 'not_an_object' | 'no_status' | 'unknown_version' | 'decision_unreadable';

/** Keys the community Persona integration (reference/pitfalls.md) kept in `metadata_admin`. */
const LEGACY_STATUS_KEYS = ['persona_verification_status', 'persona_inquiry_status'] as const;
const LEGACY_INQUIRY_KEY = 'persona_inquiry_id';

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const time = (value: unknown): string | null => {
  const candidate = text(value);
  return candidate !== null && !Number.isNaN(Date.parse(candidate)) ? candidate : null;
};
const purposeOf = (value: unknown): Purpose | null => (PURPOSES.includes(value as Purpose) ? (value as Purpose) : null);

export function readRecord(metadataAdmin: unknown, statuses: DecisionStatuses): RecordReading {
  const metadata = isFields(metadataAdmin) ? metadataAdmin : {};
  const legacy = legacyDecline(metadata, statuses);
  const stored = metadata['persona'];
  if (stored === undefined || stored === null) return legacy === null ? { kind: 'none' } : declinedOnly(legacy);

  const reading = readStored(stored, statuses);
  if (legacy === null) return reading;
  if (reading.kind !== 'record') return declinedOnly(legacy);
  return { kind: 'record', record: withDecisions(reading.record, withDecision(reading.record.decisions, legacy)) };
}

const withDecisions = (record: PersonaRecord, decisions: Decision[] | null): PersonaRecord =>
  decisions === null ? record : { ...record, decisions, decision: standingDecision(decisions) };

function readStored(stored: unknown, statuses: DecisionStatuses): RecordReading {
  if (!isFields(stored)) {
    const decline = typeof stored === 'string' ? declineFrom(stored, null, statuses) : null;
    return decline === null ? { kind: 'unreadable', reason: 'not_an_object' } : declinedOnly(decline);
  }
  const version = stored['version'];
  if (version !== undefined && version !== 1 && version !== RECORD_VERSION) {
    return failSafe(stored, statuses, 'unknown_version');
  }
  const status = text(stored['status']);
  if (status === null) return failSafe(stored, statuses, 'no_status');

  const current = {
    inquiry_id: text(stored['inquiry_id']),
    status,
    template_id: text(stored['template_id']),
    created_at: time(stored['created_at']),
    updated_at: time(stored['updated_at']),
    decided_at: time(stored['decided_at']),
    last_event_id: text(stored['last_event_id']),
  };
  const history = readHistory(stored['history']);
  const record: PersonaRecord = {
    ...emptyRecord(),
    ...current,
    history: history.slice(0, HISTORY_LIMIT),
    purpose: purposeOf(stored['purpose']) ?? 'onboarding',
    purposes: readPurposes(stored['purposes']),
    actions: readActions(stored['actions']),
  };

  if (version !== RECORD_VERSION) {
    const decisions = replayVersion1(history, current, statuses);
    if (current.inquiry_id !== null) record.purposes = { onboarding: { ...current, inquiry_id: current.inquiry_id } };
    return { kind: 'record', record: withDecisions(record, decisions) };
  }
  const storedDecision = stored['decision'];
  const standing = storedDecision === null || storedDecision === undefined ? null : readDecision(storedDecision);
  if (standing === undefined) return failSafe(stored, statuses, 'decision_unreadable');
  let decisions = readDecisions(stored['decisions']);
  // A standing decision the list does not hold (a hand edit), and the inquiry in progress, are
  // held to the same rules: a record that says "declined" anywhere blocks.
  const own = DECIDING_PURPOSES.has(record.purpose ?? 'onboarding')
    ? decisionOf(
        current.inquiry_id,
        status,
        current.created_at,
        current.decided_at,
        record.purpose ?? 'onboarding',
        statuses,
      )
    : null;
  for (const extra of [standing, own]) {
    if (extra !== null) decisions = withDecision(decisions, extra) ?? decisions;
  }
  return { kind: 'record', record: withDecisions(record, decisions) };
}

/**
 * Version 1 kept no decisions apart from its inquiries. They are replayed oldest first, so that a
 * decline a later inquiry pushed into history (which version 1 allowed) stands again. Version 1
 * replaced its inquiry only with one created later, so the order of `history` is the order of
 * creation: an approval lifts the declines before it that it decided after. Entries of the
 * history carry the current inquiry's creation time as what it is, a time they were created
 * before, so that a later inquiry can still lift them and none of them can lift another.
 */
function replayVersion1(
  history: HistoryEntry[],
  current: { inquiry_id: string | null; status: string; created_at: string | null; decided_at: string | null },
  statuses: DecisionStatuses,
): Decision[] {
  const oldestFirst = [...history].reverse().map((entry) => ({ ...entry, created_at: current.created_at }));
  let decisions: Decision[] = [];
  for (const entry of [...oldestFirst, current]) {
    const candidate = decisionOf(
      entry.inquiry_id,
      entry.status,
      entry.created_at,
      entry.decided_at,
      'onboarding',
      statuses,
    );
    if (candidate === null) continue;
    if (candidate.outcome === 'approved') {
      decisions = decisions.filter(
        (held) => held.outcome !== 'declined' || instantOf(held.decided_at) >= instantOf(candidate.decided_at),
      );
    }
    decisions = withDecision(decisions, candidate) ?? decisions;
  }
  return decisions;
}

export function decisionOf(
  inquiryId: string | null,
  status: string,
  inquiryCreatedAt: string | null,
  decidedAt: string | null,
  purpose: Purpose,
  statuses: DecisionStatuses,
): Decision | null {
  const outcome = outcomeOf(status, statuses);
  if (outcome === null) return null;
  return {
    outcome,
    status,
    inquiry_id: inquiryId,
    inquiry_created_at: inquiryCreatedAt,
    decided_at: decidedAt,
    purpose,
  };
}

function declineFrom(status: unknown, inquiryId: string | null, statuses: DecisionStatuses): Decision | null {
  const value = text(status);
  return value !== null && outcomeOf(value, statuses) === 'declined' ? declinedBy(value, inquiryId) : null;
}

function legacyDecline(metadata: Fields, statuses: DecisionStatuses): Decision | null {
  for (const key of LEGACY_STATUS_KEYS) {
    const decline = declineFrom(metadata[key], text(metadata[LEGACY_INQUIRY_KEY]), statuses);
    if (decline !== null) return decline;
  }
  return null;
}

/** A record we cannot interpret: a decline anywhere in it still blocks; otherwise it is unreadable. */
function failSafe(stored: Fields, statuses: DecisionStatuses, reason: UnreadableReason): RecordReading {
  const storedDecision = isFields(stored['decision']) ? stored['decision'] : {};
  const inquiryId = text(stored['inquiry_id']);
  const decline =
    declineFrom(stored['status'], inquiryId, statuses) ??
    declineFrom(storedDecision['status'], text(storedDecision['inquiry_id']), statuses) ??
    (storedDecision['outcome'] === 'declined' ? declinedBy('declined', text(storedDecision['inquiry_id'])) : null);
  return decline === null ? { kind: 'unreadable', reason } : declinedOnly(decline);
}

const declinedBy = (status: string, inquiryId: string | null): Decision => ({
  outcome: 'declined',
  status,
  inquiry_id: inquiryId,
  inquiry_created_at: null,
  decided_at: null,
  purpose: 'onboarding',
});

function declinedOnly(decision: Decision): RecordReading {
  return {
    kind: 'record',
    record: {
      ...emptyRecord(),
      inquiry_id: decision.inquiry_id,
      status: decision.status,
      purpose: 'onboarding',
      decision,
      decisions: [decision],
    },
  };
}

/** Undefined when the stored decision cannot be interpreted. */
function readDecision(value: unknown): Decision | undefined {
  if (!isFields(value)) return undefined;
  const outcome = value['outcome'];
  const status = text(value['status']);
  if ((outcome !== 'approved' && outcome !== 'declined') || status === null) return undefined;
  return {
    outcome,
    status,
    inquiry_id: text(value['inquiry_id']),
    inquiry_created_at: time(value['inquiry_created_at']),
    decided_at: time(value['decided_at']),
    purpose: purposeOf(value['purpose']) ?? 'onboarding',
  };
}

function readDecisions(value: unknown): Decision[] {
  if (!Array.isArray(value)) return [];
  return value.map(readDecision).filter((decision): decision is Decision => decision !== undefined);
}

function readHistory(value: unknown): HistoryEntry[] {
  if (!Array.isArray(value)) return [];
  const entries: HistoryEntry[] = [];
  for (const item of value) {
    if (!isFields(item)) continue;
    const inquiryId = text(item['inquiry_id']);
    const status = text(item['status']);
    if (inquiryId === null || status === null) continue;
    const purpose = purposeOf(item['purpose']);
    entries.push({
      inquiry_id: inquiryId,
      status,
      decided_at: time(item['decided_at']),
      ...(purpose !== null && { purpose }),
    });
  }
  return entries;
}

function readPurposes(value: unknown): PersonaRecord['purposes'] {
  if (!isFields(value)) return {};
  const purposes: PersonaRecord['purposes'] = {};
  for (const purpose of PURPOSES) {
    const result = value[purpose];
    if (!isFields(result)) continue;
    const inquiryId = text(result['inquiry_id']);
    const status = text(result['status']);
    if (inquiryId === null || status === null) continue;
    const read: PurposeResult = {
      inquiry_id: inquiryId,
      status,
      created_at: time(result['created_at']),
      updated_at: time(result['updated_at']),
      decided_at: time(result['decided_at']),
    };
    purposes[purpose] = read;
  }
  return purposes;
}

function readActions(value: unknown): AccountActions {
  if (!isFields(value)) return noActions();
  const pending = Array.isArray(value['pending']) ? value['pending'] : [];
  return {
    deactivated_at: time(value['deactivated_at']),
    sessions_revoked_at: time(value['sessions_revoked_at']),
    pending: pending.includes('revoke_sessions') ? ['revoke_sessions'] : [],
  };
}
