import { describe, expect, it } from 'vitest';
import { readRecord, type RecordReading } from '../../src/verification/readRecord.js';
import { mirrorOf, type PersonaRecord } from '../../src/verification/record.js';
import { approvedWith, at, mismatchFound, recordAfter } from '../support/records.js';

const statuses = { approved: new Set(['approved']), declined: new Set(['declined']) };
const read = (metadataAdmin: unknown) => readRecord(metadataAdmin, statuses);
const recordOf = (reading: RecordReading) => {
  if (reading.kind !== 'record') throw new Error(`not a record: ${JSON.stringify(reading)}`);
  return reading.record;
};
const gateStatus = (reading: RecordReading) => mirrorOf(recordOf(reading)).status;

/** A record exactly as version 1 (0.1.0) wrote it; its fields are taken from that version's tests. */
const version1 = (fields: Record<string, unknown> = {}) => ({
  inquiry_id: 'inq_1',
  status: 'approved',
  template_id: 'itmpl_A',
  created_at: at(0),
  updated_at: at(5),
  decided_at: at(5),
  last_event_id: 'evt_5',
  history: [],
  ...fields,
});

describe('readRecord: this version', () => {
  it('reads what the transitions write, unchanged', () => {
    const written = recordAfter([
      ['inq_1', 'declined', 5, 0],
      ['inq_2', 'pending', 10, 8],
    ]) as PersonaRecord;
    expect(read({ persona: JSON.parse(JSON.stringify(written)), other: 1 })).toEqual({
      kind: 'record',
      record: written,
      storedDecision: written.decision,
    });
  });

  it('reads an approval held for review, with its attribute comparison, unchanged', () => {
    const written = approvedWith(mismatchFound('review', 5), 5);
    expect(written.decision?.outcome).toBe('needs_review');
    expect(read({ persona: JSON.parse(JSON.stringify(written)) })).toEqual({
      kind: 'record',
      record: written,
      storedDecision: written.decision,
    });
    expect(gateStatus(read({ persona: written }))).toBe('needs_review');
  });

  it('keeps what a decision counts as when its attribute comparison cannot be read', () => {
    const written = approvedWith(mismatchFound('review', 5), 5);
    const damaged = JSON.parse(JSON.stringify(written)) as Record<string, { attribute_match: unknown }[]>;
    for (const decision of [damaged['decision'], ...(damaged['decisions'] ?? [])]) {
      Object.assign(decision as object, { attribute_match: { outcome: 'Jane Doe' } });
    }
    const record = recordOf(read({ persona: damaged }));
    expect(record.decision).toMatchObject({ outcome: 'needs_review', inquiry_id: 'inq_1' });
    expect(record.decision).not.toHaveProperty('attribute_match');
    expect(gateStatus(read({ persona: damaged }))).toBe('needs_review');
  });

  it('reads the recovery code issued, and one written before its inquiry’s times were kept', () => {
    const written = recordAfter([['inq_1', 'approved', 5, 0]]) as PersonaRecord;
    const code = {
      inquiry_id: 'inq_r',
      inquiry_created_at: at(30),
      decided_at: at(40),
      issued_at: at(41),
      second_factors_removed: true,
    };
    expect(recordOf(read({ persona: { ...written, recovery_code: code } })).recovery_code).toEqual(code);
    const { inquiry_created_at: _created, decided_at: _decided, ...older } = code;
    expect(recordOf(read({ persona: { ...written, recovery_code: older } })).recovery_code).toEqual({
      ...older,
      inquiry_created_at: null,
      decided_at: null,
    });
    // The approval that issued a code counts for step-up, as a step-up's does.
    expect(mirrorOf({ ...written, recovery_code: code }).step_up_verified_at).toBe(at(40));
  });

  it('has no record when there is none', () => {
    for (const metadata of [null, undefined, {}, { persona: null }, { crm: 'x' }]) {
      expect(read(metadata)).toEqual({ kind: 'none' });
    }
  });

  it('calls metadata that is not an object unreadable: it might be a record encoded twice', () => {
    for (const metadata of ['{"persona":{"status":"declined"}}', [1], 7]) {
      expect(read(metadata)).toEqual({ kind: 'unreadable', reason: 'metadata_not_an_object' });
    }
  });

  it('reads a record of this version that lost its version key as this version', () => {
    const written = recordAfter([
      ['inq_1', 'declined', 5, 0],
      ['inq_2', 'approved', 10, 8],
      ['inq_3', 'pending', 20, 15],
    ]) as PersonaRecord;
    const { version: _version, ...withoutVersion } = JSON.parse(JSON.stringify(written)) as Record<string, unknown>;
    expect(recordOf(read({ persona: withoutVersion })).decision).toEqual(written.decision);
  });

  it('never lets its decisions grow, however many declined retries an identity goes through', () => {
    const steps = Array.from({ length: 40 }, (_, n): [string, string, number, number] => [
      `inq_${n}`,
      'declined',
      2 * n + 1,
      2 * n,
    ]);
    const record = recordAfter(steps) as PersonaRecord;
    expect(record.decisions).toHaveLength(1);
    expect(mirrorOf(record).status).toBe('declined');
  });
});

