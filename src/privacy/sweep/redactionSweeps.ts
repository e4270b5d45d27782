import type { Config } from '../../config.js';
import type { Leadership } from '../../coordination/coordination.js';
import { scheduleWhileLeading } from '../../coordination/leaderSchedule.js';
import { errorFields } from '../../logger.js';
import { RateLimitPace } from '../../outbound/rateLimitPace.js';
import { createAccountReferences } from '../../persona/accountReferences.js';
import { sweepDeletedIdentities, type DeletedSweepCounts } from './deletedIdentities.js';
import { pacedPersona, type SweepPersona } from './pacedPersona.js';
import { sweepRetention, type RetentionSweepCounts } from './retention.js';
import type { SweepDeps } from './sweepDeps.js';

/**
 * The share of each of Persona's rate windows the sweeps leave to the service's live traffic:
 * they use at most half of the 300 requests a minute Persona allows by default.
 */
const RESERVED_FOR_LIVE_TRAFFIC = 0.5;

/** The lead the sweeps run under, in the service's schedule and in the command alike. */
export const REDACTION_SWEEP_LEAD = 'redaction_sweep';

/** REDACT_DELETED_AFTER and PERSONA_RETENTION; undefined: that sweep is off. */
export type SweepSettings = Pick<Config['privacy'], 'redactDeletedAfterMs' | 'retentionMs'>;

export interface SweepReport {
  deleted?: DeletedSweepCounts;
  retention?: RetentionSweepCounts;
}

/** The sweeps' dependencies with Persona paced by its rate window, and an account memory of their own over it. */
export function sweepDepsWith(
  base: Omit<SweepDeps, 'persona' | 'accountReferences'> & { persona: SweepPersona },
): SweepDeps {
  const pace = new RateLimitPace({
    reserveShare: RESERVED_FOR_LIVE_TRAFFIC,
    onWait: (ms) =>
      base.onProgress?.(
        `waiting ${Math.ceil(ms / 1_000)} s for Persona's rate window to reset (half is kept for logins and callbacks)`,
      ),
  });
  const persona = pacedPersona(base.persona, pace);
  return { ...base, persona, accountReferences: createAccountReferences(persona) };
}

/** One run of each sweep that is on: deleted identities first, then retention. */
export async function runRedactionSweeps(
  deps: SweepDeps,
  settings: SweepSettings,
  options: { dryRun: boolean; evenIfAllMissing?: boolean },
): Promise<SweepReport> {
  const report: SweepReport = {};
  if (settings.redactDeletedAfterMs !== undefined) {
    report.deleted = await sweepDeletedIdentities(deps, { graceMs: settings.redactDeletedAfterMs, ...options });
  }
  if (settings.retentionMs !== undefined) {
    report.retention = await sweepRetention(deps, { retentionMs: settings.retentionMs, dryRun: options.dryRun });
  }
  return report;
}

/**
 * The in-process schedule (REDACTION_SWEEP_INTERVAL): one run at a time, and only while this
 * replica leads `redaction_sweep`. stop() ends it and hands the lead back.
 */
export function scheduleRedactionSweeps(
  deps: SweepDeps,
  settings: SweepSettings,
  options: { intervalMs: number; leadership: Leadership },
) {
  return scheduleWhileLeading(
    options.leadership,
    options.intervalMs,
    async () => {
      const report = await runRedactionSweeps(deps, settings, { dryRun: false });
      deps.logger.info(report, 'redaction sweep finished');
    },
    (error) => deps.logger.error(errorFields(error), 'redaction sweep failed'),
  );
}
