import type { AttributeMatch, MismatchAction } from '../../src/matching/attributeMatch.js';
import type { CompleteInquiry } from '../../src/persona/inquiry.js';
import type { PersonaRecord, Purpose } from '../../src/verification/record.js';
import { applyObservation, type TransitionRules } from '../../src/verification/transition.js';

export const IDENTITY_ID = '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34';

export const defaultRules = (overrides: Partial<TransitionRules> = {}): TransitionRules => ({
  statuses: { approved: new Set(['approved']), declined: new Set(['declined']) },
  purposeTemplates: {},
  ...overrides,
});

/** Persona times on one day, by minute. */
export const at = (minute: number) => new Date(Date.UTC(2026, 6, 1, 10, minute)).toISOString();

/** An inquiry this service opened (its note says so), unless the test says otherwise. */
export const inquiry = (id: string, status: string, createdMinute = 0, templateId = 'itmpl_A'): CompleteInquiry => ({
  id,
  status,
  referenceId: IDENTITY_ID,
  templateId,
  createdAt: at(createdMinute),
  openedByService: true,
});

/** One step of an inquiry's life: `[inquiry id, status, minute seen, minute created]`. */
export type Step = [id: string, status: string, minute: number, createdMinute: number];

/**
 * The record after the steps, each applied as a webhook event (event id `evt_<id>_<status>_<minute>`)
 * through the real transition, so tests start from records the service itself would write.
 */
export function recordAfter(
  steps: Step[],
  rules: TransitionRules = defaultRules(),
  start: PersonaRecord | null = null,
  purpose?: Purpose,
): PersonaRecord | null {
  let record = start;
  for (const [id, status, minute, createdMinute] of steps) {
    record = applyObservation(
      record,
      {
        inquiry: inquiry(id, status, createdMinute),
        observedAt: at(minute),
        eventId: `evt_${id}_${status}_${minute}`,
        ...(purpose !== undefined && { purpose }),
      },
      rules,
    ).record;
  }
  return record;
}

/** A comparison that found the document's last name and birthdate other than the traits'. */
export const mismatchFound = (onMismatch: MismatchAction, approvedMinute: number): AttributeMatch => ({
  outcome: 'mismatch',
  attributes: { 'name-first': 'match', 'name-last': 'mismatch', birthdate: 'mismatch' },
  rules: 'relaxed',
  on_mismatch: onMismatch,
  checked_at: at(approvedMinute),
  first_approved_at: at(approvedMinute),
});

/** The record after `inquiryId`'s approval at `minute`, its document compared as `attributeMatch` says. */
export const approvedWith = (attributeMatch: AttributeMatch, minute: number, start: PersonaRecord | null = null) =>
  applyObservation(
    start,
    {
      inquiry: { ...inquiry('inq_1', 'approved'), decisionedAt: at(minute) },
      observedAt: at(minute),
      eventId: `evt_${minute}`,
      attributeMatch,
    },
    defaultRules(),
  ).record as PersonaRecord;
