import { createHash } from 'node:crypto';
import type { DecisionOutcome, Purpose } from '../verification/record.js';
import type { EventType } from './eventTypes.js';

/** The identity's standing decision after the change, so a receiver knows whether the person is let in. */
export interface StandingDecisionSummary {
  /** `needs_review` while the attribute comparison holds an approval for review. */
  outcome: DecisionOutcome;
  status: string;
  inquiry_id: string | null;
  decided_at: string | null;
}

/**
 * What a notification says: ids, statuses, purposes and Persona's times only, never a name, an
 * address, a document or a Persona payload. The envelope is Standard Webhooks' recommended
 * `{type, timestamp, data}`; `timestamp` is when the change happened in Persona (not when it is
 * sent), so the same change always has the same body.
 */
export interface NotificationEvent {
  /** Stable per change: the `webhook-id` of every delivery and retry, and the key receivers deduplicate on. */
  id: string;
  type: EventType;
  timestamp: string;
  data: {
    identity_id: string;
    inquiry_id: string | null;
    purpose: Purpose | null;
    status: string | null;
    inquiry_created_at: string | null;
    decided_at: string | null;
    standing_decision: StandingDecisionSummary | null;
  };
}

export type EventData = NotificationEvent['data'];

/**
 * An event about `data`, at `timestamp`. Its id is derived from what it says, so a change computed
 * twice (a section that wrote the record, then failed, and ran again) is one event to receivers;
 * hex digits only, so never a `.` (Standard Webhooks signs `{id}.{timestamp}.{body}`).
 */
export function notificationEvent(type: EventType, timestamp: string, data: EventData): NotificationEvent {
  const digest = createHash('sha256')
    .update(JSON.stringify([type, timestamp, data.identity_id, data.inquiry_id, data.purpose, data.status]))
    .digest('hex');
  return { id: `msg_${digest.slice(0, 32)}`, type, timestamp, data };
}

/** The body every channel starts from: the event without its id, which travels in `webhook-id`. */
export const eventBody = (event: NotificationEvent) => ({
  type: event.type,
  timestamp: event.timestamp,
  data: event.data,
});
