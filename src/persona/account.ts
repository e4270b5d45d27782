import { z } from 'zod';
import { personaTime } from './inquiry.js';

/**
 * A Persona account: the person behind every inquiry of one reference id (reference/persona-api.md).
 * Only what this service reads: its id, its reference id and whether it was redacted; its `fields`
 * (personal data) never are.
 */
export interface Account {
  id: string;
  /** Null: the account carries none (or no longer does, once redacted). */
  referenceId: string | null;
  /** When Persona redacted it, which redacts every inquiry under it too. */
  redactedAt?: string | undefined;
}

/** An account resource with kebab keys, from an API response or a webhook payload. */
export const accountResource = z
  .object({
    type: z.literal('account'),
    id: z.string().regex(/^act_[A-Za-z0-9]+$/, 'must be an account id (act_...)'),
    attributes: z
      .object({
        'reference-id': z.string().nullable().optional(),
        'redacted-at': personaTime.nullable().optional(),
      })
      .optional(),
  })
  .transform((resource): Account => ({
    id: resource.id,
    referenceId: resource.attributes?.['reference-id'] ?? null,
    redactedAt: resource.attributes?.['redacted-at'] ?? undefined,
  }));
