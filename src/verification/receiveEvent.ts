import { isIdentityId } from '../identityId.js';
import type { PersonaEvent } from '../persona/event.js';
import { OutboundError } from '../outbound/outboundError.js';
import type { CallOptions } from '../outbound/retry.js';
import { isCompleteInquiry, type Inquiry } from '../persona/inquiry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import type { RecordStore } from './recordStore.js';
import { applyObservation, type TransitionOutcome, type TransitionRules } from './transition.js';

export type IgnoredReason =
  'not_an_inquiry_event' | 'redaction_keeps_status' | 'foreign_template' | 'foreign_reference' | 'unknown_identity';

export type EventOutcome =
  | { outcome: TransitionOutcome; identityId: string; status: string | undefined }
  | { outcome: 'ignored'; reason: IgnoredReason; identityId?: string };

export interface ReceiveEventDeps {
  persona: PersonaApi;
  store: RecordStore;
  rules: TransitionRules;
  templateIds: readonly string[];
}

/**
 * Attribute blocklists can strip what a decision needs from a payload; only then is the inquiry
 * read from the API, and the payload's own values still win (they describe the event's moment).
 */
async function completeInquiry(persona: PersonaApi, inquiry: Inquiry, options: CallOptions): Promise<Inquiry> {
  if (isCompleteInquiry(inquiry)) return inquiry;
  const merged = { ...(await persona.getInquiry(inquiry.id, options)) };
  for (const [key, value] of Object.entries(inquiry)) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  return merged;
}

/**
 * Applies a verified, parsed Persona event to the identity it is about. Only inquiries of our
 * templates carrying a Kratos identity id as reference count: other apps may share the Persona
 * environment (pitfalls.md, 6). Failures of Kratos or Persona propagate, so the caller answers
 * with a status that makes Persona deliver again.
 */
export async function receiveEvent(
  deps: ReceiveEventDeps,
  event: PersonaEvent,
  options: CallOptions,
): Promise<EventOutcome> {
  if (event.kind !== 'inquiry') return { outcome: 'ignored', reason: 'not_an_inquiry_event' };
  if (event.name === 'inquiry.redacted') return { outcome: 'ignored', reason: 'redaction_keeps_status' };

  const ours = (inquiry: Inquiry) => inquiry.templateId !== undefined && deps.templateIds.includes(inquiry.templateId);
  if (event.inquiry.templateId !== undefined && !ours(event.inquiry))
    return { outcome: 'ignored', reason: 'foreign_template' };
  if (event.inquiry.referenceId !== undefined && !isIdentityId(event.inquiry.referenceId)) {
    return { outcome: 'ignored', reason: 'foreign_reference' };
  }

  const inquiry = await completeInquiry(deps.persona, event.inquiry, options);
  if (!ours(inquiry)) return { outcome: 'ignored', reason: 'foreign_template' };
  if (!isIdentityId(inquiry.referenceId)) return { outcome: 'ignored', reason: 'foreign_reference' };
  if (!isCompleteInquiry(inquiry)) throw new OutboundError('persona', 'getInquiry', { kind: 'invalid_response' });

  const identityId = inquiry.referenceId;
  const result = await deps.store.update(
    identityId,
    (current) => applyObservation(current, { inquiry, observedAt: event.createdAt, eventId: event.id }, deps.rules),
    options,
  );
  if (result.outcome === 'identity_not_found') return { outcome: 'ignored', reason: 'unknown_identity', identityId };
  return { outcome: result.outcome, identityId, status: result.record?.status };
}
