import { describe, expect, it } from 'vitest';
import { decideLogin, type LoginPolicy } from '../../src/policy/loginPolicy.js';
import { planNextStep } from '../../src/verification/nextStep.js';
import { readRecord } from '../../src/verification/readRecord.js';
import { emptyRecord, mirrorOf, readMirror, type PersonaRecord } from '../../src/verification/record.js';
import { withRequirement, withRequirementMet } from '../../src/verification/reverification.js';
import { applyObservation } from '../../src/verification/transition.js';
import { at, defaultRules, inquiry, recordAfter } from '../support/records.js';

const rules = defaultRules();
const statuses = rules.statuses;
const required = (record: PersonaRecord, minute: number, blockLogin = true) =>
  withRequirement(record, { required_at: at(minute), reason: 'role_change', block_login: blockLogin });

/** The record after one more webhook about `id` (created at `createdMinute`) in `status`, seen at `minute`. */
const observe = (record: PersonaRecord, id: string, status: string, minute: number, createdMinute: number) =>
  applyObservation(
    record,
    { inquiry: inquiry(id, status, createdMinute), observedAt: at(minute), eventId: `evt_${id}_${status}_${minute}` },
    rules,
  ).record as PersonaRecord;

const approvedAtTen = () => recordAfter([['inq_1', 'approved', 10, 0]]) as PersonaRecord;

describe('a requirement to verify again', () => {
  it('names the inquiry in progress when it was required, and a later one replaces it', () => {
    const record = required(approvedAtTen(), 20);
    expect(record.reverification).toEqual({
      required_at: at(20),
      reason: 'role_change',
      block_login: true,
      inquiry_id: 'inq_1',
    });
    expect(required(record, 30, false).reverification).toMatchObject({ required_at: at(30), block_login: false });
  });

  it('is met by the approval of an inquiry opened after it, and by nothing else', () => {
    const record = required(approvedAtTen(), 20);
    // The approval it was required despite, seen again or flipped back, does not meet it.
    expect(observe(record, 'inq_1', 'approved', 25, 0).reverification).not.toBeNull();
    // A new inquiry in progress, completed, or declined does not either.
    const opened = observe(record, 'inq_2', 'created', 21, 21);
    expect(opened.reverification).not.toBeNull();
    expect(observe(opened, 'inq_2', 'completed', 30, 21).reverification).not.toBeNull();
    expect(observe(opened, 'inq_2', 'declined', 30, 21).reverification).not.toBeNull();
    // Its approval does.
    expect(observe(opened, 'inq_2', 'approved', 30, 21).reverification).toBeNull();
  });

  it('is not met by an inquiry that was in progress when it was required, whatever the clocks say', () => {
    const inProgress = recordAfter([
      ['inq_1', 'approved', 10, 0],
      ['inq_2', 'pending', 19, 19],
    ]) as PersonaRecord;
    // The service's clock runs behind Persona's: the requirement says 18, the inquiry was created at 19.
    const record = required(inProgress, 18);
    expect(observe(record, 'inq_2', 'approved', 30, 19).reverification).not.toBeNull();
  });

  it('is not met by an inquiry created before it', () => {
    const record = required(approvedAtTen(), 20);
    // An inquiry the record did not hold yet, created before the requirement, decided after it.
    const late = applyObservation(
      record,
      { inquiry: inquiry('inq_0', 'approved', 15), observedAt: at(30), eventId: 'evt_late', purpose: 'reverification' },
      rules,
    ).record as PersonaRecord;
    expect(late.decision).toMatchObject({ outcome: 'approved' });
    expect(late.reverification).not.toBeNull();
  });

  it('is carried by the mirror only when it blocks the login', () => {
    expect(mirrorOf(required(approvedAtTen(), 20)).reverification_required).toBe(true);
    expect(mirrorOf(required(approvedAtTen(), 20, false)).reverification_required).toBe(false);
    expect(mirrorOf(approvedAtTen()).reverification_required).toBe(false);
  });

  it('is read back as written; one that cannot be read still requires and blocks', () => {
    const record = required(approvedAtTen(), 20);
    const read = readRecord({ persona: JSON.parse(JSON.stringify(record)) }, statuses);
    expect(read).toMatchObject({ kind: 'record', record: { reverification: record.reverification } });
    for (const broken of ['yes', { required_at: 'soon' }, { required_at: at(20), reason: 'x', block_login: 'no' }]) {
      const reading = readRecord({ persona: { ...record, reverification: broken } }, statuses);
      expect(reading).toMatchObject({
        kind: 'record',
        record: { reverification: { block_login: true, reason: 'unreadable', inquiry_id: 'inq_1' } },
      });
    }
  });

  it('reads the flag of a mirror, and refuses a mirror whose flag is not a boolean', () => {
    const mirror = mirrorOf(required(approvedAtTen(), 20));
    expect(readMirror(mirror)).toMatchObject({ reverification_required: true, fromVersion1: false });
    expect(readMirror({ ...mirror, reverification_required: 'true' })).toBeUndefined();
    expect(readMirror({ status: 'approved', verified_at: at(10), inquiry_status: 'approved' })).toMatchObject({
      reverification_required: false,
    });
  });

  it('leaves a record without one unchanged', () => {
    const record = approvedAtTen();
    expect(withRequirementMet(record)).toBe(record);
  });
});

