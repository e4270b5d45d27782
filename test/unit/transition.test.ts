import { describe, expect, it } from 'vitest';
import type { CompleteInquiry } from '../../src/persona/inquiry.js';
import { HISTORY_LIMIT, notStartedRecord, type PersonaRecord } from '../../src/verification/record.js';
import { applyObservation, markNotStarted, type Observation } from '../../src/verification/transition.js';

const rules = { decidedStatuses: new Set(['approved', 'declined']) };
const at = (minute: number) => new Date(Date.UTC(2026, 6, 1, 10, minute)).toISOString();

const inquiry = (id: string, status: string, createdMinute = 0): CompleteInquiry => ({
  id,
  status,
  referenceId: '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34',
  templateId: 'itmpl_A',
  createdAt: at(createdMinute),
});

const observe = (i: CompleteInquiry, minute: number, eventId: string | null = `evt_${minute}`): Observation => ({
  inquiry: i,
  observedAt: at(minute),
  eventId,
});

const created = applyObservation(null, observe(inquiry('inq_1', 'created'), 0, null), rules).record as PersonaRecord;

describe('applyObservation', () => {
  it('starts a record from the first observation', () => {
    expect(created).toEqual({
      inquiry_id: 'inq_1',
      status: 'created',
      template_id: 'itmpl_A',
      created_at: at(0),
      updated_at: at(0),
      decided_at: null,
      last_event_id: null,
      history: [],
    });
  });

  it('applies newer observations and stamps decisions', () => {
    const approved = applyObservation(created, observe(inquiry('inq_1', 'approved'), 5), rules);
    expect(approved).toEqual({
      outcome: 'applied',
      record: { ...created, status: 'approved', updated_at: at(5), decided_at: at(5), last_event_id: 'evt_5' },
    });
  });

  it('keeps the decision time when the same decision is seen again, and clears it when undecided', () => {
    const approved = applyObservation(created, observe(inquiry('inq_1', 'approved'), 5), rules).record as PersonaRecord;
    const again = applyObservation(approved, observe(inquiry('inq_1', 'approved'), 6), rules).record;
    expect(again?.decided_at).toBe(at(5));
    const review = applyObservation(approved, observe(inquiry('inq_1', 'needs_review'), 7), rules).record;
    expect(review?.decided_at).toBeNull();
  });

  it('calls the last event again a duplicate, and anything not newer stale', () => {
    const approved = applyObservation(created, observe(inquiry('inq_1', 'approved'), 5), rules).record as PersonaRecord;
    expect(applyObservation(approved, observe(inquiry('inq_1', 'approved'), 5), rules).outcome).toBe('duplicate');
    expect(applyObservation(approved, observe(inquiry('inq_1', 'completed'), 4), rules).outcome).toBe('stale');
    expect(applyObservation(approved, observe(inquiry('inq_1', 'completed'), 5, 'evt_other'), rules).outcome).toBe(
      'stale',
    );
  });

  it('breaks an exact tie of event times in favour of the status further along', () => {
    const completed = applyObservation(created, observe(inquiry('inq_1', 'completed'), 5), rules)
      .record as PersonaRecord;
    expect(applyObservation(completed, observe(inquiry('inq_1', 'approved'), 5, 'evt_a'), rules).outcome).toBe(
      'applied',
    );
    const approved = applyObservation(completed, observe(inquiry('inq_1', 'approved'), 5, 'evt_a'), rules)
      .record as PersonaRecord;
    expect(applyObservation(approved, observe(inquiry('inq_1', 'completed'), 5, 'evt_c'), rules).outcome).toBe('stale');
    expect(applyObservation(approved, observe(inquiry('inq_1', 'declined'), 5, 'evt_d'), rules).outcome).toBe('stale');
  });

  it('lets a later-created inquiry replace the record and keeps the old one in history', () => {
    const declined = applyObservation(created, observe(inquiry('inq_1', 'declined'), 5), rules).record as PersonaRecord;
    const next = applyObservation(declined, observe(inquiry('inq_2', 'created', 10), 10), rules);
    expect(next.outcome).toBe('applied');
    expect(next.record).toMatchObject({
      inquiry_id: 'inq_2',
      status: 'created',
      created_at: at(10),
      history: [{ inquiry_id: 'inq_1', status: 'declined', decided_at: at(5) }],
    });
  });

  it('ignores an inquiry created before the recorded one, whatever its event time', () => {
    const newer = applyObservation(created, observe(inquiry('inq_2', 'created', 10), 10), rules)
      .record as PersonaRecord;
    const late = applyObservation(newer, observe(inquiry('inq_1', 'approved', 0), 30), rules);
    expect(late).toEqual({ outcome: 'superseded', record: newer });
  });

  it(`keeps at most ${HISTORY_LIMIT} earlier inquiries`, () => {
    let record: PersonaRecord = created;
    for (let n = 2; n <= HISTORY_LIMIT + 3; n += 1) {
      record = applyObservation(record, observe(inquiry(`inq_${n}`, 'created', n), n), rules).record as PersonaRecord;
    }
    expect(record.history).toHaveLength(HISTORY_LIMIT);
    expect(record.history[0]?.inquiry_id).toBe(`inq_${HISTORY_LIMIT + 2}`);
  });

  it('adopts any inquiry over a not_started record', () => {
    const result = applyObservation(notStartedRecord('itmpl_A'), observe(inquiry('inq_1', 'pending'), 3), rules);
    expect(result.outcome).toBe('applied');
    expect(result.record).toMatchObject({ inquiry_id: 'inq_1', status: 'pending', history: [] });
  });
});

describe('markNotStarted', () => {
  it('writes not_started only over nothing', () => {
    expect(markNotStarted(null, 'itmpl_A')).toEqual({ outcome: 'applied', record: notStartedRecord('itmpl_A') });
    expect(markNotStarted(created, 'itmpl_A')).toEqual({ outcome: 'unchanged', record: created });
  });
});
