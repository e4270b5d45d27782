import { describe, expect, it } from 'vitest';
import { HISTORY_LIMIT, mirrorOf, notStartedRecord, type PersonaRecord } from '../../src/verification/record.js';
import { applyObservation, markNotStarted, type Observation } from '../../src/verification/transition.js';
import { at, defaultRules, inquiry, recordAfter, type Step } from '../support/records.js';

const rules = defaultRules();

const observe = (
  i: ReturnType<typeof inquiry>,
  minute: number,
  eventId: string | null = `evt_${minute}`,
): Observation => ({
  inquiry: i,
  observedAt: at(minute),
  eventId,
});

const created = applyObservation(null, observe(inquiry('inq_1', 'created'), 0, null), rules).record as PersonaRecord;

/** Every order of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

/** What the login gate and operators see of a record after the steps. */
const standing = (steps: Step[], options: { duplicated?: boolean } = {}) => {
  const applied = options.duplicated ? steps.flatMap((step) => [step, step]) : steps;
  const record = recordAfter(applied) as PersonaRecord;
  return {
    decision: record.decision === null ? null : `${record.decision.status}:${record.decision.inquiry_id}`,
    mirror: mirrorOf(record).status,
  };
};

describe('applyObservation: the inquiry in progress', () => {
  it('starts a record from the first observation', () => {
    expect(created).toMatchObject({
      version: 2,
      inquiry_id: 'inq_1',
      status: 'created',
      template_id: 'itmpl_A',
      created_at: at(0),
      updated_at: at(0),
      decided_at: null,
      last_event_id: null,
      history: [],
      purpose: 'onboarding',
      decision: null,
      purposes: { onboarding: { inquiry_id: 'inq_1', status: 'created' } },
    });
  });

  it('applies newer observations and stamps decisions', () => {
    const approved = applyObservation(created, observe(inquiry('inq_1', 'approved'), 5), rules);
    expect(approved.outcome).toBe('applied');
    expect(approved.record).toMatchObject({
      status: 'approved',
      updated_at: at(5),
      decided_at: at(5),
      last_event_id: 'evt_5',
      decision: { outcome: 'approved', status: 'approved', inquiry_id: 'inq_1', decided_at: at(5) },
    });
  });

  it("keeps Persona's decision time when the same decision is seen again later", () => {
    const decided = { ...inquiry('inq_1', 'approved'), decisionedAt: at(4) };
    const approved = applyObservation(created, observe(decided, 5), rules).record as PersonaRecord;
    expect(approved.decision?.decided_at).toBe(at(4));
    const again = applyObservation(approved, observe(decided, 30), rules).record;
    expect(again?.decided_at).toBe(at(4));
    expect(again?.decision?.decided_at).toBe(at(4));
    expect(again?.updated_at).toBe(at(30));
  });

  it("dates the same status seen again without Persona's decisioned-at as it was first dated", () => {
    const approved = applyObservation(created, observe(inquiry('inq_1', 'approved'), 5), rules).record as PersonaRecord;
    // A tag update of the approved inquiry, or a reconciliation, days later.
    const again = applyObservation(approved, observe(inquiry('inq_1', 'approved'), 3_000, 'evt_tags'), rules)
      .record as PersonaRecord;
    expect(again.decision?.decided_at).toBe(at(5));
    expect(mirrorOf(again).verified_at).toBe(at(5));
    const flipped = applyObservation(again, observe(inquiry('inq_1', 'declined'), 3_001), rules).record;
    expect(flipped?.decision).toMatchObject({ outcome: 'declined', decided_at: at(3_001) });
  });

  it('calls the last event again a duplicate, and anything not newer stale', () => {
    const approved = applyObservation(created, observe(inquiry('inq_1', 'approved'), 5), rules).record as PersonaRecord;
    expect(applyObservation(approved, observe(inquiry('inq_1', 'approved'), 5), rules).outcome).toBe('duplicate');
    expect(applyObservation(approved, observe(inquiry('inq_1', 'completed'), 4), rules).outcome).toBe('stale');
    expect(applyObservation(approved, observe(inquiry('inq_1', 'completed'), 5, 'evt_other'), rules).outcome).toBe(
      'stale',
    );
  });

  it('breaks an exact tie of times in favour of the status further along', () => {
    const completed = applyObservation(created, observe(inquiry('inq_1', 'completed'), 5), rules)
      .record as PersonaRecord;
    const approved = applyObservation(completed, observe(inquiry('inq_1', 'approved'), 5, 'evt_a'), rules);
    expect(approved.outcome).toBe('applied');
    const record = approved.record as PersonaRecord;
    expect(applyObservation(record, observe(inquiry('inq_1', 'completed'), 5, 'evt_c'), rules).outcome).toBe('stale');
  });

  it('lets a later-created inquiry take the place of the one in progress and keeps that one in history', () => {
    const declined = applyObservation(created, observe(inquiry('inq_1', 'declined'), 5), rules).record as PersonaRecord;
    const next = applyObservation(declined, observe(inquiry('inq_2', 'created', 10), 10), rules);
    expect(next.outcome).toBe('applied');
    expect(next.record).toMatchObject({
      inquiry_id: 'inq_2',
      status: 'created',
      created_at: at(10),
      purpose: 'reverification',
      history: [{ inquiry_id: 'inq_1', status: 'declined', decided_at: at(5), purpose: 'onboarding' }],
      decision: { outcome: 'declined', inquiry_id: 'inq_1' },
    });
  });

  it('ignores a non-decision of an inquiry created before the one in progress', () => {
    const newer = applyObservation(created, observe(inquiry('inq_2', 'created', 10), 10), rules)
      .record as PersonaRecord;
    const late = applyObservation(newer, observe(inquiry('inq_1', 'pending', 0), 30), rules);
    expect(late.outcome).toBe('superseded');
    expect(late.record).toBe(newer);
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

describe('applyObservation: the standing decision', () => {
  it.each([
    ['created', 'created'],
    ['pending', 'pending'],
    ['completed', 'completed'],
    ['needs_review', 'needs_review'],
    ['expired', 'expired'],
    ['failed', 'failed'],
  ])('a new inquiry that is %s never lifts a decline', (status) => {
    const result = standing([
      ['inq_1', 'declined', 5, 0],
      ['inq_2', status, 10, 8],
    ]);
    expect(result).toEqual({ decision: 'declined:inq_1', mirror: 'declined' });
  });

  it('a later-created inquiry that is approved lifts a decline', () => {
    expect(
      standing([
        ['inq_1', 'declined', 5, 0],
        ['inq_2', 'created', 8, 8],
        ['inq_2', 'approved', 12, 8],
      ]),
    ).toEqual({ decision: 'approved:inq_2', mirror: 'approved' });
  });

  it('an approval of an inquiry created before the declined one never lifts the decline', () => {
    const steps: Step[] = [
      ['inq_1', 'created', 0, 0],
      ['inq_2', 'declined', 5, 2],
      ['inq_1', 'approved', 9, 0],
    ];
    for (const order of permutations(steps))
      expect(standing(order)).toEqual({ decision: 'declined:inq_2', mirror: 'declined' });
  });

  it('a manual review flips a decision of the same inquiry both ways', () => {
    const approved: Step = ['inq_1', 'approved', 5, 0];
    const declinedOnReview: Step = ['inq_1', 'declined', 20, 0];
    const approvedAgain: Step = ['inq_1', 'approved', 40, 0];
    expect(standing([approved, declinedOnReview])).toEqual({ decision: 'declined:inq_1', mirror: 'declined' });
    expect(standing([approved, declinedOnReview, approvedAgain])).toEqual({
      decision: 'approved:inq_1',
      mirror: 'approved',
    });
  });

  it('a review that finds fraud in an earlier inquiry blocks the person despite a later approval', () => {
    const steps: Step[] = [
      ['inq_1', 'approved', 5, 0],
      ['inq_2', 'approved', 30, 20],
      ['inq_1', 'declined', 50, 0],
    ];
    for (const order of permutations(steps))
      expect(standing(order)).toEqual({ decision: 'declined:inq_1', mirror: 'declined' });
  });

  it('a late redelivery of an older decision changes nothing', () => {
    const steps: Step[] = [
      ['inq_1', 'approved', 5, 0],
      ['inq_1', 'declined', 20, 0],
      ['inq_1', 'approved', 5, 0],
    ];
    expect(standing(steps)).toEqual({ decision: 'declined:inq_1', mirror: 'declined' });
  });

  it.each([
    ['approved', ['created', 'pending', 'completed', 'approved']],
    ['declined', ['created', 'pending', 'completed', 'needs_review', 'declined']],
  ])('one inquiry ends %s whatever the order and however often its events arrive', (final, statuses) => {
    const steps = statuses.map((status, minute): Step => ['inq_1', status, minute, 0]);
    for (const order of permutations(steps)) {
      for (const duplicated of [false, true]) {
        const record = recordAfter(duplicated ? order.flatMap((step) => [step, step]) : order) as PersonaRecord;
        expect(record.decision?.status).toBe(final);
        expect(record.status).toBe(final);
        expect(mirrorOf(record).status).toBe(final);
      }
    }
  });

  it('two inquiries interleaved in any order end in the same decision', () => {
    const steps: Step[] = [
      ['inq_1', 'completed', 2, 0],
      ['inq_1', 'declined', 4, 0],
      ['inq_2', 'created', 6, 6],
      ['inq_2', 'completed', 8, 6],
      ['inq_2', 'approved', 9, 6],
    ];
    for (const order of permutations(steps)) {
      expect(standing(order, { duplicated: true })).toEqual({ decision: 'approved:inq_2', mirror: 'approved' });
      const record = recordAfter(order) as PersonaRecord;
      expect(record.inquiry_id).toBe('inq_2');
    }
  });

  it('an approval and a decline at the same instant keep the decline', () => {
    const steps: Step[] = [
      ['inq_1', 'approved', 5, 0],
      ['inq_2', 'declined', 5, 1],
    ];
    for (const order of permutations(steps)) expect(standing(order).decision).toBe('declined:inq_2');
  });

  it('a step-up inquiry is recorded under its purpose and never touches the standing decision', () => {
    const approved = recordAfter([['inq_1', 'approved', 5, 0]]) as PersonaRecord;
    const stepUp = recordAfter([['inq_9', 'declined', 30, 25]], defaultRules(), approved, 'step_up') as PersonaRecord;
    expect(stepUp.decision).toEqual(approved.decision);
    expect(stepUp.inquiry_id).toBe('inq_1');
    expect(stepUp.purposes.step_up).toMatchObject({ inquiry_id: 'inq_9', status: 'declined', decided_at: at(30) });
    const byTemplate = applyObservation(
      approved,
      observe(inquiry('inq_8', 'declined', 25, 'itmpl_StepUp'), 30),
      defaultRules({ purposeTemplates: { step_up: new Set(['itmpl_StepUp']) } }),
    ).record as PersonaRecord;
    expect(byTemplate.decision).toEqual(approved.decision);
    expect(byTemplate.purposes.step_up?.inquiry_id).toBe('inq_8');
  });
});

describe('markNotStarted', () => {
  it('writes not_started only over nothing', () => {
    expect(markNotStarted(null, 'itmpl_A')).toEqual({ outcome: 'applied', record: notStartedRecord('itmpl_A') });
    expect(markNotStarted(created, 'itmpl_A')).toEqual({ outcome: 'unchanged', record: created });
  });
});
