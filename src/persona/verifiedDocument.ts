import { z } from 'zod';
import { inquiryResource, personaTime } from './inquiry.js';

/**
 * The attributes of a government-id verification this service can compare with traits
 * (Persona API 2025-12-08, `verification/government-id`): the name and birthdate as the document
 * reads. Nothing else of the verification (photos, numbers, addresses) is parsed or kept.
 */
export const VERIFIED_ATTRIBUTES = ['name-first', 'name-middle', 'name-last', 'birthdate'] as const;
export type VerifiedAttribute = (typeof VERIFIED_ATTRIBUTES)[number];

/** What the document says, attribute by attribute; an attribute the document lacks is absent. */
export type VerifiedDocument = Partial<Record<VerifiedAttribute, string>>;

const documentText = z
  .string()
  .nullable()
  .optional()
  .transform((value) => (value === null || value === undefined || value.trim() === '' ? undefined : value));

/** A passed government-id verification; zod's objects drop every attribute not named here. */
const passedGovernmentId = z.object({
  type: z.literal('verification/government-id'),
  id: z.string(),
  attributes: z.object({
    status: z.literal('passed'),
    'created-at': personaTime.nullable().optional(),
    'completed-at': personaTime.nullable().optional(),
    'name-first': documentText,
    'name-middle': documentText,
    'name-last': documentText,
    birthdate: documentText,
  }),
  relationships: z
    .object({
      inquiry: z
        .object({ data: z.object({ id: z.string() }).nullable().optional() })
        .nullable()
        .optional(),
    })
    .nullable()
    .optional(),
});
type PassedGovernmentId = z.output<typeof passedGovernmentId>;

/** `GET /inquiries/{id}?include=verifications`: the inquiry and, in `included`, its verifications. */
export const inquiryWithVerifications = z.object({
  data: inquiryResource,
  included: z.array(z.unknown()).nullable().optional(),
});

const completedAt = (verification: PassedGovernmentId) =>
  verification.attributes['completed-at'] ?? verification.attributes['created-at'] ?? '';

/**
 * The document of the inquiry's passed government-id verification, or null when it has none. An
 * inquiry may hold several (a retried capture): the one completed last counts. Items of other
 * types, other statuses or another inquiry, and items that do not read as one, are passed over.
 */
export function verifiedDocumentOf(
  inquiryId: string,
  body: z.output<typeof inquiryWithVerifications>,
): VerifiedDocument | null {
  const passed = (body.included ?? [])
    .map((item) => passedGovernmentId.safeParse(item))
    .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
    .filter((verification) => (verification.relationships?.inquiry?.data?.id ?? inquiryId) === inquiryId)
    .sort((a, b) => completedAt(a).localeCompare(completedAt(b)) || a.id.localeCompare(b.id));
  const latest = passed.at(-1);
  if (latest === undefined) return null;
  const document: VerifiedDocument = {};
  for (const attribute of VERIFIED_ATTRIBUTES) {
    const value = latest.attributes[attribute];
    if (value !== undefined) document[attribute] = value;
  }
  return document;
}
