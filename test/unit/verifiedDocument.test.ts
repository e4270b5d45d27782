import { describe, expect, it } from 'vitest';
import { inquiryWithVerifications, verifiedDocumentsOf } from '../../src/persona/verifiedDocument.js';

const INQUIRY = 'inq_Document123';

/** A government-id verification as Persona 2025-12-08 serializes it in `included` (values made up). */
const governmentId = (id: string, overrides: Record<string, unknown> = {}, inquiryId = INQUIRY) => ({
  type: 'verification/government-id',
  id,
  attributes: {
    status: 'passed',
    'created-at': '2026-07-01T10:00:00.000Z',
    'completed-at': '2026-07-01T10:00:05.000Z',
    'country-code': 'US',
    'front-photo-url': 'https://files.withpersona.com/front.jpg?access_token=SECRET',
    'name-first': 'ZEPHYRINE',
    'name-middle': null,
    'name-last': 'OKONKWO',
    birthdate: '1987-03-14',
    'identification-number': 'Y1234567',
    'address-street-1': '1 MAIN ST',
    ...overrides,
  },
  relationships: {
    inquiry: { data: { type: 'inquiry', id: inquiryId } },
    document: { data: { type: 'document/government-id', id: 'doc_1' } },
  },
});

const response = (included: unknown[]) =>
  inquiryWithVerifications.parse({
    data: { type: 'inquiry', id: INQUIRY, attributes: { status: 'approved' } },
    included,
  });

describe('verifiedDocumentsOf', () => {
  it('reads the name and birthdate of the passed government-id verification, and nothing else', () => {
    const documents = verifiedDocumentsOf(INQUIRY, response([governmentId('ver_1')]));
    expect(documents).toEqual([{ 'name-first': 'ZEPHYRINE', 'name-last': 'OKONKWO', birthdate: '1987-03-14' }]);
    expect(JSON.stringify(documents)).not.toMatch(/Y1234567|MAIN ST|access_token/);
  });

  it('reads every passed one: a capture retried, or a second document of someone else', () => {
    const retried = governmentId('ver_2', { 'completed-at': '2026-07-01T10:09:00.000Z', 'name-last': 'OKONKWO-HALE' });
    const other = governmentId('ver_3', { 'name-first': 'MARGUERITE', 'name-last': 'DUPONT', birthdate: '1990-11-02' });
    const failed = governmentId('ver_4', { status: 'failed', 'name-last': 'FAILED' });
    const documents = verifiedDocumentsOf(INQUIRY, response([retried, governmentId('ver_1'), other, failed]));
    expect(documents.map((document) => document['name-last'])).toEqual(['OKONKWO-HALE', 'OKONKWO', 'DUPONT']);
  });

  it.each([
    ['no verification at all', []],
    ['a failed government-id', [governmentId('ver_1', { status: 'failed' })]],
    ['another kind of verification', [{ ...governmentId('ver_1'), type: 'verification/selfie' }]],
    ["another inquiry's verification", [governmentId('ver_1', {}, 'inq_Other')]],
    [
      'an item that does not read as one',
      [{ type: 'verification/government-id', id: 'ver_1', attributes: { status: 'passed', 'name-first': 7 } }],
    ],
  ])('finds no document in %s', (_name, included) => {
    expect(verifiedDocumentsOf(INQUIRY, response(included))).toEqual([]);
  });

  it('leaves out fields the document lacks', () => {
    const blank = governmentId('ver_1', { 'name-first': '  ', birthdate: null });
    expect(verifiedDocumentsOf(INQUIRY, response([blank]))).toEqual([{ 'name-last': 'OKONKWO' }]);
  });

  it('reads an answer without `included` as one without verifications', () => {
    const body = inquiryWithVerifications.parse({ data: { type: 'inquiry', id: INQUIRY } });
    expect(verifiedDocumentsOf(INQUIRY, body)).toEqual([]);
  });
});
