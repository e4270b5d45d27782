import { randomBytes } from 'node:crypto';
import type { Reply } from './standInServer.js';

/** An inquiry as the Persona stand-in keeps it. */
export interface StandInInquiry {
  id: string;
  status: string;
  referenceId: string | null;
  templateId: string;
  accountId: string;
  createdAt: string;
  updatedAt: string;
  fields: Record<string, unknown>;
  /** Set by the API or the dashboard only; the hosted flow cannot set it. */
  note: string | null;
}

/** Persona-style ids: a prefix and letters and digits (`inq_...`, `evt_...`). */
export const randomId = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;

export const personaError = (status: number, title: string, details?: string): Reply => ({
  status,
  body: { errors: [{ title, ...(details !== undefined && { details }) }] },
});
