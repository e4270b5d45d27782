import { mirrorOf, NOT_STARTED, type PersonaRecord } from './record.js';

/**
 * What `/persona/start` and `/persona/status` tell the user and their app: the status the login
 * gate goes by (a standing decision wins over an inquiry in progress), and the inquiry's own.
 */
export function publicStatus(record: PersonaRecord | null): { status: string; inquiry_status: string } {
  if (record === null) return { status: NOT_STARTED, inquiry_status: NOT_STARTED };
  const { status, inquiry_status } = mirrorOf(record);
  return { status, inquiry_status };
}
