/** Persona's sandbox simulate-actions (reference/persona-api.md), with the status and event of each. */
export const SIMULATE_ACTIONS = {
  start_inquiry: { status: 'pending', event: 'inquiry.started' },
  complete_inquiry: { status: 'completed', event: 'inquiry.completed' },
  fail_inquiry: { status: 'failed', event: 'inquiry.failed' },
  expire_inquiry: { status: 'expired', event: 'inquiry.expired' },
  mark_for_review_inquiry: { status: 'needs_review', event: 'inquiry.marked-for-review' },
  approve_inquiry: { status: 'approved', event: 'inquiry.approved' },
  decline_inquiry: { status: 'declined', event: 'inquiry.declined' },
} as const;
export type SimulateAction = keyof typeof SIMULATE_ACTIONS;
