import { MISMATCH_ACTIONS, type AttributeMatch, type MismatchAction } from '../matching/attributeMatch.js';
import type { AttributeResult } from '../matching/compareAttributes.js';
import { RULE_SETS, type RuleSet } from '../matching/ruleSets.js';
import { VERIFIED_ATTRIBUTES } from '../persona/verifiedDocument.js';
import {
  DECIDING_PURPOSES,
  HISTORY_LIMIT,
  PURPOSES,
  RECORD_VERSION,
  emptyRecord,
  noActions,
  outcomeOf,
  type AccountActions,
  type Decision,
  type DecisionStatuses,
  type HistoryEntry,
  type PersonaRecord,
  type Purpose,
  type PurposeResult,
  type RecoveryCodeIssued,
  type RedactionState,
} from './record.js';
import type { ReverificationRequirement } from './reverification.js';
import { standingDecision, withDecision } from './standingDecision.js';

/**
 * What `metadata_admin` says about the identity's verification. Records are read leniently and
 * fail safe: a record of this version or the previous one is read (and upgraded on the next
 * write); any recognisable decline blocks, also in a partial record or in the keys the community
 * integration wrote; a record that is present but cannot be interpreted is `unreadable`, never
 * "no record".
 *
 * `storedDecision` is the decision the stored record itself said (null for records of version 1,
 * partial and legacy ones): account actions are planned against it (accountActions.ts).
 */
export type RecordReading =
  | { kind: 'none' }
  | { kind: 'record'; record: PersonaRecord; storedDecision: Decision | null }
  | { kind: 'unreadable'; reason: UnreadableReason };

export type UnreadableReason =
  'metadata_not_an_object' | 'not_an_object' | 'no_status' | 'unknown_version' | 'decision_unreadable' | 'too_large';

/** Keys the community Persona integration (reference/pitfalls.md) kept in `metadata_admin`. */
const LEGACY_STATUS_KEYS = ['persona_verification_status', 'persona_inquiry_status'] as const;
const LEGACY_INQUIRY_KEY = 'persona_inquiry_id';

/** Keys only version 2 writes: a record that has one is read as version 2 even without `version`. */
const VERSION_2_KEYS = ['decision', 'decisions', 'purposes', 'actions'] as const;

/**
 * More entries than the service ever writes (history keeps 5; decisions keep what can matter):
 * such a record is not read entry by entry (that costs every request of the process), only
 * scanned for a decline.
 */
const MAX_ENTRIES = 100;

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const time = (value: unknown): string | null => {
  const candidate = text(value);
  return candidate !== null && !Number.isNaN(Date.parse(candidate)) ? candidate : null;
};
const purposeOf = (value: unknown): Purpose | null => (PURPOSES.includes(value as Purpose) ? (value as Purpose) : null);
const arrayOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/**
 * Whether `metadata_admin` holds a record this version wrote. Any other record (0.1.0's, a partial
 * one, the community integration's keys) is rewritten on its next change, or by
 * `npm run admin -- upgrade-records`.
 */
export function isCurrentVersion(metadataAdmin: unknown): boolean {
  const stored = isFields(metadataAdmin) ? metadataAdmin['persona'] : undefined;
  return isFields(stored) && stored['version'] === RECORD_VERSION;
}

export function readRecord(metadataAdmin: unknown, statuses: DecisionStatuses): RecordReading {
  if (metadataAdmin === null || metadataAdmin === undefined) return { kind: 'none' };
  if (!isFields(metadataAdmin)) return { kind: 'unreadable', reason: 'metadata_not_an_object' };
  const legacy = legacyDecline(metadataAdmin, statuses);
  const stored = metadataAdmin['persona'];
  if (stored === undefined || stored === null) return legacy === null ? { kind: 'none' } : declinedOnly(legacy);

  const reading = readStored(stored, statuses);
  if (legacy === null) return reading;
  if (reading.kind !== 'record') return declinedOnly(legacy);
  return {
    ...reading,
    record: withDecisions(reading.record, withDecision(reading.record.decisions, legacy, statuses)),
  };
}

