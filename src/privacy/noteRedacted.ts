import type { CallOptions } from '../outbound/retry.js';
import type { Account } from '../persona/account.js';
import type { Inquiry } from '../persona/inquiry.js';
import type { PersonaRecord } from '../verification/record.js';
import type { RecordStore, UpdateResult } from '../verification/recordStore.js';
import { instantOf } from '../verification/standingDecision.js';
import { inquiriesOf, withRedacted, type Redacted } from './redactionRecord.js';

/**
 * Persona's `inquiry.redacted` and `account.redacted` events (whoever redacted: this service, the
 * dashboard, a retention policy of Persona's) noted on the record: which inquiries, when. Nothing
 * else changes: the status stays (Persona keeps it), and so does the decision. Noting it again
 * changes nothing, so redeliveries need no inbox.
 */
function note(
  store: RecordStore,
  identityId: string,
  redacted: (record: PersonaRecord) => Redacted | 'unrecognised',
  options: CallOptions,
): Promise<UpdateResult> {
  return store.update(
    identityId,
    ({ record }) => {
      if (record === null) return { outcome: 'unchanged', record };
      const change = redacted(record);
      if (change === 'unrecognised') return { outcome: 'unrecognised', record };
      const next = withRedacted(record, change);
      return next === record ? { outcome: 'unchanged', record } : { outcome: 'applied', record: next };
    },
    options,
  );
}

/** An inquiry of the identity's record was redacted; one the record does not hold is not its business. */
export function noteInquiryRedacted(
  store: RecordStore,
  identityId: string,
  inquiry: Inquiry,
  eventCreatedAt: string,
  options: CallOptions,
): Promise<UpdateResult> {
  return note(
    store,
    identityId,
    (record) =>
      inquiriesOf(record).includes(inquiry.id)
        ? { inquiryIds: [inquiry.id], account: false, at: inquiry.redactedAt ?? eventCreatedAt }
        : 'unrecognised',
    options,
  );
}

/**
 * The identity's account was redacted, and with it every inquiry in it: those of the record
 * created by then (an inquiry opened afterwards belongs to a new account).
 */
export function noteAccountRedacted(
  store: RecordStore,
  identityId: string,
  account: Account,
  eventCreatedAt: string,
  options: CallOptions,
): Promise<UpdateResult> {
  const at = account.redactedAt ?? eventCreatedAt;
  return note(store, identityId, (record) => ({ inquiryIds: createdBy(record, at), account: true, at }), options);
}

/** The record's inquiries created at or before `at` (or at an unknown time). */
function createdBy(record: PersonaRecord, at: string): string[] {
  const created = new Map<string, string | null>();
  for (const result of Object.values(record.purposes)) created.set(result.inquiry_id, result.created_at);
  for (const decision of record.decisions) {
    if (decision.inquiry_id !== null) created.set(decision.inquiry_id, decision.inquiry_created_at);
  }
  if (record.inquiry_id !== null) created.set(record.inquiry_id, record.created_at);
  return inquiriesOf(record).filter((id) => {
    const createdAt = created.get(id);
    return createdAt == null || instantOf(createdAt) <= instantOf(at);
  });
}
