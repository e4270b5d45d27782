import type { PersonaRecord } from '../verification/record.js';

/**
 * Only an active identity that holds a standing approval can be recovered by verification: the
 * recovery template compares the person against that earlier verification. A declined identity,
 * one never verified, and one deactivated (by this service or anyone else) cannot.
 */
export function isRecoverable(identityState: string | null, record: PersonaRecord | null): boolean {
  return identityState === 'active' && record?.decision?.outcome === 'approved';
}
