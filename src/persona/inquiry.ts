import { z } from 'zod';

/** Persona times look like `2026-07-29T10:15:32.017Z`; kept as ISO strings, compared as instants. */
export const personaTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/, 'must be an ISO 8601 time')
  .refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 time')
  .transform((text) => new Date(text).toISOString());

/** Statuses are open-ended (Persona adds new ones without notice); only their shape is checked. */
const inquiryStatus = z.string().regex(/^[a-z][a-z_]{0,39}$/, 'must be a Persona inquiry status');

const relationship = z
  .object({ data: z.object({ id: z.string().optional() }).nullable().optional() })
  .nullable()
  .optional();

/**
 * The start of the `note` this service gives every inquiry it creates. Persona's hosted flow cannot
 * set a note (only the API and the dashboard can), so it tells the service's inquiries from ones
 * anybody could open with a template link and a guessed reference id.
 */
export const SERVICE_NOTE_PREFIX = 'Opened by ory-persona-idv';

/** The note of an inquiry this service opens for `purpose`. */
export const serviceNote = (purpose: string) => `${SERVICE_NOTE_PREFIX} (purpose: ${purpose})`;

/** What this service reads of an inquiry; anything may be missing where blocklists removed it. */
export interface Inquiry {
  id: string;
  status?: string | undefined;
  /** null: the inquiry has no reference id; undefined: the payload did not say. */
  referenceId?: string | null | undefined;
  templateId?: string | undefined;
  /** The Persona account the inquiry belongs to: it carries the reference id when the inquiry does not. */
  accountId?: string | undefined;
  createdAt?: string | undefined;
  updatedAt?: string | undefined;
  /** When the inquiry was last approved or declined (`decisioned-at`); the same on every redelivery. */
  decisionedAt?: string | undefined;
  /** Whether its `note` says this service opened it; undefined when the payload did not say. */
  openedByService?: boolean | undefined;
  /** When Persona redacted it (`redacted-at`): its status and times stay, its personal data is gone. */
  redactedAt?: string | undefined;
}

/**
 * The statuses that are Persona's decisions, which it dates with `decisioned-at` (set by Workflows,
 * the dashboard or the API; reference/persona-api.md, "Statuses and events").
 */
export const PERSONA_DECISIONS: ReadonlySet<string> = new Set(['approved', 'declined']);

/** An inquiry resource with kebab keys, from a webhook payload or an API response. */
export const inquiryResource = z
  .object({
    type: z.literal('inquiry'),
    id: z.string().regex(/^inq_[A-Za-z0-9]+$/, 'must be an inquiry id (inq_...)'),
    attributes: z
      .object({
        status: inquiryStatus.optional(),
        'reference-id': z.string().nullable().optional(),
        'created-at': personaTime.optional(),
        'updated-at': personaTime.nullable().optional(),
        'decisioned-at': personaTime.nullable().optional(),
        'redacted-at': personaTime.nullable().optional(),
        note: z.string().max(2000).nullable().optional(),
      })
      .optional(),
    relationships: z
      .object({ 'inquiry-template': relationship, template: relationship, account: relationship })
      .nullable()
      .optional(),
  })
  .transform((resource): Inquiry => ({
    id: resource.id,
    status: resource.attributes?.status,
    referenceId: resource.attributes?.['reference-id'],
    templateId:
      resource.relationships?.['inquiry-template']?.data?.id ?? resource.relationships?.template?.data?.id ?? undefined,
    accountId: resource.relationships?.account?.data?.id ?? undefined,
    createdAt: resource.attributes?.['created-at'],
    updatedAt: resource.attributes?.['updated-at'] ?? undefined,
    decisionedAt: resource.attributes?.['decisioned-at'] ?? undefined,
    redactedAt: resource.attributes?.['redacted-at'] ?? undefined,
    openedByService:
      resource.attributes?.note === undefined
        ? undefined
        : (resource.attributes.note?.startsWith(SERVICE_NOTE_PREFIX) ?? false),
  }));

/**
 * An inquiry with everything a decision needs. A `null` reference id: the inquiry names none itself;
 * its account may (see accountReferences.ts).
 */
export type CompleteInquiry = Inquiry & {
  status: string;
  referenceId: string | null;
  templateId: string;
  createdAt: string;
};

export function isCompleteInquiry(inquiry: Inquiry): inquiry is CompleteInquiry {
  return (
    inquiry.status !== undefined &&
    inquiry.referenceId !== undefined &&
    inquiry.templateId !== undefined &&
    inquiry.createdAt !== undefined
  );
}
