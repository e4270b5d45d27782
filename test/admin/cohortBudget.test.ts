import { afterEach, describe, expect, it } from 'vitest';
import { admin, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

/**
 * Issue 16 (review 16): `POST /admin/reverification` promises an answer "within about 20 seconds"
 * (adminRoutes.ts COHORT_BUDGET_MS, README), so that proxies do not cut it. The budget is checked
 * only before a new page of Kratos's list: one page of up to 500 identities, each read and
 * written under its lock, runs to its end however long Kratos takes (a rate limit, a slow Kratos).
 * Visits may be repeated (identities required since `required_at` are left as they are), so the
 * page can stop between identities and be visited again.
 */
let harness: Harness;
afterEach(() => harness.close());

const SECOND = 1_000;

async function until(condition: () => boolean) {
  for (let waited = 0; waited < 10_000; waited += 20) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('timed out');
}

describe('a cohort call within its budget', () => {
  it('stops between the identities of a page once the budget is spent, and goes on from there', async () => {
    harness = await startAdminHarness();
    const ids = Array.from({ length: 6 }, () => harness.kratos.createIdentity({ schema_id: 'employee' }).id);
    // A slow Kratos: each write takes a while.
    harness.kratos.inject({ method: 'PATCH', delayMs: 150, times: 100 });
    const patches = () => harness.kratos.requests.filter((r) => r.method === 'PATCH');

    const call = admin(harness).post('/admin/reverification', {
      actor: 'ops-1',
      reason: 'incident-42',
      schema_id: 'employee',
      page_size: 500,
    });
    await until(() => patches().length >= 1);
    // The first write took longer than the budget (the harness clock stands for the time passed).
    harness.clock.now += 25 * SECOND;
    const first = await call;
    expect(first.status).toBe(200);
    expect(first.body.done).toBe(false);
    expect(first.body.changed).toBeLessThan(ids.length);
    expect(first.body.next).toEqual({ page_token: null, required_at: expect.any(String) });

    const rest = await admin(harness).post('/admin/reverification', {
      actor: 'ops-1',
      reason: 'incident-42',
      schema_id: 'employee',
      page_size: 500,
      required_at: first.body.next.required_at,
    });
    expect(rest.body).toMatchObject({ done: true, changed: ids.length - first.body.changed });
  }, 20_000);
});
