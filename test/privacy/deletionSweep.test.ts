import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceNote } from '../../src/persona/inquiry.js';
import { ALL_MISSING_GUARD, sweepDeletedIdentities } from '../../src/privacy/sweep/deletedIdentities.js';
import { createMemorySweepState } from '../../src/privacy/sweep/sweepState.js';
import { RECOVERY_TEMPLATE_ID, startHarness, type Harness } from '../support/harness.js';
import { recordOf, registeredAndDecided, sweepDeps } from '../support/privacy.js';

let harness: Harness;
afterEach(() => harness.close());

const DAY_MS = 86_400_000;
const GRACE_MS = 7 * DAY_MS;
const sweep = (deps: ReturnType<typeof sweepDeps>, options: { graceMs?: number; dryRun?: boolean } = {}) =>
  sweepDeletedIdentities(deps, { graceMs: options.graceMs ?? GRACE_MS, dryRun: options.dryRun ?? false });

const deletes = (h: Harness) => h.persona.requests.filter((r) => r.method === 'DELETE');

/** Inquiries the service opened for `count` identities, each existing in Kratos unless `deleted`. */
function openedFor(h: Harness, count: number, options: { deleted?: boolean } = {}) {
  return Array.from({ length: count }, () => {
    const identityId = randomUUID();
    if (!options.deleted) h.kratos.createIdentity({ id: identityId });
    const inquiry = h.persona.addInquiry({ referenceId: identityId, note: serviceNote('onboarding') });
    return { identityId, inquiryId: inquiry.id };
  });
}

