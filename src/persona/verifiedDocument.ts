import { z } from 'zod';
import { inquiryResource } from './inquiry.js';

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

/** `GET /inquiries/{id}?include=verifications`: the inquiry and, in `included`, its verifications. */
export const inquiryWithVerifications = z.object({
  data: inquiryResource,
  included: z.array(z.unknown()).nullable().optional(),
});

/**
 * The documents of the inquiry's passed government-id verifications, none when it has none. An
 * inquiry may hold several (a capture retried, a second document): all of them are returned, for
 * each must match the traits. Items of other types, other statuses or another inquiry, and items
 * that do not read as one, are passed over.
 */
export function verifiedDocumentsOf(
  inquiryId: string,
  body: z.output<typeof inquiryWithVerifications>,
): VerifiedDocument[] {
  return (body.included ?? [])
    .map((item) => passedGovernmentId.safeParse(item))
    .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
    .filter((verification) => (verification.relationships?.inquiry?.data?.id ?? inquiryId) === inquiryId)
    .map(({ attributes }) => {
      const document: VerifiedDocument = {};
      for (const attribute of VERIFIED_ATTRIBUTES) {
        const value = attributes[attribute];
        if (value !== undefined) document[attribute] = value;
      }
      return document;
    });
}
