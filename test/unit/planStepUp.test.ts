import { describe, expect, it } from 'vitest';
import { planStepUp, type StepUpRules } from '../../src/stepUp/planStepUp.js';
import type { NextStepRules } from '../../src/verification/nextStep.js';
import type { PersonaRecord } from '../../src/verification/record.js';
import { applyObservation } from '../../src/verification/transition.js';
import { IDENTITY_ID, at, defaultRules, recordAfter } from '../support/records.js';

const MINUTE = 60_000;
const STEP_UP_TEMPLATE = 'itmpl_StepUp';
const rules = defaultRules({ purposeTemplates: { step_up: new Set([STEP_UP_TEMPLATE]) } });
const nextStepRules = (overrides: Partial<NextStepRules> = {}): NextStepRules => ({
  allowRetries: false,
  reverifyAfterMs: undefined,
  ...overrides,
});
const stepUp: StepUpRules = { maxAgeMs: 15 * MINUTE, withTemplate: true };

/** Onboarding approved at minute 0 (a day before `now` unless said otherwise). */
const approved = () => recordAfter([['inq_on', 'approved', 0, 0]], rules) as PersonaRecord;
/** A step-up inquiry seen in `status` at `minute`, created at `createdMinute`. */
const withStepUp = (record: PersonaRecord, id: string, status: string, minute: number, createdMinute = minute) =>
  applyObservation(
    record,
    {
      inquiry: { id, status, referenceId: IDENTITY_ID, templateId: STEP_UP_TEMPLATE, createdAt: at(createdMinute) },
      observedAt: at(minute),
      eventId: `evt_${id}_${status}`,
      purpose: 'step_up',
    },
    rules,
  ).record as PersonaRecord;
const plan = (record: PersonaRecord | null, nowMinute: number, overrides: Partial<NextStepRules> = {}, up = stepUp) =>
  planStepUp(
    record === null ? { kind: 'none' } : { kind: 'record', record, storedDecision: record.decision },
    nextStepRules(overrides),
    up,
    Date.parse(at(nowMinute)),
  );

describe('planStepUp', () => {
  it('sends an identity without a standing approval to its own verification first', () => {
    expect(plan(null, 10)).toEqual({ kind: 'create', previousInquiryId: null, purpose: 'onboarding' });
    expect(plan(recordAfter([['inq_on', 'declined', 1, 0]], rules), 10)).toEqual({ kind: 'declined' });
    expect(plan(recordAfter([['inq_on', 'pending', 1, 0]], rules), 10)).toEqual({
      kind: 'resume',
      inquiryId: 'inq_on',
      expired: false,
    });
  });

  it('is satisfied by a standing approval or a step-up approval no older than the maximum age', () => {
    expect(plan(approved(), 15)).toEqual({ kind: 'verified' });
    expect(plan(withStepUp(approved(), 'inq_up', 'approved', 200, 195), 210)).toEqual({ kind: 'verified' });
  });

  it('opens a step-up inquiry when the approval is older, following the last step-up', () => {
    expect(plan(approved(), 16)).toEqual({ kind: 'create', previousInquiryId: null, purpose: 'step_up' });
    const old = withStepUp(approved(), 'inq_up', 'approved', 20, 18);
    expect(plan(old, 100)).toEqual({ kind: 'create', previousInquiryId: 'inq_up', purpose: 'step_up' });
  });

  it('continues an unfinished step-up inquiry of the last day, and replaces an older one', () => {
    const created = withStepUp(approved(), 'inq_up', 'created', 30);
    expect(plan(created, 40)).toEqual({ kind: 'open', inquiryId: 'inq_up' });
    expect(plan(withStepUp(approved(), 'inq_up', 'pending', 31, 30), 40)).toEqual({
      kind: 'resume',
      inquiryId: 'inq_up',
      expired: false,
    });
    expect(plan(withStepUp(approved(), 'inq_up', 'completed', 31, 30), 40)).toEqual({
      kind: 'in_review',
      status: 'completed',
    });
    expect(plan(created, 30 + 24 * 60 + 1)).toEqual({
      kind: 'create',
      previousInquiryId: 'inq_up',
      purpose: 'step_up',
    });
  });

  it('follows a declined or failed step-up with another, whatever ALLOW_RETRIES says', () => {
    for (const status of ['declined', 'failed']) {
      const ended = withStepUp(approved(), 'inq_up', status, 31, 30);
      for (const allowRetries of [false, true]) {
        expect(plan(ended, 40, { allowRetries })).toEqual({
          kind: 'create',
          previousInquiryId: 'inq_up',
          purpose: 'step_up',
        });
      }
      // A declined step-up never touches the standing approval.
      expect(ended.decision).toMatchObject({ outcome: 'approved', inquiry_id: 'inq_on' });
    }
  });

  it('opens a step-up, never a re-verification, when the approval is due under REVERIFY_AFTER', () => {
    const dueRules = { reverifyAfterMs: 60 * MINUTE };
    expect(plan(approved(), 24 * 60, dueRules)).toEqual({
      kind: 'create',
      previousInquiryId: null,
      purpose: 'step_up',
    });
    // A re-verification already in progress is the login gate's business, not the step-up's.
    const reverifying = recordAfter([['inq_re', 'pending', 100, 99]], rules, approved()) as PersonaRecord;
    expect(reverifying).toMatchObject({ inquiry_id: 'inq_re', decision: { inquiry_id: 'inq_on' } });
    expect(plan(reverifying, 24 * 60, dueRules)).toEqual({
      kind: 'create',
      previousInquiryId: null,
      purpose: 'step_up',
    });
    expect(plan(approved(), 10, dueRules)).toEqual({ kind: 'verified' });
  });

  it('without a step-up template, offers no step-up: never one with the identity’s own template', () => {
    const withoutTemplate = { ...stepUp, withTemplate: false };
    expect(plan(approved(), 20, {}, withoutTemplate)).toEqual({ kind: 'step_up_unavailable' });
    expect(plan(approved(), 20, { reverifyAfterMs: MINUTE }, withoutTemplate)).toEqual({ kind: 'step_up_unavailable' });
    expect(plan(approved(), 10, {}, withoutTemplate)).toEqual({ kind: 'verified' });
    // The identity's own verification still comes first where there is no standing approval.
    expect(plan(null, 10, {}, withoutTemplate)).toEqual({
      kind: 'create',
      previousInquiryId: null,
      purpose: 'onboarding',
    });
  });
});
