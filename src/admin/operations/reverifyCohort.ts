import type { z } from 'zod';
import type { KratosIdentity } from '../../kratos/kratosClient.js';
import { errorFields } from '../../logger.js';
import { isDependencyFailure } from '../../http/dependencyFailure.js';
import { decisionStatuses } from '../../services.js';
import { readRecord } from '../../verification/readRecord.js';
import type { PersonaRecord } from '../../verification/record.js';
import { instantOf } from '../../verification/standingDecision.js';
import type { AdminContext } from '../adminContext.js';
import { adminError } from '../adminErrors.js';
import { failureOutcome } from '../audit/auditLog.js';
import type { cohortRequest, cohortResponse } from '../schemas.js';
import { forEachIdentityPage } from './identityPages.js';
import { writeRequirement } from './requireReverification.js';

type CohortRequest = z.output<typeof cohortRequest>;
type CohortResult = z.input<typeof cohortResponse>;

const LISTED_FAILURES = 100;

/**
 * How far `required_at` sent back to go on may lie from now. It is the time the requirement is
 * recorded with, and only an inquiry opened after it meets it: one in the future would block
 * logins that no approval lifts until then, one long past would let inquiries from before the
 * cohort meet it. A week is time enough to go on after an outage; later, start a new run.
 */
const RESUME_WITHIN_MS = 7 * 86_400_000;
/** Replicas' clocks differ a little: the `next` of one may be read by another. */
const CLOCK_SKEW_MS = 60_000;

function requirementTime(sent: string | undefined, nowMs: number): string {
  if (sent === undefined) return new Date(nowMs).toISOString();
  const at = instantOf(sent);
  if (at > nowMs + CLOCK_SKEW_MS) throw adminError('invalid_request', 'required_at: must not lie in the future');
  if (at < nowMs - RESUME_WITHIN_MS)
    throw adminError('invalid_request', 'required_at: must be within the last 7 days; start a new run without it');
  return sent;
}

export interface CohortProgress {
  pages: number;
  listed: number;
  matched: number;
  changed: number;
  unchanged: number;
  failed: number;
}

/** Whether an identity (with its record as read) belongs to the cohort the request selects. */
function inCohort(request: CohortRequest, identity: KratosIdentity, record: PersonaRecord | null): boolean {
  if (request.identity_ids !== undefined) return request.identity_ids.includes(identity.id);
  if (request.schema_id !== undefined) return identity.schemaId === request.schema_id;
  const decision = record?.decision;
  return (
    request.verified_before !== undefined &&
    decision?.outcome === 'approved' &&
    instantOf(decision.decided_at) < instantOf(request.verified_before)
  );
}

/**
 * Requires a new verification of every identity in a cohort (`identity_ids`, `schema_id` or
 * `verified_before`), paging through Kratos's identity list (Kratos filters by neither schema nor
 * metadata). With `dry_run` it only counts. Identities are written one after another, each under
 * its own lock, and each is checked again against the cohort when the lock is held.
 *
 * It goes on until the list ends, the budget is spent (checked before each write), or Kratos keeps refusing (a rate limit
 * beyond its retries, an outage); then `next` says where to go on from. Going on is safe: an
 * identity required since `required_at` is left as it is, so a page visited twice changes
 * nothing twice.
 */
export async function reverifyCohort(
  context: AdminContext,
  request: CohortRequest,
  options: { budgetMs?: number; onProgress?: (counts: CohortProgress) => void } = {},
): Promise<CohortResult> {
  const { logger } = context;
  const requiredAt = requirementTime(request.required_at, context.now());
  const requirement = { required_at: requiredAt, reason: request.reason, block_login: request.block_login };
  const statuses = decisionStatuses(context.config);
  const counts = { listed: 0, matched: 0, changed: 0, unchanged: 0, failed: 0 };
  const failedIds: string[] = [];
  const fail = (identityId: string) => {
    counts.failed += 1;
    if (failedIds.length < LISTED_FAILURES) failedIds.push(identityId);
  };

  const started = context.now();
  let attempted = 0;
  // Checked before each write, not only before a page: one page of slow writes outlasts the budget.
  // At least one write per call, so a caller going on with `next` always gets further.
  const budgetSpent = () =>
    attempted > 0 && options.budgetMs !== undefined && context.now() - started >= options.budgetMs;

  const visit = async (identities: KratosIdentity[]): Promise<'continue' | 'stop'> => {
    for (const identity of identities) {
      // The page is visited again from its start: identities required since `required_at` are left as they are.
      if (!request.dry_run && budgetSpent()) return 'stop';
      counts.listed += 1;
      const reading = readRecord(identity.metadataAdmin, statuses);
      if (!inCohort(request, identity, reading.kind === 'record' ? reading.record : null)) continue;
      counts.matched += 1;
      if (request.dry_run) continue;
      attempted += 1;
      let writeSent = false;
      const audit = (outcome: string) =>
        context.helpDesk.audit.record({
          actor: request.actor,
          action: 'reverification.require',
          identityId: identity.id,
          outcome,
          details: { reason: request.reason, block_login: request.block_login, cohort: true },
        });
      try {
        const result = await writeRequirement(context, identity.id, requirement, {
          requiredSince: requiredAt,
          stillApplies: (current) => inCohort(request, current.identity, current.record),
          onWrite: () => (writeSent = true),
        });
        if (result.outcome === 'record_unreadable') {
          fail(identity.id);
        } else if (result.outcome === 'applied') {
          counts.changed += 1;
          await audit('ok');
        } else counts.unchanged += 1;
      } catch (error) {
        fail(identity.id);
        await audit(failureOutcome(error, writeSent));
        logger.warn(
          { identity_id: identity.id, ...errorFields(error) },
          'cohort re-verification failed for an identity',
        );
        // Kratos or the database refuses or is down: stop here and say where, rather than fail the rest one by one.
        if (isDependencyFailure(error) && error.transient) return 'stop';
      }
    }
    return 'continue';
  };

  const listing =
    request.identity_ids !== undefined
      ? { pageSize: request.identity_ids.length, ids: request.identity_ids }
      : { pageSize: request.page_size, pageToken: request.page_token };
  const run = await forEachIdentityPage(context.kratos, listing, visit, {
    budgetMs: options.budgetMs,
    now: context.now,
    onPage: (pages) => options.onProgress?.({ pages, ...counts }),
  });
  if (run.listingError !== undefined) logger.warn(run.listingError, 'cohort re-verification could not list identities');
  const done = run.stoppedAt === undefined;
  await context.helpDesk.audit.record({
    actor: request.actor,
    action: 'reverification.cohort',
    cohortSize: counts.matched,
    outcome: request.dry_run ? 'dry_run' : done && counts.failed === 0 ? 'ok' : done ? 'failed' : 'partial',
    details: {
      reason: request.reason,
      selector: request.identity_ids ? 'identity_ids' : request.schema_id ? 'schema_id' : 'verified_before',
      changed: counts.changed,
      failed: counts.failed,
    },
  });
  return {
    dry_run: request.dry_run,
    required_at: requiredAt,
    pages: run.pages,
    ...counts,
    failed_identity_ids: failedIds,
    done,
    next: done ? null : { page_token: run.stoppedAt ?? null, required_at: requiredAt },
  };
}
