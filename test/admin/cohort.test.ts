import { afterEach, describe, expect, it } from 'vitest';
import { admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const DAY = 86_400_000;
const cohort = (body: Record<string, unknown>) =>
  admin(harness).post('/admin/reverification', { actor: 'agent-7', reason: 'incident-42', ...body });
const mirrorOf = (id: string) => harness.kratos.identity(id)?.metadata_public?.['persona'] as Record<string, unknown>;
const listings = () =>
  harness.kratos.requests.filter((r) => r.method === 'GET' && r.path === '/admin/identities').map((r) => r.query);
const patches = () => harness.kratos.requests.filter((r) => r.method === 'PATCH');

describe('POST /admin/reverification', () => {
  it('counts a schema cohort over two pages first, then requires it, leaving other schemas alone', async () => {
    harness = await startAdminHarness();
    const employees = [1, 2, 3].map(() => harness.kratos.createIdentity({ schema_id: 'employee' }).id);
    const customer = harness.kratos.createIdentity({ schema_id: 'customer' }).id;

    const dryRun = await cohort({ schema_id: 'employee', dry_run: true, page_size: 2 });
    expect(dryRun.status).toBe(200);
    expect(dryRun.body).toMatchObject({
      dry_run: true,
      pages: 2,
      listed: 4,
      matched: 3,
      changed: 0,
      failed: 0,
      done: true,
      next: null,
    });
    expect(patches()).toEqual([]);
    // Kratos's keyset pagination: the second page asked for with the first page's token.
    const [first, second] = listings();
    expect(first?.get('page_size')).toBe('2');
    expect(first?.has('page_token')).toBe(false);
    expect(second?.get('page_token')).toEqual(expect.any(String));

    const run = await cohort({ schema_id: 'employee', page_size: 2 });
    expect(run.body).toMatchObject({ dry_run: false, pages: 2, matched: 3, changed: 3, unchanged: 0, done: true });
    for (const id of employees) expect(mirrorOf(id)).toMatchObject({ reverification_required: true });
    expect(harness.kratos.identity(customer)?.metadata_public).toBeNull();

    expect(
      auditLines(harness).map((line) => [line['action'], line['identity_id'] ?? line['cohort_size'], line['outcome']]),
    ).toEqual([
      ['reverification.cohort', 3, 'dry_run'],
      ...employees.sort().map((id) => ['reverification.require', id, 'ok']),
      ['reverification.cohort', 3, 'ok'],
    ]);
  });

  it('selects by the age of the standing approval', async () => {
    harness = await startAdminHarness();
    const old = harness.identityInState('approved', { decidedAgoMs: 400 * DAY }).identityId;
    const recent = harness.identityInState('approved', { decidedAgoMs: 10 * DAY }).identityId;
    const declined = harness.identityInState('declined', { decidedAgoMs: 400 * DAY }).identityId;
    const unverified = harness.kratos.createIdentity().id;
    const response = await cohort({ verified_before: new Date(harness.clock.now - 365 * DAY).toISOString() });
    expect(response.body).toMatchObject({ listed: 4, matched: 1, changed: 1 });
    expect(mirrorOf(old)).toMatchObject({ reverification_required: true });
    for (const id of [recent, declined]) expect(mirrorOf(id)).toMatchObject({ reverification_required: false });
    expect(harness.kratos.identity(unverified)?.metadata_public).toBeNull();
  });

  it('takes identities by id, and skips ids Kratos does not have', async () => {
    harness = await startAdminHarness();
    const [a, b] = [harness.kratos.createIdentity().id, harness.kratos.createIdentity().id];
    const response = await cohort({ identity_ids: [a, b, '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34'] });
    expect(response.body).toMatchObject({ pages: 1, listed: 2, matched: 2, changed: 2, done: true });
    expect(listings()[0]?.getAll('ids')).toHaveLength(3);
  });

  it('stops where Kratos keeps failing and goes on from there, changing nothing twice', async () => {
    harness = await startAdminHarness();
    const ids = [1, 2, 3, 4].map(() => harness.kratos.createIdentity().id).sort();
    harness.kratos.inject({ method: 'PATCH', path: `/admin/identities/${ids[2]}`, status: 503, times: 100 });

    const stopped = await cohort({ schema_id: 'default', page_size: 2 });
    expect(stopped.body).toMatchObject({
      pages: 1,
      changed: 2,
      failed: 1,
      failed_identity_ids: [ids[2]],
      done: false,
      next: { page_token: expect.any(String), required_at: stopped.body.required_at },
    });

    harness.kratos.clearFaults();
    harness.clock.now += 60_000;
    const resumed = await cohort({ schema_id: 'default', page_size: 2, ...stopped.body.next });
    expect(resumed.body).toMatchObject({ pages: 1, matched: 2, changed: 2, unchanged: 0, done: true, next: null });
    expect(resumed.body.required_at).toBe(stopped.body.required_at);
    for (const id of ids) expect(mirrorOf(id)).toMatchObject({ reverification_required: true });

    // Going over the whole cohort again with the same requirement time changes nothing.
    const patchCount = patches().length;
    const again = await cohort({ schema_id: 'default', page_size: 2, required_at: stopped.body.required_at });
    expect(again.body).toMatchObject({ matched: 4, changed: 0, unchanged: 4 });
    expect(patches().length).toBe(patchCount);
  });

  it('goes on only with a requirement time of the last week, never one ahead: no approval could meet that', async () => {
    harness = await startAdminHarness();
    const id = harness.identityInState('approved').identityId;
    for (const [requiredAt, message] of [
      [new Date(harness.clock.now + 365 * DAY).toISOString(), 'required_at: must not lie in the future'],
      [new Date(harness.clock.now - 8 * DAY).toISOString(), 'required_at: must be within the last 7 days'],
    ] as const) {
      const refused = await cohort({ identity_ids: [id], required_at: requiredAt });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toEqual({ code: 'invalid_request', message: expect.stringContaining(message) });
    }
    expect(patches()).toEqual([]);
    const lastWeek = new Date(harness.clock.now - 6 * DAY).toISOString();
    const resumed = await cohort({ identity_ids: [id], required_at: lastWeek });
    expect(resumed.body).toMatchObject({ required_at: lastWeek, changed: 1 });
  });

  it('refuses a page_token Kratos refuses with 400, rather than sending it back to go on with forever', async () => {
    harness = await startAdminHarness();
    harness.kratos.createIdentity();
    const response = await cohort({ schema_id: 'default', page_token: 'not-a-kratos-token' });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({ code: 'invalid_request', message: expect.stringMatching(/^page_token: /) });
    expect(patches()).toEqual([]);
  });

  it('reports a listing Kratos refuses as a stop at the first page', async () => {
    harness = await startAdminHarness();
    harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'GET', path: '/admin/identities', status: 429, times: 100 });
    const response = await cohort({ schema_id: 'default' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ pages: 0, listed: 0, done: false, next: { page_token: null } });
    expect(auditLines(harness).at(-1)).toMatchObject({ action: 'reverification.cohort', outcome: 'partial' });
  });

  it.each([
    ['no selector', {}, 'give exactly one of identity_ids, schema_id, verified_before'],
    ['two selectors', { schema_id: 'default', verified_before: '2026-01-01T00:00:00Z' }, 'give exactly one of'],
    ['more than 500 ids', { identity_ids: Array(501).fill('5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34') }, 'identity_ids: '],
    ['an id that is no identity id', { identity_ids: ['nope'] }, 'identity_ids.0: must be a Kratos identity id'],
    ['a time that is no time', { verified_before: 'last year' }, 'verified_before: '],
    ['a page size beyond Kratos', { schema_id: 'default', page_size: 501 }, 'page_size: '],
  ])('refuses %s with 400 naming the field', async (_case, body, message) => {
    harness = await startAdminHarness();
    const response = await cohort(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain(message);
    expect(harness.kratos.requests).toEqual([]);
  });
});
