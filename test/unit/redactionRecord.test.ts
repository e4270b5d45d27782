import { describe, expect, it } from 'vitest';
import { ownershipOf } from '../../src/privacy/ownership.js';
import { inquiriesOf, withRedacted, withVerificationForgotten } from '../../src/privacy/redactionRecord.js';
import { planNextStep } from '../../src/verification/nextStep.js';
import { readRecord } from '../../src/verification/readRecord.js';
import { REDACTED_INQUIRIES_LIMIT, type PersonaRecord } from '../../src/verification/record.js';
import { applyObservation } from '../../src/verification/transition.js';
import { at, defaultRules, inquiry, recordAfter } from '../support/records.js';

const statuses = defaultRules().statuses;
const declined = () =>
  recordAfter([
    ['inq_1', 'completed', 1, 0],
    ['inq_1', 'declined', 2, 0],
  ]) as PersonaRecord;
const stored = (record: PersonaRecord) => ({ persona: JSON.parse(JSON.stringify(record)) as unknown });

describe('withRedacted', () => {
  it('notes which inquiries went and when, and keeps the decision', () => {
    const record = withRedacted(declined(), { inquiryIds: ['inq_1'], account: true, at: at(10) });
    expect(record.redaction).toEqual({
      redacted_at: at(10),
      account_redacted_at: at(10),
      inquiries: [{ inquiry_id: 'inq_1', redacted_at: at(10) }],
      forgotten: null,
    });
    expect(record.decision).toEqual(declined().decision);
    expect(record.status).toBe('declined');
  });

  it('keeps the first time an inquiry was seen redacted, and changes nothing said already', () => {
    const once = withRedacted(declined(), { inquiryIds: ['inq_1'], account: false, at: at(10) });
    expect(withRedacted(once, { inquiryIds: ['inq_1'], account: false, at: at(20) })).toBe(once);
    const twice = withRedacted(once, { inquiryIds: ['inq_1', 'inq_2'], account: false, at: at(20) });
    expect(twice.redaction?.inquiries).toEqual([
      { inquiry_id: 'inq_2', redacted_at: at(20) },
      { inquiry_id: 'inq_1', redacted_at: at(10) },
    ]);
    expect(twice.redaction?.redacted_at).toBe(at(20));
  });

  it(`keeps at most ${REDACTED_INQUIRIES_LIMIT} inquiries, newest first`, () => {
    let record = declined();
    for (let minute = 0; minute < REDACTED_INQUIRIES_LIMIT + 5; minute += 1) {
      record = withRedacted(record, { inquiryIds: [`inq_${minute}`], account: false, at: at(minute) });
    }
    expect(record.redaction?.inquiries).toHaveLength(REDACTED_INQUIRIES_LIMIT);
    expect(record.redaction?.inquiries[0]?.inquiry_id).toBe(`inq_${REDACTED_INQUIRIES_LIMIT + 4}`);
  });
});

describe('withVerificationForgotten', () => {
  it('leaves a record that reads never verified, and lists what it forgot', () => {
    const record = recordAfter([
      ['inq_1', 'declined', 2, 0],
      ['inq_2', 'approved', 5, 3],
    ]) as PersonaRecord;
    const forgotten = withVerificationForgotten(
      { ...record, actions: { deactivated_at: at(2), sessions_revoked_at: at(2), pending: ['revoke_sessions'] } },
      at(10),
    );
    expect(forgotten).toMatchObject({
      inquiry_id: null,
      status: 'not_started',
      decision: null,
      decisions: [],
      purposes: {},
      history: [],
      actions: { deactivated_at: null, sessions_revoked_at: at(2), pending: [] },
      redaction: { redacted_at: at(10), forgotten: { at: at(10), inquiry_ids: ['inq_2', 'inq_1'] } },
    });
    // Read back as stored, it stays forgotten: nothing in it says "declined".
    const reading = readRecord(stored(forgotten), statuses);
    expect(reading).toMatchObject({ kind: 'record', record: { decision: null, status: 'not_started' } });
  });

  it('makes the forgotten inquiries count for nothing but a decline, and lets a new one count', () => {
    const forgotten = withVerificationForgotten(declined(), at(10));
    const late = applyObservation(
      forgotten,
      { inquiry: inquiry('inq_1', 'approved'), observedAt: at(11), eventId: 'evt_late' },
      defaultRules(),
    );
    expect(late.outcome).toBe('unrecognised');
    // Forgetting erases a verification, never a decline Persona gives afterwards (a review's flip).
    const flipped = applyObservation(
      forgotten,
      { inquiry: { ...inquiry('inq_1', 'declined'), decisionedAt: at(11) }, observedAt: at(11), eventId: 'evt_flip' },
      defaultRules(),
    );
    expect(flipped.record?.decision).toMatchObject({ outcome: 'declined', inquiry_id: 'inq_1' });
    const fresh = applyObservation(
      forgotten,
      { inquiry: inquiry('inq_9', 'approved', 12), observedAt: at(13), eventId: 'evt_new' },
      defaultRules(),
    );
    expect(fresh.record?.decision).toMatchObject({ outcome: 'approved', inquiry_id: 'inq_9' });
  });
});

