/**
 * The events this service tells receivers about (README, "Notifications"): one per applied change
 * of an identity's standing decision or of a purpose's latest result, and one per recovery
 * completed. Names follow Standard Webhooks' `[a-z_]` groups separated by full stops.
 */
export const EVENT_TYPES = [
  'verification.approved',
  'verification.declined',
  'verification.needs_review',
  'verification.mismatch',
  'verification.expired',
  'verification.reverification_required',
  'recovery.completed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (name: string): name is EventType => (EVENT_TYPES as readonly string[]).includes(name);

/** What IT acts on by default: Slack messages and ServiceNow incidents. */
export const NEEDS_ACTION: readonly EventType[] = [
  'verification.declined',
  'verification.needs_review',
  'verification.mismatch',
];
