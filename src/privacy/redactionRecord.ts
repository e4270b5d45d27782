import {
  emptyRecord,
  REDACTED_INQUIRIES_LIMIT,
  type PersonaRecord,
  type RedactionState,
} from '../verification/record.js';
import { instantOf } from '../verification/standingDecision.js';

/** What was redacted at Persona, as one change to a record. */
export interface Redacted {
  inquiryIds: readonly string[];
  /** The account of the identity's reference id went too (and with it every inquiry under it). */
  account: boolean;
  /** Persona's `redacted-at`, or when this service had it done. */
  at: string;
}

const later = (a: string, b: string) => (instantOf(b) > instantOf(a) ? b : a);

/**
 * The record once Persona's data of these inquiries (and perhaps the account) is gone: ids and
 * times noted, each inquiry with the first time it was seen redacted. The decisions stay as they
 * are: a redacted decline still blocks. The same record when it says all of it already.
 */
export function withRedacted(record: PersonaRecord, redacted: Redacted): PersonaRecord {
  const held = record.redaction;
  const known = new Set(held?.inquiries.map((entry) => entry.inquiry_id));
  const added = [...new Set(redacted.inquiryIds)].filter((id) => !known.has(id));
  const accountNews = redacted.account && held?.account_redacted_at == null;
  if (added.length === 0 && !accountNews) return record;
  const redaction: RedactionState = {
    redacted_at: held === null ? redacted.at : later(held.redacted_at, redacted.at),
    account_redacted_at: accountNews ? redacted.at : (held?.account_redacted_at ?? null),
    inquiries: [
      ...added.map((inquiryId) => ({ inquiry_id: inquiryId, redacted_at: redacted.at })),
      ...(held?.inquiries ?? []),
    ].slice(0, REDACTED_INQUIRIES_LIMIT),
    forgotten: held?.forgotten ?? null,
  };
  return { ...record, redaction };
}

/** Every inquiry the record names. */
export function inquiriesOf(record: PersonaRecord): string[] {
  const ids = [
    record.inquiry_id,
    ...record.history.map((entry) => entry.inquiry_id),
    ...record.decisions.map((decision) => decision.inquiry_id),
    ...Object.values(record.purposes).map((result) => result.inquiry_id),
  ];
  return [...new Set(ids.filter((id): id is string => id !== null))];
}

/** Why forgetting is refused (RedactionRefused), when it is. */
export type ForgetRefusal = 'decline_kept' | 'decision_pending';

/**
 * Why the operator may not have this record's verification forgotten, or null when they may. Never
 * while the standing decision is a decline or an approval held for review: forgetting would lift it,
 * and asking for erasure must not be a way around a decision (the record keeps ids, statuses and
 * times only). Nor while the inquiry in progress is undecided (in review, completed, expired and
 * resumable, or a status not known): forgetting lists it as forgotten, so the decline Persona may
 * still give it would go unheeded (reference/persona-api.md, "Statuses and events").
 */
export function forgetRefusal(record: PersonaRecord): ForgetRefusal | null {
  if (record.decision !== null && record.decision.outcome !== 'approved') return 'decline_kept';
  return record.inquiry_id === null || isDecided(record, record.inquiry_id) ? null : 'decision_pending';
}

const isDecided = (record: PersonaRecord, inquiryId: string): boolean =>
  record.decisions.some((decision) => decision.inquiry_id === inquiryId) ||
  Object.values(record.purposes).some((result) => result.inquiry_id === inquiryId && result.outcome !== null);

/**
 * Forgetting, on the operator's request only (and audited): the standing decision, every decision,
 * each purpose's latest result, the inquiry in progress and the history go; the identity reads as
 * never verified (`not_started`), so under `block-declined` it may log in and under
 * `require-approved` it must verify again. The inquiries it knew are listed as forgotten, so their
 * events never bring a decision back; the account actions of a decline end with it (pending
 * revocations are dropped, and an identity this service deactivated is active again). What stays:
 * the version, the recovery code issued (so it is not issued twice), an operator's requirement to
 * verify again (it blocks until a new approval, and forgetting must not lift it) and what was redacted.
 */
export function withVerificationForgotten(record: PersonaRecord, at: string): PersonaRecord {
  const held = record.redaction;
  const forgotten = [...new Set([...inquiriesOf(record), ...(held?.forgotten?.inquiry_ids ?? [])])];
  return {
    ...emptyRecord(),
    recovery_code: record.recovery_code,
    reverification: record.reverification,
    actions: { ...record.actions, deactivated_at: null, pending: [] },
    redaction: {
      redacted_at: held?.redacted_at ?? at,
      account_redacted_at: held?.account_redacted_at ?? null,
      inquiries: held?.inquiries ?? [],
      forgotten: { at, inquiry_ids: forgotten.slice(0, REDACTED_INQUIRIES_LIMIT) },
    },
  };
}
