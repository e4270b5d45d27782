import { errorFields } from '../../logger.js';
import { deadlineIn } from '../../outbound/retry.js';
import type { Inquiry } from '../../persona/inquiry.js';
import type { PersonaApi } from '../../persona/personaClient.js';
import type { SweepCursor, SweepName, SweepState } from './sweepState.js';

/** A page may wait out Persona's rate limit (RateLimit-Reset) before it is read. */
const PAGE_BUDGET_MS = 90_000;

export interface PagingDeps {
  /** Paced (pacedPersona.ts): every page waits its turn in Persona's rate window. */
  persona: Pick<PersonaApi, 'listInquiries'>;
  state: SweepState;
  templateIds: readonly string[];
}

export interface PagedSweep {
  pages: number;
  /** Every page of every template was visited: the next run starts at the top. */
  complete: boolean;
  /** Why it stopped early: a page could not be read, or a visit asked to stop (it is visited again next time). */
  stopped?: 'listing_failed' | 'visit_stopped';
  listingError?: Record<string, unknown>;
}

/**
 * Visits the inquiries of each template page by page (Persona's list, newest first), going on from
 * where the last unfinished run of the same sweep stopped. The cursor is saved after each page, so
 * a run stopped by a failure or a restart resumes there (unless the sweep says it may not be resumed
 * yet); a page whose visit asked to stop is visited again, so visits must be repeatable. A dry run starts at the top and leaves the cursor alone, so
 * it never moves a real run past pages it has not swept.
 */
export async function forEachInquiryPage(
  deps: PagingDeps,
  sweep: SweepName,
  query: { createdBefore?: Date; dryRun: boolean; resumable?: () => boolean },
  visit: (inquiries: Inquiry[]) => Promise<'continue' | 'stop'>,
  onPage?: (pages: number) => void,
): Promise<PagedSweep> {
  // A run that may not be resumed yet (`resumable`) leaves no cursor: the next one starts at the top.
  const saveCursor = (cursor: SweepCursor | undefined) =>
    query.dryRun ? Promise.resolve() : deps.state.saveCursor(sweep, (query.resumable?.() ?? true) ? cursor : undefined);
  const saved = query.dryRun ? undefined : await deps.state.cursor(sweep);
  // A cursor of a template no longer configured starts the sweep over.
  const first = saved === undefined ? 0 : Math.max(0, deps.templateIds.indexOf(saved.templateId));
  let pages = 0;
  for (let index = first; index < deps.templateIds.length; index += 1) {
    const templateId = deps.templateIds[index] as string;
    let after = index === first && saved?.templateId === templateId ? saved.after : undefined;
    do {
      let page;
      try {
        page = await deps.persona.listInquiries(
          { templateId, createdBefore: query.createdBefore, after },
          { deadline: deadlineIn(PAGE_BUDGET_MS) },
        );
      } catch (error) {
        await saveCursor({ templateId, after });
        return { pages, complete: false, stopped: 'listing_failed', listingError: errorFields(error) };
      }
      if ((await visit(page.inquiries)) === 'stop') {
        await saveCursor({ templateId, after });
        return { pages, complete: false, stopped: 'visit_stopped' };
      }
      pages += 1;
      onPage?.(pages);
      after = page.next;
      const next = after !== undefined ? { templateId, after } : nextTemplate(deps.templateIds, index);
      await saveCursor(next);
    } while (after !== undefined);
  }
  return { pages, complete: true };
}

const nextTemplate = (templateIds: readonly string[], index: number) => {
  const templateId = templateIds[index + 1];
  return templateId === undefined ? undefined : { templateId, after: undefined };
};