describe('readRecord: records of version 1', () => {
  it.each([
    ['created', null],
    ['pending', null],
    ['approved', 'approved'],
    ['declined', 'declined'],
  ])('reads a %s record with its meaning', (status, decision) => {
    const record = recordOf(read({ persona: version1({ status, decided_at: decision ? at(5) : null }) }));
    expect(record).toMatchObject({
      version: 2,
      inquiry_id: 'inq_1',
      status,
      updated_at: at(5),
      last_event_id: 'evt_5',
    });
    expect(record.decision?.status ?? null).toBe(decision);
    // A purpose's result holds a purpose's fields only, as the transitions write it.
    expect(record.purposes.onboarding).toEqual({
      inquiry_id: 'inq_1',
      status,
      created_at: at(0),
      updated_at: at(5),
      decided_at: decision ? at(5) : null,
      outcome: decision,
    });
  });

  it('finds the decline version 1 pushed into history when a new inquiry was opened', () => {
    const hidden = version1({
      inquiry_id: 'inq_2',
      status: 'created',
      created_at: at(10),
      decided_at: null,
      history: [{ inquiry_id: 'inq_1', status: 'declined', decided_at: at(5) }],
    });
    expect(gateStatus(read({ persona: hidden }))).toBe('declined');
  });

  it('keeps a decline lifted by a later approval lifted', () => {
    const lifted = version1({
      inquiry_id: 'inq_3',
      status: 'created',
      created_at: at(20),
      decided_at: null,
      history: [
        { inquiry_id: 'inq_2', status: 'approved', decided_at: at(15) },
        { inquiry_id: 'inq_1', status: 'declined', decided_at: at(5) },
      ],
    });
    const record = recordOf(read({ persona: lifted }));
    expect(record.decision).toMatchObject({ outcome: 'approved', inquiry_id: 'inq_2' });
    // A new inquiry created after the upgrade can still lift a decline that came from history.
    const declinedInHistory = version1({
      inquiry_id: 'inq_2',
      status: 'created',
      created_at: at(10),
      decided_at: null,
      history: [{ inquiry_id: 'inq_1', status: 'declined', decided_at: at(5) }],
    });
    const upgraded = recordOf(read({ persona: declinedInHistory }));
    const retried = recordAfter([['inq_9', 'approved', 30, 25]], undefined, upgraded) as PersonaRecord;
    expect(retried.decision).toMatchObject({ outcome: 'approved', inquiry_id: 'inq_9' });
  });

  it('reads a record with more history than it ever kept, and keeps a decline anywhere in it', () => {
    const history = Array.from({ length: 60 }, (_, n) => ({
      inquiry_id: `inq_h${n}`,
      status: n === 40 ? 'declined' : 'expired',
      decided_at: n === 40 ? at(1) : null,
    }));
    const record = recordOf(read({ persona: version1({ status: 'pending', decided_at: null, history }) }));
    expect(record.history).toHaveLength(5);
    expect(mirrorOf(record).status).toBe('declined');
  });
});

