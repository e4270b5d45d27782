import {
  REDACTION_SWEEP_LEAD,
  runRedactionSweeps,
  sweepDepsWith,
  type SweepReport,
} from '../../privacy/sweep/redactionSweeps.js';
import { decoyTemplateIdsOf } from '../../privacy/sweep/sweepDeps.js';
import { acceptedTemplateIds } from '../../services.js';
import type { AdminContext } from '../adminContext.js';

/**
 * One run of the redaction sweeps from the command line, under the lead the service's schedule
 * takes (`redaction_sweep`): with DATABASE_URL never beside a replica that runs them.
 */
export async function runSweepsOnce(
  context: AdminContext,
  options: { dryRun: boolean; evenIfAllMissing: boolean; onProgress: (line: string) => void },
): Promise<SweepReport | 'not_leading'> {
  const lead = context.coordination.leadership(REDACTION_SWEEP_LEAD);
  if (!(await lead.claim())) return 'not_leading';
  try {
    const deps = sweepDepsWith({
      persona: context.persona,
      kratos: context.kratos,
      store: context.store,
      templateIds: acceptedTemplateIds(context.config),
      decoyTemplateIds: decoyTemplateIdsOf(context.config),
      state: context.coordination.sweepState,
      audit: context.helpDesk.redactions,
      logger: context.logger,
      now: context.now,
      onProgress: options.onProgress,
    });
    return await runRedactionSweeps(deps, context.config.privacy, {
      dryRun: options.dryRun,
      evenIfAllMissing: options.evenIfAllMissing,
    });
  } finally {
    await lead.release();
  }
}
