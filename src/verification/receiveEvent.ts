import { isIdentityId } from '../identityId.js';
import type { PersonaEvent } from '../persona/event.js';
import { OutboundError } from '../outbound/outboundError.js';
import type { CallOptions } from '../outbound/retry.js';
import type { AccountReferences } from '../persona/accountReferences.js';
import { PERSONA_DECISIONS, isCompleteInquiry, type Inquiry } from '../persona/inquiry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import { noteAccountRedacted, noteInquiryRedacted } from '../privacy/noteRedacted.js';
import { applyObserved, fetchDocumentsAhead } from './applyObserved.js';
import { DECIDING_PURPOSES, type DecisionStatuses, type Purpose, type PurposeResult } from './record.js';
import type { RecordStore, UpdateResult } from './recordStore.js';
import type { TransitionOutcome, TransitionRules } from './transition.js';

export type IgnoredReason =
  | 'not_an_inquiry_event'
  | 'foreign_template'
  | 'foreign_reference'
  | 'unknown_identity'
  | 'record_unreadable'
  | 'not_opened_by_service';

export type EventOutcome =
  | { outcome: TransitionOutcome; identityId: string; status: string | undefined; purpose: Purpose | undefined }
  | { outcome: 'ignored'; reason: IgnoredReason; identityId?: string };

export interface ReceiveEventDeps {
  persona: PersonaApi;
  accountReferences: AccountReferences;
  store: RecordStore;
  rules: TransitionRules;
  templateIds: readonly string[];
  now: () => number;
}

/**
 * An approval that may be held for review (ATTRIBUTE_MISMATCH_ACTION=review) whose payload lost its
 * `decisioned-at` (an attribute blocklist). There, and only there, an approval's own time decides
 * more than an order: dated by its `updated-at` now and by its own time later (a reconciliation),
 * one approval would count as two, and the second would lift a review nobody made.
 */
const undatedApproval = (inquiry: Inquiry, statuses: DecisionStatuses) =>
  statuses.heldForReview === true &&
  inquiry.status !== undefined &&
  statuses.approved.has(inquiry.status) &&
  PERSONA_DECISIONS.has(inquiry.status) &&
  inquiry.decisionedAt === undefined;

/**
 * Attribute blocklists can strip what a decision needs from a payload; only then is the inquiry
 * read from the API. The payload's own state wins (it describes the event's moment): its status is
 * kept with its own times, and the API's status and times are taken together only when the
 * payload has no status, so a state is never dated by a later one. An undated approval takes the
 * API's `decisioned-at` while the API still shows it approved (`decisioned-at` is the time of the
 * inquiry's last decision).
 */
