import type { PersonaRecord } from './record.js';

/** What `/persona/start` does for an identity, decided from its record alone. */
export type NextStep =
  /** No usable inquiry: create one. `previousInquiryId` keys the create, so retries share it. */
  | { kind: 'create'; previousInquiryId: string | null }
  /** `created`: the hosted flow opens it with its id alone. */
  | { kind: 'open'; inquiryId: string }
  /** `pending` or `expired`: needs a session token or a one-time link; expired ones are resumed first. */
  | { kind: 'resume'; inquiryId: string; expired: boolean }
  /** `completed`, `needs_review` and statuses we do not know: Persona or a reviewer decides next. */
  | { kind: 'in_review'; status: string }
  | { kind: 'verified' }
  | { kind: 'declined' }
  | { kind: 'failed' };

export interface NextStepRules {
  allowRetries: boolean;
  reverifyAfterMs: number | undefined;
  approvedStatuses: ReadonlySet<string>;
  declinedStatuses: ReadonlySet<string>;
}

/** True when the step sends the user into Persona. */
export const needsUser = (step: NextStep) => step.kind === 'create' || step.kind === 'open' || step.kind === 'resume';

export function planNextStep(record: PersonaRecord | null, rules: NextStepRules, nowMs: number): NextStep {
  if (record === null || record.inquiry_id === null) return { kind: 'create', previousInquiryId: null };
  const again = { kind: 'create', previousInquiryId: record.inquiry_id } as const;

  if (rules.approvedStatuses.has(record.status)) {
    const decidedAt = record.decided_at === null ? Number.NaN : Date.parse(record.decided_at);
    const reverificationDue = rules.reverifyAfterMs !== undefined && nowMs - decidedAt > rules.reverifyAfterMs;
    return reverificationDue ? again : { kind: 'verified' };
  }
  if (rules.declinedStatuses.has(record.status)) return rules.allowRetries ? again : { kind: 'declined' };
  switch (record.status) {
    case 'failed':
      return rules.allowRetries ? again : { kind: 'failed' };
    case 'created':
      return { kind: 'open', inquiryId: record.inquiry_id };
    case 'pending':
      return { kind: 'resume', inquiryId: record.inquiry_id, expired: false };
    case 'expired':
      return { kind: 'resume', inquiryId: record.inquiry_id, expired: true };
    default:
      return { kind: 'in_review', status: record.status };
  }
}
