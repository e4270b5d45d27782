import type { Leadership } from '../coordination/coordination.js';
import { scheduleWhileLeading } from '../coordination/leaderSchedule.js';
import { isIdentityId } from '../identityId.js';
import { errorFields, type Logger } from '../logger.js';
import { deadlineIn } from '../outbound/retry.js';
import type { AccountReferences } from '../persona/accountReferences.js';
import { isCompleteInquiry, type Inquiry } from '../persona/inquiry.js';
import type { PersonaApi } from '../persona/personaClient.js';
import type { RecordStore } from '../verification/recordStore.js';
import { applyObserved, fetchDocumentsAhead } from '../verification/applyObserved.js';
import type { TransitionRules } from '../verification/transition.js';

/**
 * A page may wait out a Persona rate limit (RateLimit-Reset) before it is read; an identity's
 * update gets the budget of a webhook.
 */
const PAGE_BUDGET_MS = 90_000;
const UPDATE_BUDGET_MS = 10_000;
/** The newest inquiries of one identity a re-check reads, per template. */
const IDENTITY_PAGE_SIZE = 10;

export interface ReconcileDeps {
  persona: PersonaApi;
  accountReferences: AccountReferences;
  store: RecordStore;
  rules: TransitionRules;
  templateIds: readonly string[];
  logger: Logger;
  /** For the time of attribute comparisons; Date.now unless a test controls time. */
  now?: () => number;
  /** Told after each page, for a command's progress lines. */
  onPage?: (progress: ReconcileProgress) => void;
}

export interface ReconcileProgress {
  templateId: string;
  /** Pages of this template read so far. */
  pages: number;
  counts: Readonly<ReconcileCounts>;
}

export interface ReconcileCounts {
  checked: number;
  changed: number;
  unchanged: number;
  failed: number;
  /** A page could not be read: inquiries after it were not checked. */
  incomplete: boolean;
}

/**
 * Polls Persona for the inquiries of our templates created since `since` and applies each one's
 * current status through the same transition as a webhook, ordering rules included. Heals what a
 * lost webhook or a failed registration hook left behind; a healthy identity stays unchanged.
 */
export async function reconcile(deps: ReconcileDeps, since: Date): Promise<ReconcileCounts> {
  const counts = noneYet();
  for (const templateId of deps.templateIds) {
    let after: string | undefined;
    let pages = 0;
    do {
      let page;
      try {
        page = await deps.persona.listInquiries(
          { templateId, createdAfter: since, after },
          { deadline: deadlineIn(PAGE_BUDGET_MS) },
        );
      } catch (error) {
        deps.logger.error(
          { template_id: templateId, ...errorFields(error) },
          'reconciliation could not list inquiries',
        );
        counts.incomplete = true;
        break;
      }
      await applyEach(deps, page.inquiries, counts);
      pages += 1;
      deps.onPage?.({ templateId, pages, counts: { ...counts } });
      after = page.next;
    } while (after !== undefined);
  }
  return counts;
}

/**
 * Reconciles one identity: its newest inquiries of each template (those of the account carrying its
 * reference id), by the same rules. For a record that may hold a stale write; a healthy one stays
 * unchanged.
 */
export async function reconcileIdentity(deps: ReconcileDeps, identityId: string): Promise<ReconcileCounts> {
  const counts = noneYet();
  let accountIds: string[];
  try {
    const accounts = await deps.persona.findAccounts(identityId, { deadline: deadlineIn(PAGE_BUDGET_MS) });
    accountIds = accounts.map((account) => account.id);
  } catch (error) {
    deps.logger.warn({ ...errorFields(error) }, "reconciliation could not find the identity's Persona account");
    return { ...counts, incomplete: true };
  }
  for (const templateId of deps.templateIds) {
    try {
      const page = await deps.persona.listInquiries(
        { templateId, accountIds, pageSize: IDENTITY_PAGE_SIZE },
        { deadline: deadlineIn(PAGE_BUDGET_MS) },
      );
      await applyEach(deps, page.inquiries, counts);
    } catch (error) {
      deps.logger.warn({ template_id: templateId, ...errorFields(error) }, 'reconciliation could not list inquiries');
      counts.incomplete = true;
    }
  }
  return counts;
}

const noneYet = (): ReconcileCounts => ({ checked: 0, changed: 0, unchanged: 0, failed: 0, incomplete: false });

async function applyEach(deps: ReconcileDeps, inquiries: readonly Inquiry[], counts: ReconcileCounts) {
  for (const inquiry of inquiries) {
    counts.checked += 1;
    try {
      const changed = await applyCurrentState(deps, inquiry);
      counts[changed ? 'changed' : 'unchanged'] += 1;
    } catch (error) {
      counts.failed += 1;
      deps.logger.warn(
        { inquiry_id: inquiry.id, ...errorFields(error) },
        'reconciliation could not update an identity',
      );
    }
  }
}

async function applyCurrentState(deps: ReconcileDeps, listed: Inquiry): Promise<boolean> {
  const deadline = deadlineIn(UPDATE_BUDGET_MS);
  const inquiry = { ...listed, referenceId: await deps.accountReferences.referenceIdOf(listed, { deadline }) };
  if (!isIdentityId(inquiry.referenceId)) return false;
  if (!isCompleteInquiry(inquiry)) throw new Error('listed inquiry lacks its status or creation time');
  const applying = { ...deps, now: deps.now ?? Date.now };
  // The inquiry's last change is its `updated-at`: a webhook for that change, if one was applied,
  // is at least as recent, so a healthy record is left alone.
  const observation = { inquiry, observedAt: inquiry.updatedAt ?? inquiry.createdAt, eventId: null };
  const fetched = await fetchDocumentsAhead(applying, inquiry.referenceId, observation, { deadline });
  const result = await deps.store.update(
    inquiry.referenceId,
    (current) => applyObserved(applying, current, observation, { deadline }, fetched),
    { deadline },
  );
  if (result.outcome === 'applied') {
    deps.logger.info(
      { identity_id: inquiry.referenceId, inquiry_id: inquiry.id, status: inquiry.status },
      'reconciliation applied',
    );
  }
  return result.outcome === 'applied';
}

/**
 * The in-process schedule (RECONCILE_INTERVAL): one run at a time, and only while this replica
 * leads `reconcile` (with several replicas, one of them runs it). stop() ends it and hands the lead back.
 */
export function scheduleReconciliation(
  deps: ReconcileDeps,
  options: { intervalMs: number; windowMs: number; leadership: Leadership },
) {
  return scheduleWhileLeading(
    options.leadership,
    options.intervalMs,
    async () => {
      const counts = await reconcile(deps, new Date(Date.now() - options.windowMs));
      deps.logger.info(counts, 'reconciliation finished');
    },
    (error) => deps.logger.error(errorFields(error), 'reconciliation failed'),
  );
}