const withDecisions = (record: PersonaRecord, decisions: Decision[] | null): PersonaRecord =>
  decisions === null ? record : { ...record, decisions, decision: standingDecision(decisions) };

function readStored(stored: unknown, statuses: DecisionStatuses): RecordReading {
  if (!isFields(stored)) {
    const decline = declineFrom(stored, null, statuses);
    return decline === null ? { kind: 'unreadable', reason: 'not_an_object' } : declinedOnly(decline);
  }
  const version = stored['version'] ?? (VERSION_2_KEYS.some((key) => key in stored) ? RECORD_VERSION : 1);
  if (version !== 1 && version !== RECORD_VERSION) return failSafe(stored, statuses, 'unknown_version');
  if (arrayOf(stored['history']).length > MAX_ENTRIES || arrayOf(stored['decisions']).length > MAX_ENTRIES) {
    return failSafe(stored, statuses, 'too_large');
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
    purposes: readPurposes(stored['purposes'], statuses),
    actions: readActions(stored['actions']),
    recovery_code: readRecoveryCode(stored['recovery_code']),
    reverification: readRequirement(stored['reverification'], current.inquiry_id),
    redaction: readRedaction(stored['redaction']),
  };

  if (version === 1) {
    if (current.inquiry_id !== null) {
      const { inquiry_id, status, created_at, updated_at, decided_at } = current;
      const outcome = outcomeOf(status, statuses);
      record.purposes = { onboarding: { inquiry_id, status, created_at, updated_at, decided_at, outcome } };
    }
    return {
      kind: 'record',
      record: withDecisions(record, replayVersion1(history, current, statuses)),
      storedDecision: null,
    };
  }
  const standing = stored['decision'] == null ? null : readDecision(stored['decision']);
  let decisions = readDecisions(stored['decisions']);
  if (standing === undefined || decisions === undefined) return failSafe(stored, statuses, 'decision_unreadable');
  // A standing decision the list does not hold (a hand edit), and the inquiry in progress, are
  // held to the same rules: a record that says "declined" anywhere blocks.
  const purpose = record.purpose ?? 'onboarding';
  const own = DECIDING_PURPOSES.has(purpose)
    ? decisionOf(current.inquiry_id, status, current.created_at, current.decided_at, purpose, statuses)
    : null;
  for (const extra of [standing, own]) {
    if (extra !== null) decisions = withDecision(decisions, extra, statuses) ?? decisions;
  }
  return { kind: 'record', record: withDecisions(record, decisions), storedDecision: standing };
}

/**
 * Version 1 kept no decisions apart from its inquiries. They are replayed oldest first, so that a
 * decline a later inquiry pushed into history (which version 1 allowed) stands again. Version 1
 * replaced its inquiry only with one created later, so the order of `history` is the order of
 * creation: an approval lifts the declines before it that it decided after. Entries of the
 * history are dated just before the current inquiry's creation (when they were created, at the
 * latest), so the current inquiry and any later one can lift them, and none of them another.
 */
function replayVersion1(
  history: HistoryEntry[],
  current: { inquiry_id: string | null; status: string; created_at: string | null; decided_at: string | null },
  statuses: DecisionStatuses,
): Decision[] {
  const currentCreated = current.created_at === null ? Number.NaN : Date.parse(current.created_at);
  const before = Number.isNaN(currentCreated) ? null : new Date(currentCreated - 1).toISOString();
  const oldestFirst = [...history].reverse().map((entry) => ({ ...entry, created_at: before }));
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
      const decidedAt = candidate.decided_at === null ? Number.NEGATIVE_INFINITY : Date.parse(candidate.decided_at);
      decisions = decisions.filter(
        (held) => held.outcome !== 'declined' || (held.decided_at !== null && Date.parse(held.decided_at) >= decidedAt),
      );
    }
    decisions = withDecision(decisions, candidate, statuses) ?? decisions;
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