async function completeInquiry(
  persona: PersonaApi,
  inquiry: Inquiry,
  statuses: DecisionStatuses,
  options: CallOptions,
): Promise<Inquiry> {
  if (isCompleteInquiry(inquiry) && !undatedApproval(inquiry, statuses)) return inquiry;
  const current = await persona.getInquiry(inquiry.id, options);
  // The account too: where the inquiry's reference id is null, it names the identity (accountReferences.ts).
  const stable = {
    referenceId: current.referenceId,
    accountId: current.accountId,
    templateId: current.templateId,
    createdAt: current.createdAt,
    openedByService: current.openedByService,
  };
  const state =
    inquiry.status === undefined
      ? { status: current.status, updatedAt: current.updatedAt, decisionedAt: current.decisionedAt }
      : {
          status: inquiry.status,
          updatedAt: inquiry.updatedAt,
          decisionedAt: inquiry.decisionedAt ?? (current.status === inquiry.status ? current.decisionedAt : undefined),
        };
  const merged: Inquiry = { ...inquiry, ...stable, ...state };
  for (const [key, value] of Object.entries(inquiry)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  return merged;
}

/**
 * Applies a verified, parsed Persona event to the identity it is about. Only inquiries of our
 * templates whose reference id (their own, or their account's) is a Kratos identity id count:
 * other apps may share the Persona environment (pitfalls.md, 6). Failures of Kratos or Persona
 * propagate, so the caller answers with a status that makes Persona deliver again.
 */
export async function receiveEvent(
  deps: ReceiveEventDeps,
  event: PersonaEvent,
  options: CallOptions,
): Promise<EventOutcome> {
  if (event.kind === 'account') {
    const identityId = event.account.referenceId;
    // Once redacted, an account may no longer name its reference id: nothing to note it on then.
    if (!isIdentityId(identityId)) return { outcome: 'ignored', reason: 'foreign_reference' };
    return redactionNoted(
      await noteAccountRedacted(deps.store, identityId, event.account, event.createdAt, options),
      identityId,
    );
  }
  if (event.kind !== 'inquiry') return { outcome: 'ignored', reason: 'not_an_inquiry_event' };

  const ours = (inquiry: Inquiry) => inquiry.templateId !== undefined && deps.templateIds.includes(inquiry.templateId);
  if (event.inquiry.templateId !== undefined && !ours(event.inquiry))
    return { outcome: 'ignored', reason: 'foreign_template' };
  if (typeof event.inquiry.referenceId === 'string' && !isIdentityId(event.inquiry.referenceId)) {
    return { outcome: 'ignored', reason: 'foreign_reference' };
  }

  const completed = await completeInquiry(deps.persona, event.inquiry, deps.rules.statuses, options);
  if (!ours(completed)) return { outcome: 'ignored', reason: 'foreign_template' };
  const inquiry = { ...completed, referenceId: await deps.accountReferences.referenceIdOf(completed, options) };
  if (!isIdentityId(inquiry.referenceId)) return { outcome: 'ignored', reason: 'foreign_reference' };
  if (!isCompleteInquiry(inquiry)) throw new OutboundError('persona', 'getInquiry', { kind: 'invalid_response' });

  const identityId = inquiry.referenceId;
  if (event.name === 'inquiry.redacted') {
    return redactionNoted(
      await noteInquiryRedacted(deps.store, identityId, inquiry, event.createdAt, options),
      identityId,
    );
  }
  const observation = { inquiry, observedAt: inquiry.updatedAt ?? event.createdAt, eventId: event.id };
  const fetched = await fetchDocumentsAhead(deps, identityId, observation, options);
  const result = await deps.store.update(
    identityId,
    async (current, unit) => {
      const transition = await applyObserved(deps, current, observation, options, fetched);
      // The inbox answers for every replica and every earlier event, where the record only knows
      // its last one; its entry is rolled back with the section when the Kratos write fails.
      if (transition.outcome === 'applied' && !(await unit.claimEvent(event.id))) {
        return { outcome: 'duplicate', record: current.record };
      }
      return transition;
    },
    options,
  );
  if (result.outcome === 'identity_not_found') return { outcome: 'ignored', reason: 'unknown_identity', identityId };
  if (result.outcome === 'record_unreadable') {
    // The record waits for someone to fix it (the callback answers 503 meanwhile), but a decline of
    // an inquiry this service opened for the identity's own verification blocks at once. A declined
    // step-up or recovery never does: anyone who knows an identifier can get a recovery declined.
    const { step_up: stepUp, recovery } = deps.rules.purposeTemplates;
    const deciding = !stepUp?.has(inquiry.templateId) && !recovery?.has(inquiry.templateId);
    if (deciding && inquiry.openedByService === true && deps.rules.statuses.declined.has(inquiry.status)) {
      const mirror = {
        status: inquiry.status,
        verified_at: null,
        inquiry_status: inquiry.status,
        step_up_verified_at: null,
        reverification_required: false,
      };
      await deps.store.blockWhileUnreadable(identityId, mirror, options);
    }
    return { outcome: 'ignored', reason: 'record_unreadable', identityId };
  }
  if (result.outcome === 'unrecognised') return { outcome: 'ignored', reason: 'not_opened_by_service', identityId };
  const purposes = Object.entries(result.record?.purposes ?? {}) as [Purpose, PurposeResult][];
  const [purpose, held] = purposes.find(([, entry]) => entry.inquiry_id === inquiry.id) ?? [];
  // A step-up or recovery inquiry leaves the inquiry in progress alone: report its own status.
  const status = held !== undefined && !DECIDING_PURPOSES.has(purpose as Purpose) ? held.status : result.record?.status;
  return { outcome: result.outcome, identityId, status, purpose };
}

/** A redaction is noted, never decided on: the status and the decision stay as they are. */
function redactionNoted(result: UpdateResult, identityId: string): EventOutcome {
  if (result.outcome === 'identity_not_found') return { outcome: 'ignored', reason: 'unknown_identity', identityId };
  if (result.outcome === 'record_unreadable') return { outcome: 'ignored', reason: 'record_unreadable', identityId };
  if (result.outcome === 'unrecognised') return { outcome: 'ignored', reason: 'not_opened_by_service', identityId };
  return { outcome: result.outcome, identityId, status: result.record?.status, purpose: undefined };
}
