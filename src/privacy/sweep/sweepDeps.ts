import type { KratosApi } from '../../kratos/kratosClient.js';
import type { Logger } from '../../logger.js';
import type { AccountReferences } from '../../persona/accountReferences.js';
import type { RecordStore } from '../../verification/recordStore.js';
import type { RedactionAudit } from '../redactionAudit.js';
import type { SweepPersona } from './pacedPersona.js';
import type { SweepState } from './sweepState.js';

/** What the redaction sweeps work with. */
export interface SweepDeps {
  /** Paced by Persona's rate window (pacedPersona.ts). */
  persona: SweepPersona;
  /** Over the paced `persona`. */
  accountReferences: AccountReferences;
  kratos: Pick<KratosApi, 'getIdentity'>;
  store: RecordStore;
  templateIds: readonly string[];
  state: SweepState;
  audit: RedactionAudit;
  logger: Logger;
  now: () => number;
  /** Told after each page, for a command's progress lines. */
  onProgress?: ((line: string) => void) | undefined;
}

/** The actor the audit names for the sweeps' redactions. */
export const SWEEP_ACTOR = 'sweep';

/**
 * An identity's redaction may wait out Persona's rate window between its calls; a Kratos read or
 * a page gets less.
 */
export const IDENTITY_BUDGET_MS = 300_000;
export const READ_BUDGET_MS = 30_000;