const declinedBy = (status: string, inquiryId: string | null): Decision => ({
  outcome: 'declined',
  status,
  inquiry_id: inquiryId,
  inquiry_created_at: null,
  decided_at: null,
  purpose: 'onboarding',
});

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

/**
 * A record we cannot interpret: a decline anywhere in it (its status, its standing decision, its
 * decisions, its history) still blocks; otherwise it is unreadable. One pass, however large.
 */
function failSafe(stored: Fields, statuses: DecisionStatuses, reason: UnreadableReason): RecordReading {
  const said = (entry: unknown): Decision | null => {
    if (!isFields(entry)) return null;
    const inquiryId = text(entry['inquiry_id']);
    return (
      declineFrom(entry['status'], inquiryId, statuses) ??
      (entry['outcome'] === 'declined' ? declinedBy('declined', inquiryId) : null)
    );
  };
  const candidates = [stored, stored['decision'], ...arrayOf(stored['decisions']), ...arrayOf(stored['history'])];
  for (const candidate of candidates) {
    const decline = said(candidate);
    if (decline !== null) return declinedOnly(decline);
  }
  return { kind: 'unreadable', reason };
}

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
    storedDecision: null,
  };
}

const oneOf = <T extends string>(values: readonly T[], value: unknown): T | null =>
  values.includes(value as T) ? (value as T) : null;
const ATTRIBUTE_RESULTS = ['match', 'mismatch', 'missing'] as const satisfies readonly AttributeResult[];

/** Undefined when the stored decision cannot be interpreted. */
function readDecision(value: unknown): Decision | undefined {
  if (!isFields(value)) return undefined;
  const outcome = oneOf(['approved', 'declined', 'needs_review'] as const, value['outcome']);
  if (outcome === null) return undefined;
  const status = text(value['status']);
  if (status === null && outcome !== 'declined') return undefined;
  const attributeMatch = readAttributeMatch(value['attribute_match']);
  return {
    outcome,
    status: status ?? 'declined',
    inquiry_id: text(value['inquiry_id']),
    inquiry_created_at: time(value['inquiry_created_at']),
    decided_at: time(value['decided_at']),
    purpose: purposeOf(value['purpose']) ?? 'onboarding',
    ...(attributeMatch !== undefined && { attribute_match: attributeMatch }),
  };
}

/**
 * The comparison kept beside a decision; undefined when absent or not readable. The decision's
 * outcome already says what the comparison made of it, so an unreadable comparison loses only
 * the details (and, under `review`, that a later approval comes after the first one).
 */
function readAttributeMatch(value: unknown): AttributeMatch | undefined {
  if (!isFields(value) || !isFields(value['attributes'])) return undefined;
  const outcome = oneOf(ATTRIBUTE_RESULTS, value['outcome']);
  const rules = oneOf<RuleSet>(RULE_SETS, value['rules']);
  const onMismatch = oneOf<MismatchAction>(MISMATCH_ACTIONS, value['on_mismatch']);
  const checkedAt = time(value['checked_at']);
  const firstApprovedAt = time(value['first_approved_at']);
  if (outcome === null || rules === null || onMismatch === null || checkedAt === null || firstApprovedAt === null)
    return undefined;
  const attributes: AttributeMatch['attributes'] = {};
  for (const attribute of VERIFIED_ATTRIBUTES) {
    const result = oneOf(ATTRIBUTE_RESULTS, value['attributes'][attribute]);
    if (result !== null) attributes[attribute] = result;
  }
  return {
    outcome,
    attributes,
    rules,
    on_mismatch: onMismatch,
    checked_at: checkedAt,
    first_approved_at: firstApprovedAt,
  };
}

/** Undefined when any entry cannot be interpreted: it might have been a decline. */
function readDecisions(value: unknown): Decision[] | undefined {
  const decisions: Decision[] = [];
  for (const entry of arrayOf(value)) {
    const decision = readDecision(entry);
    if (decision === undefined) return undefined;
    decisions.push(decision);
  }
  return decisions;
}

