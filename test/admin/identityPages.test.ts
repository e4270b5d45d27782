import { afterEach, describe, expect, it } from 'vitest';
import { forEachIdentityPage } from '../../src/admin/operations/identityPages.js';
import { createKratosClient } from '../../src/kratos/kratosClient.js';
import { startKratosStandIn, type KratosStandIn } from '../../sandbox/kratosStandIn.js';

let kratos: KratosStandIn;
afterEach(() => kratos.close());

describe("forEachIdentityPage: Kratos's identity list, page by page", () => {
  it('visits every page in id order, and within a budget stops before a new page, saying where', async () => {
    kratos = await startKratosStandIn();
    const ids = Array.from({ length: 5 }, () => kratos.createIdentity().id).sort();
    const client = createKratosClient({
      adminUrl: kratos.adminUrl,
      publicUrl: kratos.adminUrl,
      apiKey: undefined,
      timeoutMs: 2_000,
    });

    const seen: string[] = [];
    const all = await forEachIdentityPage(
      client,
      { pageSize: 2 },
      async (identities) => {
        seen.push(...identities.map((identity) => identity.id));
        return 'continue';
      },
      { now: Date.now },
    );
    expect(all).toEqual({ pages: 3, stoppedAt: undefined });
    expect(seen).toEqual(ids);

    // Each page takes ten seconds by this clock; the budget is fifteen.
    let clock = 0;
    const within: string[] = [];
    const partial = await forEachIdentityPage(
      client,
      { pageSize: 2 },
      async (identities) => {
        within.push(...identities.map((identity) => identity.id));
        clock += 10_000;
        return 'continue';
      },
      { now: () => clock, budgetMs: 15_000 },
    );
    expect(partial).toMatchObject({ pages: 2, stopped: 'budget', stoppedAt: expect.any(String) });
    expect(within).toEqual(ids.slice(0, 4));
    const rest: string[] = [];
    await forEachIdentityPage(
      client,
      { pageSize: 2, pageToken: partial.stoppedAt ?? undefined },
      async (identities) => {
        rest.push(...identities.map((identity) => identity.id));
        return 'continue';
      },
      { now: Date.now },
    );
    expect(rest).toEqual(ids.slice(4));
  });

  it('leaves a page whose visit asks to stop to be visited again', async () => {
    kratos = await startKratosStandIn();
    for (let n = 0; n < 3; n += 1) kratos.createIdentity();
    const client = createKratosClient({
      adminUrl: kratos.adminUrl,
      publicUrl: kratos.adminUrl,
      apiKey: undefined,
      timeoutMs: 2_000,
    });
    let visits = 0;
    const run = await forEachIdentityPage(
      client,
      { pageSize: 2 },
      async () => ((visits += 1) === 2 ? 'stop' : 'continue'),
      { now: Date.now },
    );
    expect(run).toMatchObject({ pages: 1, stopped: 'visit_stopped', stoppedAt: expect.any(String) });
  });
});
