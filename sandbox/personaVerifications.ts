/**
 * The government-id verification the Persona stand-in's inquiries carry once the user has submitted
 * a document, shaped as Persona's `verification/government-id` (API 2025-12-08): the name and
 * birthdate the document reads, the rest of what Persona reports about a document left empty.
 */

/** What the document says; null where it says nothing. */
export type DocumentPerson = Partial<Record<'name-first' | 'name-middle' | 'name-last' | 'birthdate', string | null>>;

export interface StandInVerification {
  id: string;
  /** The `document/government-id` the verification read. */
  documentId: string;
  createdAt: string;
  completedAt: string;
  person: DocumentPerson;
}

/** The statuses an inquiry reaches only after its document was submitted and checked. */
export const DOCUMENT_CHECKED_STATUSES: ReadonlySet<string> = new Set([
  'completed',
  'needs_review',
  'approved',
  'declined',
]);

/** Without other knowledge the document says what the user typed into the inquiry's fields. */
export function personFromFields(fields: Record<string, unknown>): DocumentPerson {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    'name-first': text(fields['name-first']),
    'name-middle': text(fields['name-middle']),
    'name-last': text(fields['name-last']),
    birthdate: text(fields['birthdate']),
  };
}

const seconds = (time: string) => Math.floor(Date.parse(time) / 1000);
const none = { data: null };

export function governmentIdResource(
  verification: StandInVerification,
  inquiry: { id: string; templateId: string; redactedAt: string | null },
): object {
  const person = verification.person;
  return {
    type: 'verification/government-id',
    id: verification.id,
    attributes: {
      status: 'passed',
      'created-at': verification.createdAt,
      'created-at-ts': seconds(verification.createdAt),
      'submitted-at': verification.createdAt,
      'submitted-at-ts': seconds(verification.createdAt),
      'completed-at': verification.completedAt,
      'completed-at-ts': seconds(verification.completedAt),
      'redacted-at': inquiry.redactedAt,
      'country-code': 'US',
      tags: [],
      checks: [],
      'entity-confidence-score': 100,
      'entity-confidence-reasons': [],
      'front-photo-url': null,
      'back-photo-url': null,
      'photo-urls': [],
      'selfie-photo': null,
      'selfie-photo-url': null,
      'video-url': null,
      'id-class': 'dl',
      'capture-method': 'upload',
      'name-first': person['name-first'] ?? null,
      'name-middle': person['name-middle'] ?? null,
      'name-last': person['name-last'] ?? null,
      'name-suffix': null,
      birthdate: person.birthdate ?? null,
      'address-street-1': null,
      'address-street-2': null,
      'address-city': null,
      'address-subdivision': null,
      'address-postal-code': null,
      'issuing-authority': null,
      'issuing-subdivision': null,
      nationality: null,
      'document-number': null,
      'visa-status': null,
      'issue-date': null,
      'expiration-date': null,
      designations: [],
      birthplace: null,
      endorsements: null,
      height: null,
      sex: null,
      restrictions: null,
      'vehicle-class': null,
      'identification-number': null,
      'from-reusable-persona': false,
    },
    relationships: {
      inquiry: { data: { type: 'inquiry', id: inquiry.id } },
      template: none,
      'inquiry-template-version': none,
      'inquiry-template': { data: { type: 'inquiry-template', id: inquiry.templateId } },
      transaction: none,
      'verification-template': none,
      'verification-template-version': none,
      document: { data: { type: 'document/government-id', id: verification.documentId } },
    },
  };
}