function readHistory(value: unknown): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const item of arrayOf(value)) {
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

/** The outcome is read from the status under the current configuration, never taken as stored. */
function readPurposes(value: unknown, statuses: DecisionStatuses): PersonaRecord['purposes'] {
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
      outcome: outcomeOf(status, statuses),
    };
    purposes[purpose] = read;
  }
  return purposes;
}

/**
 * A recovery code record that cannot be read counts as none: it guards against a second code for
 * one recovery, and a code only ever reaches the browser that went through that inquiry.
 */
function readRecoveryCode(value: unknown): RecoveryCodeIssued | null {
  if (!isFields(value)) return null;
  const inquiryId = text(value['inquiry_id']);
  const issuedAt = time(value['issued_at']);
  if (inquiryId === null || issuedAt === null) return null;
  return {
    inquiry_id: inquiryId,
    inquiry_created_at: time(value['inquiry_created_at']),
    decided_at: time(value['decided_at']),
    issued_at: issuedAt,
    second_factors_removed: value['second_factors_removed'] === true,
  };
}

/**
 * A requirement that cannot be read still requires, and blocks: what cannot be read never counts as
 * verified. Any inquiry opened after it may meet it, but not the one in progress.
 */
function readRequirement(value: unknown, inquiryInProgress: string | null): ReverificationRequirement | null {
  if (value === undefined || value === null) return null;
  const fields = isFields(value) ? value : {};
  const requiredAt = time(fields['required_at']);
  const reason = text(fields['reason']);
  const blockLogin = fields['block_login'];
  const inquiryId = fields['inquiry_id'];
  const readable =
    requiredAt !== null &&
    reason !== null &&
    typeof blockLogin === 'boolean' &&
    (inquiryId === null || text(inquiryId) !== null);
  return readable
    ? { required_at: requiredAt, reason, block_login: blockLogin, inquiry_id: inquiryId as string | null }
    : {
        required_at: new Date(0).toISOString(),
        reason: 'unreadable',
        block_login: true,
        inquiry_id: inquiryInProgress,
      };
}

/**
 * What was redacted is read leniently: an entry that cannot be read is left out. Losing the list of
 * forgotten inquiries fails safe: their events may then bring a decision back, never lift one.
 */
function readRedaction(value: unknown): RedactionState | null {
  if (!isFields(value)) return null;
  const redactedAt = time(value['redacted_at']);
  if (redactedAt === null) return null;
  const inquiries: RedactionState['inquiries'] = [];
  for (const entry of arrayOf(value['inquiries']).slice(0, MAX_ENTRIES)) {
    if (!isFields(entry)) continue;
    const inquiryId = text(entry['inquiry_id']);
    const at = time(entry['redacted_at']);
    if (inquiryId !== null && at !== null) inquiries.push({ inquiry_id: inquiryId, redacted_at: at });
  }
  const forgotten = value['forgotten'];
  const forgottenAt = isFields(forgotten) ? time(forgotten['at']) : null;
  return {
    redacted_at: redactedAt,
    account_redacted_at: time(value['account_redacted_at']),
    inquiries,
    forgotten:
      isFields(forgotten) && forgottenAt !== null
        ? {
            at: forgottenAt,
            inquiry_ids: arrayOf(forgotten['inquiry_ids'])
              .slice(0, MAX_ENTRIES)
              .map(text)
              .filter((id): id is string => id !== null),
          }
        : null,
  };
}

function readActions(value: unknown): AccountActions {
  if (!isFields(value)) return noActions();
  return {
    deactivated_at: time(value['deactivated_at']),
    sessions_revoked_at: time(value['sessions_revoked_at']),
    pending: arrayOf(value['pending']).includes('revoke_sessions') ? ['revoke_sessions'] : [],
  };
}
