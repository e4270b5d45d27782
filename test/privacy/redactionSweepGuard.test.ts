import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceNote } from '../../src/persona/inquiry.js';
import { ALL_MISSING_GUARD, sweepDeletedIdentities } from '../../src/privacy/sweep/deletedIdentities.js';
import { createMemorySweepState } from '../../src/privacy/sweep/sweepState.js';
import { startHarness, type Harness } from '../support/harness.js';
import { sweepDeps } from '../support/privacy.js';

/** The all-missing guard (KRATOS_ADMIN_URL of another Kratos) holds across runs, not for one. */

let harness: Harness;
afterEach(() => harness.close());

const GRACE_MS = 7 * 86_400_000;

/** Our inquiries of identities this Kratos answers 404 for (another environment's, or deleted). */
const missingHere = (h: Harness, count: number) =>
  Array.from({ length: count }, () =>
    h.persona.addInquiry({ referenceId: randomUUID(), note: serviceNote('onboarding') }),
  );

function guardedRuns(h: Harness) {
  const deps = sweepDeps(h, createMemorySweepState());
  return { deps, run: () => sweepDeletedIdentities(deps, { graceMs: GRACE_MS, dryRun: false }) };
}

describe('the all-missing guard across runs', () => {
  it('keeps stopping on the runs after the one that tripped it, leaving no cursor, until an operator lets one through', async () => {
    harness = await startHarness();
    const living = missingHere(harness, ALL_MISSING_GUARD + 5);
    const { deps, run } = guardedRuns(harness);

    expect(await run()).toMatchObject({ stopped: 'all_missing', missing: 0 });
    expect(await deps.state.cursor('deleted_identities')).toBeUndefined();
    // The schedule runs again (REDACTION_SWEEP_INTERVAL) with nobody having said --even-if-all-missing.
    expect(await run()).toMatchObject({ stopped: 'all_missing', missing: 0 });
    harness.clock.now += GRACE_MS;
    expect(await run()).toMatchObject({ stopped: 'all_missing', missing: 0, redacted: 0 });
    expect(harness.persona.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(harness.persona.inquiry(living[0]!.id)?.redactedAt).toBeNull();
    expect(await deps.state.missingSince(living.map((inquiry) => inquiry.referenceId!))).toEqual(new Map());
  });

  it('leaves the next run guarded after a Kratos failure on the first page, and notes nothing before it', async () => {
    harness = await startHarness();
    const living = missingHere(harness, ALL_MISSING_GUARD + 5);
    const { deps, run } = guardedRuns(harness);
    // Newest first: the tenth identity checked fails, before the guard's sample is reached.
    const tenth = living[living.length - 10]!.referenceId!;
    harness.kratos.inject({ method: 'GET', path: `/admin/identities/${tenth}`, status: 500, times: 3 });

    expect(await run()).toMatchObject({ stopped: 'kratos_failed', missing: 0 });
    expect(await deps.state.cursor('deleted_identities')).toBeUndefined();
    expect(await deps.state.missingSince(living.map((inquiry) => inquiry.referenceId!))).toEqual(new Map());
    expect(await run()).toMatchObject({ stopped: 'all_missing', missing: 0 });
  });

  it(`stops too when fewer than ${ALL_MISSING_GUARD} identities are checked and every one is missing`, async () => {
    harness = await startHarness();
    const few = missingHere(harness, 3);
    const { deps, run } = guardedRuns(harness);

    expect(await run()).toMatchObject({ checked: 3, stopped: 'all_missing', missing: 0, complete: false });
    expect(await deps.state.missingSince(few.map((inquiry) => inquiry.referenceId!))).toEqual(new Map());

    // One identity that exists vouches for this Kratos: the missing ones are noted.
    harness.persona.addInquiry({ referenceId: harness.kratos.createIdentity().id, note: serviceNote('onboarding') });
    expect(await run()).toMatchObject({ existing: 1, missing: 3, waiting: 3, complete: true });
  });

  it('lets the runs after an operator’s --even-if-all-missing through, fewer than the sample or not', async () => {
    harness = await startHarness();
    const few = missingHere(harness, 3);
    const { deps, run } = guardedRuns(harness);
    expect(
      await sweepDeletedIdentities(deps, { graceMs: GRACE_MS, dryRun: false, evenIfAllMissing: true }),
    ).toMatchObject({ missing: 3, waiting: 3, complete: true });
    harness.clock.now += GRACE_MS;
    expect(await run()).toMatchObject({ redacted: 3, complete: true });
    expect(harness.persona.inquiry(few[0]!.id)?.redactedAt).toEqual(expect.any(String));
  });
});
