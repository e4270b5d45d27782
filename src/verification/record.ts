import { z } from 'zod';

/** The status of a record whose inquiry could not be created yet; `/persona/start` creates it later. */
export const NOT_STARTED = 'not_started';

/** How many earlier inquiries `history` keeps: enough to audit, small enough for identity metadata. */
export const HISTORY_LIMIT = 5;

const historyEntry = z.object({
  inquiry_id: z.string(),
  status: z.string(),
  decided_at: z.string().nullable(),
});

/**
 * `metadata_admin.persona`, the source of truth (product.md, "The record on the identity").
 * Ids, statuses and times only: never names, birthdates, documents, payloads or error bodies.
 */
const personaRecord = z.object({
  inquiry_id: z.string().nullable(),
  status: z.string(),
  template_id: z.string().nullable(),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  decided_at: z.string().nullable().default(null),
  last_event_id: z.string().nullable().default(null),
  history: z.array(historyEntry).max(50).default([]),
});

export type PersonaRecord = z.output<typeof personaRecord>;
export type HistoryEntry = z.output<typeof historyEntry>;

/** `metadata_public.persona`: what the login gate and the UI may read without an admin call. */
export const publicMirror = z.object({
  status: z.string(),
  verified_at: z.string().nullable().optional(),
});

export type PublicMirror = z.output<typeof publicMirror>;

/** The record stored in `metadata_admin`, or null when there is none or it is not ours to read. */
export function readRecord(metadataAdmin: unknown): PersonaRecord | null {
  if (metadataAdmin === null || typeof metadataAdmin !== 'object') return null;
  const parsed = personaRecord.safeParse((metadataAdmin as Record<string, unknown>)['persona']);
  return parsed.success ? parsed.data : null;
}

export function mirrorOf(record: PersonaRecord, approvedStatuses: ReadonlySet<string>): PublicMirror {
  return {
    status: record.status,
    verified_at: approvedStatuses.has(record.status) ? record.decided_at : null,
  };
}

export function notStartedRecord(templateId: string): PersonaRecord {
  return {
    inquiry_id: null,
    status: NOT_STARTED,
    template_id: templateId,
    created_at: null,
    updated_at: null,
    decided_at: null,
    last_event_id: null,
    history: [],
  };
}
