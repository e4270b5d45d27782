import type { Config } from '../../config.js';
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
  /**
   * Templates whose inquiries may name no identity: a recovery for an address without an account
   * carries a decoy reference (recovery/decoyReference.ts). The deletion sweep redacts its data as
   * a deleted identity's, but never counts it towards ALL_MISSING_GUARD, or anyone could stop the
   * sweep by asking to recover unknown addresses.
   */
  decoyTemplateIds: readonly string[];
  state: SweepState;
  audit: RedactionAudit;
  logger: Logger;
  now: () => number;
  /** Told after each page, for a command's progress lines. */
  onProgress?: ((line: string) => void) | undefined;
}

/** The recovery template, whose inquiries may carry a decoy reference (SweepDeps.decoyTemplateIds). */
export const decoyTemplateIdsOf = (config: Readonly<Config>): string[] =>
  config.recovery.templateId === undefined ? [] : [config.recovery.templateId];

/** The actor the audit names for the sweeps' redactions. */
export const SWEEP_ACTOR = 'sweep';

/**
 * An identity's redaction may wait out Persona's rate window between its calls; a Kratos read or
 * a page gets less.
 */
export const IDENTITY_BUDGET_MS = 300_000;
export const READ_BUDGET_MS = 30_000;