describe('reading what was redacted', () => {
  it('reads it back as written, and an entry it cannot read as absent', () => {
    const record = withRedacted(declined(), { inquiryIds: ['inq_1'], account: false, at: at(10) });
    const reading = readRecord(stored(record), statuses);
    expect(reading).toMatchObject({ kind: 'record', record: { redaction: record.redaction } });

    const broken = stored(record);
    Object.assign((broken.persona as Record<string, unknown>)['redaction'] as object, {
      inquiries: [{ inquiry_id: 'inq_1', redacted_at: 'yesterday' }, 'nonsense'],
      forgotten: { at: 'never' },
    });
    expect(readRecord(broken, statuses)).toMatchObject({
      kind: 'record',
      record: { redaction: { inquiries: [], forgotten: null }, decision: { outcome: 'declined' } },
    });
  });
});

describe('planNextStep after a redaction', () => {
  const rules = { allowRetries: false, reverifyAfterMs: undefined };

  it('opens a new inquiry instead of resuming one whose data is gone', () => {
    const pending = recordAfter([['inq_1', 'pending', 1, 0]]) as PersonaRecord;
    expect(planNextStep({ kind: 'record', record: pending, storedDecision: null }, rules, 0)).toMatchObject({
      kind: 'resume',
    });
    const redacted = withRedacted(pending, { inquiryIds: ['inq_1'], account: false, at: at(5) });
    expect(planNextStep({ kind: 'record', record: redacted, storedDecision: null }, rules, 0)).toEqual({
      kind: 'create',
      previousInquiryId: 'inq_1',
      purpose: 'onboarding',
    });
  });

  it('keeps a redacted decline a decline', () => {
    const redacted = withRedacted(declined(), { inquiryIds: ['inq_1'], account: true, at: at(5) });
    expect(planNextStep({ kind: 'record', record: redacted, storedDecision: redacted.decision }, rules, 0)).toEqual({
      kind: 'declined',
    });
  });
});

describe('what is ours', () => {
  const scope = { templateIds: ['itmpl_A'], knownInquiryIds: new Set(['inq_known']) };
  it.each([
    ['opened by the service', { id: 'inq_1', templateId: 'itmpl_A', openedByService: true }, 'ours'],
    [
      'held by the record, without the note',
      { id: 'inq_known', templateId: 'itmpl_A', openedByService: false },
      'ours',
    ],
    ['of our template, opened by anybody', { id: 'inq_2', templateId: 'itmpl_A', openedByService: false }, 'not_ours'],
    ['of another template, with our note', { id: 'inq_3', templateId: 'itmpl_B', openedByService: true }, 'not_ours'],
    ['redacted already', { id: 'inq_4', templateId: 'itmpl_A', redactedAt: at(1) }, 'redacted'],
  ])('an inquiry %s is %s', (_name, candidate, expected) => {
    expect(ownershipOf(candidate, scope)).toBe(expected);
  });

  it('knows every inquiry a record names', () => {
    const record = recordAfter([
      ['inq_1', 'declined', 2, 0],
      ['inq_2', 'pending', 5, 3],
    ]) as PersonaRecord;
    expect(inquiriesOf(record).sort()).toEqual(['inq_1', 'inq_2']);
  });
});