describe('the deletion sweep', () => {
  it('redacts the Persona data of a deleted identity once the grace period has passed, not before', async () => {
    harness = await startHarness();
    const kept = await registeredAndDecided(harness, 'approved');
    const gone = await registeredAndDecided(harness, 'declined');
    harness.kratos.deleteIdentity(gone.identityId);
    const deps = sweepDeps(harness);

    const first = await sweep(deps);
    expect(first).toMatchObject({ checked: 2, existing: 1, missing: 1, waiting: 1, redacted: 0, complete: true });
    harness.clock.now += GRACE_MS - 60_000;
    expect(await sweep(deps)).toMatchObject({ missing: 1, waiting: 1, redacted: 0 });
    expect(deletes(harness)).toEqual([]);

    harness.clock.now += 60_000;
    expect(await sweep(deps)).toMatchObject({ missing: 1, waiting: 0, redacted: 1, failed: 0, complete: true });
    const redacted = harness.persona.inquiry(gone.inquiryId);
    expect(redacted?.redactedAt).toEqual(expect.any(String));
    expect(harness.persona.account(redacted!.accountId)?.redactedAt).toEqual(expect.any(String));
    expect(harness.persona.inquiry(kept.inquiryId)?.redactedAt).toBeNull();
    expect(recordOf(harness, kept.identityId)?.['redaction']).toBeNull();
    expect(deps.audited).toEqual([
      expect.objectContaining({
        actor: 'sweep',
        trigger: 'identity_deleted',
        identityId: gone.identityId,
        outcome: 'ok',
      }),
    ]);
    expect(await deps.state.missingSince([gone.identityId])).toEqual(new Map());

    // Redacted inquiries are passed over from then on.
    expect(await sweep(deps)).toMatchObject({ checked: 1, missing: 0, redacted: 0 });
  });

  it('never counts a Kratos failure as a deletion', async () => {
    harness = await startHarness({ KRATOS_TIMEOUT_MS: '300' });
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    const deps = sweepDeps(harness);
    harness.kratos.inject({ method: 'GET', path: `/admin/identities/${identityId}`, status: 500, times: 3 });

    expect(await sweep(deps)).toMatchObject({ missing: 0, stopped: 'kratos_failed', complete: false });
    expect(await deps.state.missingSince([identityId])).toEqual(new Map());

    // Timeouts neither: a slow Kratos is not a deleted identity.
    harness.kratos.inject({ method: 'GET', path: `/admin/identities/${identityId}`, delayMs: 1_000, times: 3 });
    expect(await sweep(deps)).toMatchObject({ missing: 0, stopped: 'kratos_failed' });
    harness.clock.now += 30 * DAY_MS;
    expect(await sweep(deps)).toMatchObject({ existing: 1, missing: 0, redacted: 0, complete: true });
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
  });

  it('forgets an identity that is back in Kratos before its grace period ends', async () => {
    harness = await startHarness();
    openedFor(harness, 1); // one that exists: this is the right Kratos (ALL_MISSING_GUARD)
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    const backup = harness.kratos.identity(identityId)!;
    harness.kratos.deleteIdentity(identityId);
    const deps = sweepDeps(harness);
    expect(await sweep(deps)).toMatchObject({ missing: 1, waiting: 1 });

    harness.kratos.createIdentity(backup);
    harness.clock.now += DAY_MS;
    expect(await sweep(deps)).toMatchObject({ existing: 2, missing: 0 });
    harness.kratos.deleteIdentity(identityId);
    harness.clock.now += GRACE_MS - DAY_MS;
    // Missing again, from now: the earlier absence does not count.
    expect(await sweep(deps)).toMatchObject({ missing: 1, waiting: 1, redacted: 0 });
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
  });

  it(`stops before noting anything when none of the first ${ALL_MISSING_GUARD} identities exists (another Kratos)`, async () => {
    harness = await startHarness();
    openedFor(harness, ALL_MISSING_GUARD + 1, { deleted: true });
    const state = createMemorySweepState();
    const deps = sweepDeps(harness, state);

    expect(await sweep(deps, { graceMs: 0 })).toMatchObject({ stopped: 'all_missing', missing: 0, redacted: 0 });
    expect(deletes(harness)).toEqual([]);

    // An operator who knows they were all deleted lets one run through; later runs pass on their own.
    const allowed = await sweepDeletedIdentities(deps, { graceMs: GRACE_MS, dryRun: false, evenIfAllMissing: true });
    expect(allowed).toMatchObject({ missing: ALL_MISSING_GUARD + 1, waiting: ALL_MISSING_GUARD + 1 });
    harness.clock.now += GRACE_MS;
    expect(await sweep(deps)).toMatchObject({ redacted: ALL_MISSING_GUARD + 1, complete: true });
  });

  it('never counts recoveries of unknown addresses (decoy references) towards that guard', async () => {
    harness = await startHarness({
      RECOVERY_BY_VERIFICATION: 'true',
      PERSONA_RECOVERY_TEMPLATE_ID: RECOVERY_TEMPLATE_ID,
      PUBLIC_BASE_URL: 'https://idv.example.com',
    });
    // Anyone may ask to recover unknown addresses: each gets an inquiry of a decoy reference.
    const decoys = Array.from({ length: ALL_MISSING_GUARD + 1 }, () =>
      harness.persona.addInquiry({
        referenceId: randomUUID(),
        templateId: RECOVERY_TEMPLATE_ID,
        note: serviceNote('recovery'),
      }),
    );
    const deps = sweepDeps(harness);

    expect(await sweep(deps)).toMatchObject({ missing: ALL_MISSING_GUARD + 1, complete: true });
    harness.clock.now += GRACE_MS;
    expect(await sweep(deps)).toMatchObject({ redacted: ALL_MISSING_GUARD + 1 });
    expect(harness.persona.inquiry(decoys[0]!.id)?.redactedAt).toEqual(expect.any(String));
  });

  it('pages through Persona and goes on after a failure from the page where it stopped', async () => {
    harness = await startHarness();
    // Newest first: the first page holds the last 100, the second the first 30.
    const older = openedFor(harness, 30);
    openedFor(harness, 100);
    const failing = older[10]!.identityId;
    harness.kratos.inject({ method: 'GET', path: `/admin/identities/${failing}`, status: 503, times: 3 });
    const deps = sweepDeps(harness);

    const stopped = await sweep(deps);
    // The second page begins with older[29]: 19 of it were checked before older[10] failed.
    expect(stopped).toMatchObject({ pages: 1, existing: 119, stopped: 'kratos_failed', complete: false });
    expect(await deps.state.cursor('deleted_identities')).toEqual({
      templateId: expect.any(String),
      after: expect.stringMatching(/^inq_/),
    });

    const listed = harness.persona.requests.length;
    const resumed = await sweep(deps);
    // The whole second page again, and nothing of the first.
    expect(resumed).toMatchObject({ pages: 1, existing: 30, complete: true });
    const [firstListing] = harness.persona.requests.slice(listed).filter((r) => r.path === '/api/v1/inquiries');
    expect(firstListing?.query.get('page[after]')).toMatch(/^inq_/);
    expect(await deps.state.cursor('deleted_identities')).toBeUndefined();
    expect(deps.progress.some((line) => line.startsWith('deleted identities: page 1 read'))).toBe(true);
  });

  it('lists on a dry run what it would redact, and changes nothing', async () => {
    harness = await startHarness();
    openedFor(harness, 1); // one that exists: this is the right Kratos (ALL_MISSING_GUARD)
    const gone = await registeredAndDecided(harness, 'approved');
    harness.kratos.deleteIdentity(gone.identityId);
    const deps = sweepDeps(harness);
    await sweep(deps);
    harness.clock.now += GRACE_MS;

    expect(await sweep(deps, { dryRun: true })).toMatchObject({ missing: 1, redacted: 1 });
    expect(deletes(harness)).toEqual([]);
    expect(harness.persona.inquiry(gone.inquiryId)?.redactedAt).toBeNull();
    expect(await deps.state.missingSince([gone.identityId])).toEqual(new Map([[gone.identityId, expect.any(Date)]]));
    expect(deps.audited).toEqual([
      expect.objectContaining({ outcome: 'dry_run', dryRun: true, inquiryIds: [gone.inquiryId] }),
    ]);
  });

  it('leaves the cursor of an unfinished run alone on a dry run', async () => {
    harness = await startHarness();
    const older = openedFor(harness, 30);
    openedFor(harness, 100);
    harness.kratos.inject({ method: 'GET', path: `/admin/identities/${older[10]!.identityId}`, status: 503, times: 3 });
    const deps = sweepDeps(harness);
    expect(await sweep(deps)).toMatchObject({ stopped: 'kratos_failed' });
    const cursor = await deps.state.cursor('deleted_identities');

    expect(await sweep(deps, { dryRun: true })).toMatchObject({ pages: 2, complete: true });
    expect(await deps.state.cursor('deleted_identities')).toEqual(cursor);
  });
});

describe('the sweeps and Persona’s rate limit', () => {
  it('keep half of each window for live traffic and wait out a 429', async () => {
    harness = await startHarness({}, { personaRateLimit: { limit: 20, windowMs: 1_000 } });
    const gone = openedFor(harness, 6, { deleted: true });
    openedFor(harness, 1); // one that exists: this is the right Kratos (ALL_MISSING_GUARD)
    const deps = sweepDeps(harness);
    harness.persona.inject({ method: 'DELETE', status: 429, headers: { 'RateLimit-Reset': '1' } });

    const counts = await sweep(deps, { graceMs: 0 });

    expect(counts).toMatchObject({ missing: 6, redacted: 6, failed: 0, complete: true });
    for (const { inquiryId } of gone)
      expect(harness.persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));
    // The injected 429 is the only one: the sweep paced itself below the limit.
    expect(harness.persona.requests.filter((r) => r.status === 429)).toHaveLength(1);
    expect(deps.progress.some((line) => line.includes("for Persona's rate window to reset"))).toBe(true);
  }, 60_000);
});