describe('the next step of an identity required to verify again', () => {
  const nextRules = { allowRetries: false, reverifyAfterMs: undefined };
  const plan = (record: PersonaRecord) =>
    planNextStep({ kind: 'record', record, storedDecision: record.decision }, nextRules, Date.parse(at(60)));

  it('opens a re-verification after the approved inquiry, or after the one in progress', () => {
    expect(plan(required(approvedAtTen(), 20))).toEqual({
      kind: 'create',
      previousInquiryId: 'inq_1',
      purpose: 'reverification',
    });
    const pending = recordAfter([
      ['inq_1', 'approved', 10, 0],
      ['inq_2', 'pending', 15, 15],
    ]) as PersonaRecord;
    expect(plan(required(pending, 20))).toMatchObject({ kind: 'create', previousInquiryId: 'inq_2' });
    expect(plan(required(emptyRecord(), 20))).toMatchObject({ kind: 'create', previousInquiryId: null });
  });

  it('continues an inquiry opened after the requirement', () => {
    const record = observe(required(approvedAtTen(), 20), 'inq_2', 'pending', 22, 21);
    expect(plan(record)).toEqual({ kind: 'resume', inquiryId: 'inq_2', expired: false });
    expect(plan(observe(record, 'inq_2', 'completed', 25, 21))).toEqual({ kind: 'in_review', status: 'completed' });
  });

  it('grants a declined identity no retry', () => {
    const declined = recordAfter([['inq_1', 'declined', 10, 0]]) as PersonaRecord;
    expect(plan(required(declined, 20))).toEqual({ kind: 'declined' });
  });
});

describe('the login gate with a requirement to verify again', () => {
  const policy = (name: LoginPolicy['policy']): LoginPolicy => ({
    policy: name,
    gracePeriodMs: 86_400_000,
    reverifyAfterMs: undefined,
    approvedStatuses: statuses.approved,
    declinedStatuses: statuses.declined,
  });
  const now = Date.parse(at(60));

  it.each(['block-declined', 'require-approved'] as const)(
    'blocks with 4100003 under %s, grace period or not',
    (name) => {
      const facts = { status: 'approved', verifiedAt: at(10), identityCreatedAt: at(59), reverificationRequired: true };
      expect(decideLogin(facts, policy(name), now)).toEqual({ allow: false, reason: 'reverification_required' });
      expect(decideLogin({ ...facts, reverificationRequired: false }, policy(name), now).allow).toBe(true);
      expect(decideLogin({ ...facts, status: 'declined' }, policy(name), now)).toEqual({
        allow: false,
        reason: 'declined',
      });
    },
  );
});
