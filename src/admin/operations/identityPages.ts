import { errorFields } from '../../logger.js';
import type { IdentityListing, KratosApi, KratosIdentity } from '../../kratos/kratosClient.js';
import { OutboundError } from '../../outbound/outboundError.js';
import { deadlineIn } from '../../outbound/retry.js';
import { adminError } from '../adminErrors.js';

/** A page may wait out Kratos's retries (429, 5xx) before it is read. */
const PAGE_BUDGET_MS = 30_000;

export interface PagedRun {
  pages: number;
  /**
   * Undefined when every page was visited; else where to go on from: the page token of the page
   * that was not finished (null: the first page).
   */
  stoppedAt: string | null | undefined;
  /** Why it stopped early: the budget ran out before a page, a page could not be read, or a visit asked to stop (a failure, or its own budget). */
  stopped?: 'budget' | 'listing_failed' | 'visit_stopped';
  listingError?: Record<string, unknown>;
}

export interface PagingOptions {
  /** Start no new page after this long (an HTTP caller waits); undefined: go on to the end. */
  budgetMs?: number | undefined;
  now: () => number;
  /** Told after each page, for a command's progress lines. */
  onPage?: ((pages: number) => void) | undefined;
}

/**
 * Visits Kratos's identity list page by page, following the `Link` header (pageToken.ts), oldest id
 * first. A visit that returns `stop` leaves its page to be visited again: callers make visits that
 * can be repeated.
 */
export async function forEachIdentityPage(
  kratos: KratosApi,
  listing: IdentityListing,
  visit: (identities: KratosIdentity[]) => Promise<'continue' | 'stop'>,
  options: PagingOptions,
): Promise<PagedRun> {
  const started = options.now();
  let token = listing.pageToken;
  let pages = 0;
  for (;;) {
    if (pages > 0 && options.budgetMs !== undefined && options.now() - started >= options.budgetMs) {
      return { pages, stoppedAt: token ?? null, stopped: 'budget' };
    }
    let page;
    try {
      page = await kratos.listIdentities({ ...listing, pageToken: token }, { deadline: deadlineIn(PAGE_BUDGET_MS) });
    } catch (error) {
      // Kratos refusing the token it was handed back (400) refuses it again however often it is sent.
      if (pages === 0 && token !== undefined && error instanceof OutboundError && error.status === 400)
        throw adminError(
          'invalid_request',
          'page_token: Kratos refuses it; send the one from `next`, or none to start over',
        );
      return { pages, stoppedAt: token ?? null, stopped: 'listing_failed', listingError: errorFields(error) };
    }
    if ((await visit(page.identities)) === 'stop') return { pages, stoppedAt: token ?? null, stopped: 'visit_stopped' };
    pages += 1;
    options.onPage?.(pages);
    if (page.nextPageToken === undefined) return { pages, stoppedAt: undefined };
    token = page.nextPageToken;
  }
}
