import { describe, expect, it } from 'vitest';
import { planNextStep, type NextStepRules } from '../../src/verification/nextStep.js';
import type { RecordReading } from '../../src/verification/readRecord.js';
import { notStartedRecord, type PersonaRecord } from '../../src/verification/record.js';
import { approvedWith, at, mismatchFound, recordAfter, type Step } from '../support/records.js';

const DAY = 86_400_000;
const now = Date.parse(at(60));
const rules = (overrides: Partial<NextStepRules> = {}): NextStepRules => ({
  allowRetries: false,
  reverifyAfterMs: undefined,
  ...overrides,
});
const reading = (record: PersonaRecord | null): RecordReading =>
  record === null ? { kind: 'none' } : { kind: 'record', record, storedDecision: record.decision };
const after = (...steps: Step[]) => reading(recordAfter(steps));

describe('planNextStep', () => {
  it('creates the first inquiry when there is none', () => {
    const first = { kind: 'create', previousInquiryId: null, purpose: 'onboarding' };
    expect(planNextStep({ kind: 'none' }, rules(), now)).toEqual(first);
    expect(planNextStep(reading(notStartedRecord('itmpl_A')), rules(), now)).toEqual(first);
  });

  it('starts nothing while the record cannot be interpreted', () => {
    expect(planNextStep({ kind: 'unreadable', reason: 'no_status' }, rules(), now)).toEqual({ kind: 'unavailable' });
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
    expect(planNextStep(after(['inq_1', status, 1, 0]), rules(), now)).toEqual(step);
  });

  it('opens a new inquiry after a decline or failure only when retries are allowed', () => {
    const again = { kind: 'create', previousInquiryId: 'inq_1', purpose: 'reverification' };
    expect(planNextStep(after(['inq_1', 'declined', 1, 0]), rules({ allowRetries: true }), now)).toEqual(again);
    expect(planNextStep(after(['inq_1', 'failed', 1, 0]), rules({ allowRetries: true }), now)).toEqual(again);
  });

  it('continues the retry opened after a decline instead of opening another, and never calls it verified', () => {
    const retrying = after(['inq_1', 'declined', 1, 0], ['inq_2', 'created', 5, 5]);
    expect(planNextStep(retrying, rules({ allowRetries: true }), now)).toEqual({ kind: 'open', inquiryId: 'inq_2' });
    expect(planNextStep(retrying, rules(), now)).toEqual({ kind: 'declined' });
    const inReview = after(['inq_1', 'declined', 1, 0], ['inq_2', 'completed', 5, 5]);
    expect(planNextStep(inReview, rules({ allowRetries: true }), now)).toEqual({
      kind: 'in_review',
      status: 'completed',
    });
  });

  it('asks for re-verification once the approval is older than the limit, continuing one already opened', () => {
    const yearly = rules({ reverifyAfterMs: 365 * DAY });
    const approved = after(['inq_1', 'approved', 1, 0]);
    const approvedAt = Date.parse(at(1));
    expect(planNextStep(approved, yearly, approvedAt + 365 * DAY)).toEqual({ kind: 'verified' });
    expect(planNextStep(approved, yearly, approvedAt + 365 * DAY + 1)).toEqual({
      kind: 'create',
      previousInquiryId: 'inq_1',
      purpose: 'reverification',
    });
    const renewing = after(['inq_1', 'approved', 1, 0], ['inq_2', 'pending', 5, 5]);
    expect(planNextStep(renewing, yearly, approvedAt + 400 * DAY)).toEqual({
      kind: 'resume',
      inquiryId: 'inq_2',
      expired: false,
    });
    expect(planNextStep(renewing, rules(), now)).toEqual({ kind: 'verified' });
  });

  it('waits for a person at Persona when the verified document did not match the traits', () => {
    const held = reading(approvedWith(mismatchFound('review', 1), 1));
    expect(planNextStep(held, rules({ allowRetries: true }), now)).toEqual({
      kind: 'in_review',
      status: 'needs_review',
    });
    const flagged = reading(approvedWith(mismatchFound('flag', 1), 1));
    expect(planNextStep(flagged, rules(), now)).toEqual({ kind: 'verified' });
  });
});
