import { isIdentityId } from '../../identityId.js';
import { errorFields } from '../../logger.js';
import { OutboundError } from '../../outbound/outboundError.js';
import { deadlineIn } from '../../outbound/retry.js';
import type { Inquiry } from '../../persona/inquiry.js';
import { redactIdentity } from '../redactIdentity.js';
import { IDENTITY_BUDGET_MS, READ_BUDGET_MS, SWEEP_ACTOR, type SweepDeps } from './sweepDeps.js';
import { forEachInquiryPage } from './sweepPages.js';

/**
 * As many identities checked from the top of the list, none of them in Kratos and none found
 * missing before, look like a KRATOS_ADMIN_URL of another Kratos (another environment's): the run
 * stops before it notes any of them, and says so; so does a whole run with fewer to check, when
 * every one it checked is missing. Until a run has found an identity that exists (it vouches for
 * this Kratos), it notes no newly missing identity and leaves no cursor: one stopped by the guard,
 * a failure or a restart starts again at the top, guarded. Identities found missing by an earlier
 * (vouched) run do not count, so once an operator has let a run through (`evenIfAllMissing`), the
 * next runs pass.
 */
export const ALL_MISSING_GUARD = 20;

/**
 * Reference ids a run remembers having looked up, so an identity's inquiries on neighbouring pages
 * (newest first) cost one Kratos read; beyond it the memory starts again (a repeat read is harmless).
 */
const REMEMBERED_REFERENCES = 10_000;

export interface DeletedSweepOptions {
  /** REDACT_DELETED_AFTER: how long an identity must have been missing. */
  graceMs: number;
  dryRun: boolean;
  /** Go on when every identity checked is missing (ALL_MISSING_GUARD): a Kratos whose identities were all deleted. */
  evenIfAllMissing?: boolean;
}

export interface DeletedSweepCounts {
  pages: number;
  /** Inquiries listed. */
  inquiries: number;
  /** Distinct reference ids of our inquiries looked up in Kratos. */
  checked: number;
  existing: number;
  missing: number;
  /** Missing for less than the grace period: redacted by a later run. */
  waiting: number;
  /** Identities whose Persona data was redacted (or would be, on a dry run). */
  redacted: number;
  failed: number;
  complete: boolean;
  stopped?: 'listing_failed' | 'kratos_failed' | 'persona_failed' | 'all_missing' | undefined;
}

/**
 * Finds the Persona data of identities deleted from Kratos and redacts it once they have been
 * missing for the grace period, so an identity deleted by mistake can be restored before anything
 * is lost. Kratos sends no event when an identity is deleted and keeps nothing of it: an identity
 * is missing only when its admin API answers 404 for it; a failure or a timeout counts for nothing
 * and stops the run. Only inquiries of our templates that carry the service's note are looked at
 * (there is no record left to say what else was ours). When the identity was first found missing is
 * kept in the sweep state (sweepState.ts). Resumable: the cursor is saved after each page.
 */
