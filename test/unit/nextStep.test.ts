import { describe, expect, it } from 'vitest';
import { planNextStep, type NextStepRules } from '../../src/verification/nextStep.js';
import { notStartedRecord, type PersonaRecord } from '../../src/verification/record.js';

const DAY = 86_400_000;
const now = Date.UTC(2026, 10, 22);
const rules = (overrides: Partial<NextStepRules> = {}): NextStepRules => ({
  allowRetries: false,
  reverifyAfterMs: undefined,
  approvedStatuses: new Set(['approved']),
  declinedStatuses: new Set(['declined']),
  ...overrides,
});
const record = (status: string, decidedAt: string | null = null): PersonaRecord => ({
  inquiry_id: 'inq_1',
  status,
  template_id: 'itmpl_A',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  decided_at: decidedAt,
  last_event_id: null,
  history: [],
});

describe('planNextStep', () => {
  it('creates the first inquiry when there is none', () => {
    expect(planNextStep(null, rules(), now)).toEqual({ kind: 'create', previousInquiryId: null });
    expect(planNextStep(notStartedRecord('itmpl_A'), rules(), now)).toEqual({
      kind: 'create',
      previousInquiryId: null,
    });
  });

  it.each([
    ['created', { kind: 'open', inquiryId: 'inq_1' }],
    ['pending', { kind: 'resume', inquiryId: 'inq_1', expired: false }],
    ['expired', { kind: 'resume', inquiryId: 'inq_1', expired: true }],
    ['completed', { kind: 'in_review', status: 'completed' }],
    ['needs_review', { kind: 'in_review', status: 'needs_review' }],
    ['some_new_status', { kind: 'in_review', status: 'some_new_status' }],
    ['approved', { kind: 'verified' }],
    ['declined', { kind: 'declined' }],
    ['failed', { kind: 'failed' }],
  ])('%s leads to %j', (status, step) => {
    expect(planNextStep(record(status), rules(), now)).toEqual(step);
  });

  it('opens a new inquiry after a decline or failure only when retries are allowed', () => {
    const again = { kind: 'create', previousInquiryId: 'inq_1' };
    expect(planNextStep(record('declined'), rules({ allowRetries: true }), now)).toEqual(again);
    expect(planNextStep(record('failed'), rules({ allowRetries: true }), now)).toEqual(again);
  });

  it('asks for re-verification once the approval is older than the limit', () => {
    const yearly = rules({ reverifyAfterMs: 365 * DAY });
    const approved = record('approved', new Date(now - 365 * DAY).toISOString());
    expect(planNextStep(approved, yearly, now)).toEqual({ kind: 'verified' });
    expect(planNextStep(approved, yearly, now + 1)).toEqual({ kind: 'create', previousInquiryId: 'inq_1' });
  });
});
