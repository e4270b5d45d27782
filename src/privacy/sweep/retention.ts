import { isIdentityId } from '../../identityId.js';
import { errorFields } from '../../logger.js';
import { OutboundError } from '../../outbound/outboundError.js';
import { deadlineIn } from '../../outbound/retry.js';
import type { Inquiry } from '../../persona/inquiry.js';
import { instantOf } from '../../verification/standingDecision.js';
import { noteInquiryRedacted } from '../noteRedacted.js';
import { ownershipOf } from '../ownership.js';
import { inquiriesOf } from '../redactionRecord.js';
import { IDENTITY_BUDGET_MS, READ_BUDGET_MS, SWEEP_ACTOR, type SweepDeps } from './sweepDeps.js';
import { forEachInquiryPage } from './sweepPages.js';

export interface RetentionSweepOptions {
  /** PERSONA_RETENTION: how long after its decision (or its last change) an inquiry is kept. */
  retentionMs: number;
  dryRun: boolean;
}

export interface RetentionSweepCounts {
  pages: number;
  /** Inquiries listed (created before the retention period). */
  inquiries: number;
  /** Redacted (or that would be, on a dry run). */
  redacted: number;
  /** Decided or changed within the retention period: kept for now. */
  recent: number;
  notOurs: number;
  failed: number;
  complete: boolean;
  stopped?: 'listing_failed' | 'persona_failed' | 'kratos_failed' | undefined;
}

/** When an inquiry was last decided, or else last changed: the retention period runs from then. */
const lastOf = (inquiry: Inquiry) => inquiry.decisionedAt ?? inquiry.updatedAt ?? inquiry.createdAt;

/**
 * Redacts the inquiries of our templates decided (or, undecided, last changed) longer than the
 * retention period ago, inquiry by inquiry: the account stays, so a later inquiry of the person
 * still finds it. The record on the identity keeps ids, statuses, times and the standing decision,
 * so the login gate decides as before; it notes which inquiries were redacted. Ours are those with
 * the service's note, and, for inquiries without one (opened by version 0.1.0), those the
 * identity's record holds. Resumable like the deletion sweep.
 */
export async function sweepRetention(deps: SweepDeps, options: RetentionSweepOptions): Promise<RetentionSweepCounts> {
  const counts: RetentionSweepCounts = {
    pages: 0,
    inquiries: 0,
    redacted: 0,
    recent: 0,
    notOurs: 0,
    failed: 0,
    complete: false,
  };
  const cutoff = deps.now() - options.retentionMs;
  const knownByIdentity = new Map<string, ReadonlySet<string>>();

  /** The inquiries an identity's record holds (none when it has no record, or is gone), read once a run. */
  const knownOf = async (identityId: string): Promise<ReadonlySet<string>> => {
    let known = knownByIdentity.get(identityId);
    if (known === undefined) {
      const stored = await deps.store.read(identityId, { deadline: deadlineIn(READ_BUDGET_MS) });
      const record = stored.found && stored.reading.kind === 'record' ? stored.reading.record : null;
      known = new Set(record === null ? [] : inquiriesOf(record));
      knownByIdentity.set(identityId, known);
    }
    return known;
  };

  const visit = async (inquiries: Inquiry[]): Promise<'continue' | 'stop'> => {
    for (const inquiry of inquiries) {
      counts.inquiries += 1;
      if (inquiry.redactedAt !== undefined) continue;
      if (instantOf(lastOf(inquiry)) > cutoff) {
        counts.recent += 1;
        continue;
      }
      try {
        if ((await redactIfOurs(inquiry)) === 'not_ours') counts.notOurs += 1;
      } catch (error) {
        counts.failed += 1;
        deps.logger.warn({ inquiry_id: inquiry.id, ...errorFields(error) }, 'retention could not redact an inquiry');
        if (error instanceof OutboundError && error.transient) {
          counts.stopped = error.target === 'kratos' ? 'kratos_failed' : 'persona_failed';
          return 'stop';
        }
      }
    }
    return 'continue';
  };

  const redactIfOurs = async (inquiry: Inquiry): Promise<'redacted' | 'not_ours'> => {
    const reference = await deps.accountReferences.referenceIdOf(inquiry, { deadline: deadlineIn(READ_BUDGET_MS) });
    const identityId = isIdentityId(reference) ? reference : null;
    const known =
      inquiry.openedByService === true || identityId === null ? new Set<string>() : await knownOf(identityId);
    if (ownershipOf(inquiry, { templateIds: deps.templateIds, knownInquiryIds: known }) !== 'ours') return 'not_ours';
    const call = { deadline: deadlineIn(IDENTITY_BUDGET_MS) };
    if (!options.dryRun) {
      const redacted = await deps.persona.redactInquiry(inquiry.id, call);
      if (identityId !== null && redacted !== null) {
        await noteInquiryRedacted(deps.store, identityId, redacted, new Date(deps.now()).toISOString(), call);
      }
    }
    counts.redacted += 1;
    await deps.audit({
      actor: SWEEP_ACTOR,
      trigger: 'retention',
      identityId,
      outcome: options.dryRun ? 'dry_run' : 'ok',
      accountId: null,
      inquiryIds: [inquiry.id],
      dryRun: options.dryRun,
      decisionForgotten: false,
    });
    return 'redacted';
  };

  const run = await forEachInquiryPage(
    deps,
    'retention',
    { createdBefore: new Date(cutoff), dryRun: options.dryRun },
    visit,
    (pages) => {
      counts.pages = pages;
      deps.onProgress?.(
        `retention: page ${pages} read; so far ${counts.inquiries} inquiries listed, ${counts.redacted} redacted, ` +
          `${counts.recent} within the retention period, ${counts.failed} failed`,
      );
    },
  );
  if (run.listingError !== undefined) {
    deps.logger.warn(run.listingError, 'retention could not list inquiries');
    counts.stopped = 'listing_failed';
  }
  counts.complete = run.complete;
  return counts;
}