export async function sweepDeletedIdentities(
  deps: SweepDeps,
  options: DeletedSweepOptions,
): Promise<DeletedSweepCounts> {
  const counts: DeletedSweepCounts = {
    pages: 0,
    inquiries: 0,
    checked: 0,
    existing: 0,
    missing: 0,
    waiting: 0,
    redacted: 0,
    failed: 0,
    complete: false,
  };
  const seen = new Set<string>();
  // Only a vouched run leaves a cursor, so a resumed run needs no guard (it starts among older
  // inquiries, where the deleted may be all there is).
  const guarded =
    !options.evenIfAllMissing && (options.dryRun || (await deps.state.cursor('deleted_identities')) === undefined);
  let fresh = 0;
  const vouched = () => !guarded || counts.existing > 0;
  /** Identities found missing for the first time before the run was vouched: noted once it is. */
  const held: string[] = [];
  const tripped = () => {
    deps.logger.error(
      { checked: counts.checked, setting: 'KRATOS_ADMIN_URL' },
      'redaction sweep stopped: none of the identities of these Persona inquiries exists in Kratos; is KRATOS_ADMIN_URL the Kratos they belong to?',
    );
    counts.stopped = 'all_missing';
  };

  const decoys = new Set(deps.decoyTemplateIds);
  /** References seen on inquiries only a real identity has: those the guard counts. */
  const real = new Set<string>();
  const referencesOf = async (inquiries: Inquiry[]): Promise<string[]> => {
    const references: string[] = [];
    for (const inquiry of inquiries) {
      counts.inquiries += 1;
      if (inquiry.redactedAt !== undefined || inquiry.openedByService !== true) continue;
      const reference = await deps.accountReferences.referenceIdOf(inquiry, { deadline: deadlineIn(READ_BUDGET_MS) });
      if (!isIdentityId(reference)) continue;
      if (inquiry.templateId === undefined || !decoys.has(inquiry.templateId)) real.add(reference);
      if (seen.has(reference)) continue;
      if (seen.size >= REMEMBERED_REFERENCES) {
        seen.clear();
        real.clear();
      }
      seen.add(reference);
      references.push(reference);
    }
    return references;
  };

  const noteMissing = async (reference: string, missingSince?: Date): Promise<'continue' | 'stop'> => {
    counts.missing += 1;
    const now = new Date(deps.now());
    const first = options.dryRun ? (missingSince ?? now) : await deps.state.markMissing(reference, now);
    if (now.getTime() - first.getTime() < options.graceMs) {
      counts.waiting += 1;
      return 'continue';
    }
    return redactMissing(deps, reference, options, counts);
  };

  const visit = async (inquiries: Inquiry[]): Promise<'continue' | 'stop'> => {
    let references: string[];
    try {
      references = await referencesOf(inquiries);
    } catch (error) {
      deps.logger.warn(errorFields(error), 'redaction sweep could not read an account of an inquiry');
      counts.stopped = 'persona_failed';
      return 'stop';
    }
    const since = await deps.state.missingSince(references);
    const missing: string[] = [];
    for (const reference of references) {
      try {
        const identity = await deps.kratos.getIdentity(reference, { deadline: deadlineIn(READ_BUDGET_MS) });
        counts.checked += 1;
        if (!since.has(reference) && real.has(reference)) fresh += 1;
        if (identity === null) missing.push(reference);
        else counts.existing += 1;
      } catch (error) {
        // Never "deleted": what Kratos did not answer is asked again on the next run.
        deps.logger.warn(errorFields(error), 'redaction sweep could not read an identity from Kratos');
        counts.stopped = 'kratos_failed';
        return 'stop';
      }
    }
    if (guarded && counts.existing === 0 && fresh >= ALL_MISSING_GUARD) {
      tripped();
      return 'stop';
    }
    if (vouched()) for (const reference of held.splice(0)) if ((await noteMissing(reference)) === 'stop') return 'stop';
    for (const reference of references) {
      if (!missing.includes(reference)) {
        if (since.has(reference) && !options.dryRun) await deps.state.forgetMissing(reference);
        continue;
      }
      if (!vouched() && !since.has(reference)) held.push(reference);
      else if ((await noteMissing(reference, since.get(reference))) === 'stop') return 'stop';
    }
    return 'continue';
  };

  const paging = { dryRun: options.dryRun, resumable: vouched };
  const run = await forEachInquiryPage(deps, 'deleted_identities', paging, visit, (pages) => {
    counts.pages = pages;
    deps.onProgress?.(
      `deleted identities: page ${pages} read; so far ${counts.checked} identities checked, ${counts.missing} missing, ` +
        `${counts.waiting} within the grace period, ${counts.redacted} redacted, ${counts.failed} failed`,
    );
  });
  if (run.listingError !== undefined) {
    deps.logger.warn(run.listingError, 'redaction sweep could not list inquiries');
    counts.stopped = 'listing_failed';
  }
  counts.complete = run.complete;
  if (run.complete && !vouched()) {
    // Fewer to check than ALL_MISSING_GUARD, and every one of them missing.
    if (fresh > 0) {
      tripped();
      counts.complete = false;
    } else for (const reference of held) if ((await noteMissing(reference)) === 'stop') break;
  }
  return counts;
}

async function redactMissing(
  deps: SweepDeps,
  identityId: string,
  options: DeletedSweepOptions,
  counts: DeletedSweepCounts,
): Promise<'continue' | 'stop'> {
  try {
    const result = await redactIdentity(
      deps,
      { identityId, actor: SWEEP_ACTOR, trigger: 'identity_deleted', forgetDecision: false, dryRun: options.dryRun },
      { deadline: deadlineIn(IDENTITY_BUDGET_MS) },
    );
    if (result.identity_found) return 'continue';
    counts.redacted += 1;
    if (!options.dryRun) await deps.state.forgetMissing(identityId);
    return 'continue';
  } catch (error) {
    counts.failed += 1;
    deps.logger.warn(
      { identity_id: identityId, ...errorFields(error) },
      'redaction sweep could not redact a deleted identity',
    );
    // Persona or Kratos refuses or is down: stop here; the next run begins at this page again.
    if (error instanceof OutboundError && error.transient) {
      counts.stopped = 'persona_failed';
      return 'stop';
    }
    return 'continue';
  }
}
