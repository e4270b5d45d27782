import { describe, expect, it } from 'vitest';
import { eventsOfChange } from '../../src/notifications/changeEvents.js';
import type { PersonaRecord } from '../../src/verification/record.js';
import { applyObservation } from '../../src/verification/transition.js';
import {
  IDENTITY_ID,
  approvedWith,
  at,
  defaultRules,
  inquiry,
  mismatchFound,
  recordAfter,
  type Step,
} from '../support/records.js';

const rules = defaultRules();
const statuses = rules.statuses;

/** The events of applying `step` to the record the earlier steps left, as the store would compute them. */
function eventsOf(earlier: Step[], step: Step) {
  const before = recordAfter(earlier);
  const after = recordAfter([step], rules, before) as PersonaRecord;
  return eventsOfChange(IDENTITY_ID, before, after, statuses).map((event) => ({
    type: event.type,
    inquiry: event.data.inquiry_id,
    status: event.data.status,
    standing: event.data.standing_decision?.status ?? null,
  }));
}

describe('eventsOfChange: one event per change worth telling', () => {
  it.each<[string, Step[], Step, { type: string; inquiry: string; standing: string | null }[]]>([
    ['an inquiry created', [], ['inq_1', 'created', 0, 0], []],
    ['an inquiry started', [['inq_1', 'created', 0, 0]], ['inq_1', 'pending', 1, 0], []],
    ['an inquiry completed', [['inq_1', 'pending', 1, 0]], ['inq_1', 'completed', 2, 0], []],
    [
      'an approval',
      [['inq_1', 'completed', 2, 0]],
      ['inq_1', 'approved', 3, 0],
      [{ type: 'verification.approved', inquiry: 'inq_1', standing: 'approved' }],
    ],
    [
      'a decline',
      [['inq_1', 'completed', 2, 0]],
      ['inq_1', 'declined', 3, 0],
      [{ type: 'verification.declined', inquiry: 'inq_1', standing: 'declined' }],
    ],
    [
      'a review',
      [['inq_1', 'completed', 2, 0]],
      ['inq_1', 'needs_review', 3, 0],
      [{ type: 'verification.needs_review', inquiry: 'inq_1', standing: null }],
    ],
    [
      'an expiry',
      [['inq_1', 'pending', 2, 0]],
      ['inq_1', 'expired', 30, 0],
      [{ type: 'verification.expired', inquiry: 'inq_1', standing: null }],
    ],
    [
      'a manual review that turns an approval into a decline',
      [['inq_1', 'approved', 3, 0]],
      ['inq_1', 'declined', 9, 0],
      [{ type: 'verification.declined', inquiry: 'inq_1', standing: 'declined' }],
    ],
    [
      'a decline found later in an earlier inquiry: the standing decision changes, the newest inquiry does not',
      [
        ['inq_1', 'approved', 3, 0],
        ['inq_2', 'approved', 13, 10],
      ],
      ['inq_1', 'declined', 20, 0],
      [{ type: 'verification.declined', inquiry: 'inq_1', standing: 'declined' }],
    ],
    [
      'an approval of a later inquiry that lifts a decline',
      [
        ['inq_1', 'declined', 3, 0],
        ['inq_2', 'completed', 12, 10],
      ],
      ['inq_2', 'approved', 13, 10],
      [{ type: 'verification.approved', inquiry: 'inq_2', standing: 'approved' }],
    ],
    ['a late event older than what is held', [['inq_1', 'approved', 3, 0]], ['inq_1', 'completed', 2, 0], []],
  ])('%s', (_name, earlier, step, expected) => {
    expect(eventsOf(earlier, step)).toEqual(expected.map((event) => expect.objectContaining(event)));
  });

  it('tells nothing for a duplicate, and the same change twice is the same event', () => {
    const before = recordAfter([['inq_1', 'completed', 2, 0]]);
    const after = recordAfter([['inq_1', 'approved', 3, 0]], rules, before) as PersonaRecord;
    expect(eventsOfChange(IDENTITY_ID, after, after, statuses)).toEqual([]);
    const [first] = eventsOfChange(IDENTITY_ID, before, after, statuses);
    const [again] = eventsOfChange(IDENTITY_ID, before, structuredClone(after), statuses);
    expect(again).toEqual(first);
    expect(first?.timestamp).toBe(at(3));
  });

  it('a flip and its flip back are two events with two ids', () => {
    const approved = recordAfter([['inq_1', 'approved', 3, 0]]) as PersonaRecord;
    const declined = recordAfter([['inq_1', 'declined', 9, 0]], rules, approved) as PersonaRecord;
    const approvedAgain = recordAfter([['inq_1', 'approved', 15, 0]], rules, declined) as PersonaRecord;
    const ids = [
      ...eventsOfChange(IDENTITY_ID, null, approved, statuses),
      ...eventsOfChange(IDENTITY_ID, approved, declined, statuses),
      ...eventsOfChange(IDENTITY_ID, declined, approvedAgain, statuses),
    ].map((event) => `${event.type} ${event.id}`);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
  });

  it("a step-up's result is told under its purpose and leaves the standing decision alone", () => {
    const stepUpRules = defaultRules({ purposeTemplates: { step_up: new Set(['itmpl_S']) } });
    const before = recordAfter([['inq_1', 'approved', 3, 0]], stepUpRules) as PersonaRecord;
    const after = applyObservation(
      before,
      { inquiry: inquiry('inq_s', 'declined', 10, 'itmpl_S'), observedAt: at(12), eventId: 'evt_s' },
      stepUpRules,
    ).record as PersonaRecord;
    expect(eventsOfChange(IDENTITY_ID, before, after, statuses)).toEqual([
      expect.objectContaining({
        type: 'verification.declined',
        data: expect.objectContaining({
          inquiry_id: 'inq_s',
          purpose: 'step_up',
          standing_decision: expect.objectContaining({ status: 'approved', inquiry_id: 'inq_1' }),
        }),
      }),
    ]);
  });

  it('announces a decline again, with the same id, once its account actions are done after a failure', () => {
    const completed = recordAfter([['inq_1', 'completed', 2, 0]]) as PersonaRecord;
    const declined = recordAfter([['inq_1', 'declined', 3, 0]], rules, completed) as PersonaRecord;
    const written = { ...declined, actions: { ...declined.actions, pending: ['revoke_sessions' as const] } };
    const done = { ...written, actions: { ...written.actions, pending: [], sessions_revoked_at: at(4) } };
    const [announced] = eventsOfChange(IDENTITY_ID, completed, done, statuses);
    // The section that wrote `written` failed before it could announce; the next one announces.
    expect(eventsOfChange(IDENTITY_ID, written, done, statuses)).toEqual([announced]);
    expect(eventsOfChange(IDENTITY_ID, done, done, statuses)).toEqual([]);
  });

  it.each([
    ['review', 'needs_review'],
    ['decline', 'declined'],
    ['flag', 'approved'],
  ] as const)(
    'tells an approval whose document does not match as a mismatch (%s), and what it made of the decision',
    (onMismatch, standing) => {
      const before = recordAfter([['inq_1', 'completed', 2, 0]]);
      const after = approvedWith(mismatchFound(onMismatch, 3), 3, before);
      expect(eventsOfChange(IDENTITY_ID, before, after, statuses)).toEqual([
        expect.objectContaining({
          type: 'verification.mismatch',
          data: expect.objectContaining({
            inquiry_id: 'inq_1',
            status: 'approved',
            standing_decision: expect.objectContaining({ outcome: standing }),
          }),
        }),
      ]);
    },
  );

  it('tells the approval a person gives in Persona after the review a mismatch held it for', () => {
    const held = approvedWith(mismatchFound('review', 3), 3, recordAfter([['inq_1', 'completed', 2, 0]]));
    const approvedAfterReview = approvedWith(mismatchFound('review', 3), 40, held);
    expect(eventsOfChange(IDENTITY_ID, held, approvedAfterReview, statuses).map((event) => event.type)).toEqual([
      'verification.approved',
    ]);
  });
});