describe('readRecord: partial, legacy and corrupt records fail safe', () => {
  it.each([
    ['a hand-written decline', { persona: { inquiry_id: 'inq_x', status: 'declined' } }],
    ['a decline with nothing else', { persona: { status: 'declined' } }],
    ['a decline as a bare string', { persona: 'declined' }],
    ['the community integration’s status key', { persona_verification_status: 'declined' }],
    ['the community integration’s inquiry key', { persona_inquiry_status: 'declined', persona_inquiry_id: 'inq_y' }],
    ['a legacy decline beside an approved record', { persona: version1(), persona_inquiry_status: 'declined' }],
    ['a newer version that says declined', { persona: { version: 7, status: 'declined' } }],
    [
      'a record whose standing decision is declined but unreadable otherwise',
      { persona: { version: 2, decision: { outcome: 'declined' } } },
    ],
    [
      'a record whose decision cannot be read but whose status declines',
      { persona: { version: 2, status: 'declined', decision: 'x' } },
    ],
  ])('blocks on %s', (_name, metadata) => {
    expect(gateStatus(read(metadata))).toBe('declined');
  });

  it.each([
    ['a string', { persona: 'verified' }, 'not_an_object'],
    ['a number', { persona: 42 }, 'not_an_object'],
    ['an object without a status', { persona: { inquiry_id: 'inq_1' } }, 'no_status'],
    ['a status that is not text', { persona: { status: 1 } }, 'no_status'],
    ['a version we do not know', { persona: { version: 7, status: 'approved' } }, 'unknown_version'],
    [
      'a decision we cannot read',
      { persona: { version: 2, status: 'approved', decision: { outcome: 'maybe' } } },
      'decision_unreadable',
    ],
  ])('calls %s unreadable, never "no record"', (_name, metadata, reason) => {
    expect(read(metadata)).toEqual({ kind: 'unreadable', reason });
  });

  it.each([
    [
      'a decline in a list too long to read',
      {
        persona: {
          version: 2,
          status: 'approved',
          decisions: Array.from({ length: 5_000 }, (_, n) => ({
            outcome: n === 4_000 ? 'declined' : 'approved',
            status: 'x',
            inquiry_id: `inq_${n}`,
          })),
        },
      },
    ],
    [
      'a decline in a history too long to read',
      {
        persona: {
          status: 'created',
          history: Array.from({ length: 5_000 }, (_, n) => ({
            inquiry_id: `inq_${n}`,
            status: n === 10 ? 'declined' : 'expired',
          })),
        },
      },
    ],
    [
      'a decline whose status is missing',
      { persona: { version: 2, status: 'pending', decisions: [{ outcome: 'declined', inquiry_id: 'inq_1' }] } },
    ],
    [
      'a list beside a decision that is not an object',
      {
        persona: {
          version: 2,
          status: 'pending',
          decision: 'declined',
          decisions: [{ outcome: 'declined', status: 'declined' }],
        },
      },
    ],
  ])('blocks on %s', (_name, metadata) => {
    expect(gateStatus(read(metadata))).toBe('declined');
  });

  it('calls an entry of the decisions it cannot interpret unreadable: it might have been a decline', () => {
    expect(read({ persona: { version: 2, status: 'approved', decisions: [{ outcome: 'maybe' }] } })).toEqual({
      kind: 'unreadable',
      reason: 'decision_unreadable',
    });
  });

  it('ignores a legacy status that is not a decline, rather than trusting it as an approval', () => {
    expect(read({ persona_verification_status: 'approved' })).toEqual({ kind: 'none' });
  });
});
