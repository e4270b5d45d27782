import type { KratosIdentity } from '../../kratos/kratosClient.js';
import { errorFields } from '../../logger.js';
import { isDependencyFailure } from '../../http/dependencyFailure.js';
import { decisionStatuses } from '../../services.js';
import { isCurrentVersion, readRecord } from '../../verification/readRecord.js';
import type { AdminContext } from '../adminContext.js';
import { forEachIdentityPage } from './identityPages.js';

export interface UpgradeRequest {
  actor: string;
  dryRun: boolean;
  pageSize: number;
  pageToken?: string | undefined;
}

export interface UpgradeCounts {
  pages: number;
  listed: number;
  /** Records not written by this version: 0.1.0's, partial ones, the community integration's keys. */
  outdated: number;
  upgraded: number;
  /** Present but not interpretable: left alone, listed for someone to fix (README, "Upgrading from 0.1.0"). */
  unreadable: number;
  failed: number;
  unreadableIdentityIds: string[];
  failedIdentityIds: string[];
  /** Undefined when done; else the page token to go on from (null: the first page). */
  next: string | null | undefined;
}

const LISTED = 100;

/**
 * Rewrites every record that this version did not write, through the record store, so that what
 * the rewrite decides is acted on as any write's is: a decline 0.1.0 kept only in `history` stands
 * again and ON_DECLINE revokes the sessions (and deactivates) now, instead of at the identity's
 * next change. A record already written by this version is not touched; running it again is safe.
 */
export async function upgradeRecords(
  context: AdminContext,
  request: UpgradeRequest,
  options: { budgetMs?: number; onProgress?: (counts: Readonly<UpgradeCounts>) => void } = {},
): Promise<UpgradeCounts> {
  const statuses = decisionStatuses(context.config);
  const counts: UpgradeCounts = {
    pages: 0,
    listed: 0,
    outdated: 0,
    upgraded: 0,
    unreadable: 0,
    failed: 0,
    unreadableIdentityIds: [],
    failedIdentityIds: [],
    next: undefined,
  };
  const note = (list: string[], identityId: string) => list.length < LISTED && list.push(identityId);

  const visit = async (identities: KratosIdentity[]): Promise<'continue' | 'stop'> => {
    for (const identity of identities) {
      counts.listed += 1;
      const reading = readRecord(identity.metadataAdmin, statuses);
      if (reading.kind === 'none' || isCurrentVersion(identity.metadataAdmin)) continue;
      if (reading.kind === 'unreadable') {
        counts.unreadable += 1;
        note(counts.unreadableIdentityIds, identity.id);
        continue;
      }
      counts.outdated += 1;
      if (request.dryRun) continue;
      try {
        const result = await context.store.update(identity.id, ({ identity: current, record }) =>
          record === null || isCurrentVersion(current.metadataAdmin)
            ? { outcome: 'unchanged', record }
            : { outcome: 'applied', record },
        );
        if (result.outcome !== 'applied') continue;
        counts.upgraded += 1;
        await context.helpDesk.audit.record({
          actor: request.actor,
          action: 'records.upgrade',
          identityId: identity.id,
          outcome: 'ok',
          details: { decision: result.record?.decision?.outcome ?? null },
        });
      } catch (error) {
        counts.failed += 1;
        note(counts.failedIdentityIds, identity.id);
        context.logger.warn({ identity_id: identity.id, ...errorFields(error) }, 'record upgrade failed');
        if (isDependencyFailure(error) && error.transient) return 'stop';
      }
    }
    return 'continue';
  };

  const run = await forEachIdentityPage(
    context.kratos,
    { pageSize: request.pageSize, pageToken: request.pageToken },
    visit,
    {
      budgetMs: options.budgetMs,
      now: context.now,
      onPage: (pages) => options.onProgress?.({ ...counts, pages }),
    },
  );
  if (run.listingError !== undefined) context.logger.warn(run.listingError, 'record upgrade could not list identities');
  counts.pages = run.pages;
  counts.next = run.stoppedAt;
  await context.helpDesk.audit.record({
    actor: request.actor,
    action: 'records.upgrade',
    cohortSize: counts.outdated,
    outcome: request.dryRun ? 'dry_run' : run.stoppedAt !== undefined ? 'partial' : counts.failed > 0 ? 'failed' : 'ok',
    details: { upgraded: counts.upgraded, unreadable: counts.unreadable, failed: counts.failed },
  });
  return counts;
}
