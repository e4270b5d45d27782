import { afterEach, describe, expect, it } from 'vitest';
import { sweepRetention } from '../../src/privacy/sweep/retention.js';
import { startHarness, type Harness } from '../support/harness.js';
import { recordOf, registeredAndDecided, sweepDeps } from '../support/privacy.js';

let harness: Harness;
afterEach(() => harness.close());

const DAY_MS = 86_400_000;
const RETENTION_MS = 90 * DAY_MS;

describe('retention (PERSONA_RETENTION)', () => {
  it('redacts inquiries decided longer ago than the retention period; the record keeps the decision', async () => {
    harness = await startHarness();
    const oldApproval = await registeredAndDecided(harness, 'approved');
    const oldDecline = await registeredAndDecided(harness, 'declined');
    harness.clock.now += 100 * DAY_MS;
    const recent = await registeredAndDecided(harness, 'approved');
    const deps = sweepDeps(harness);

    const counts = await sweepRetention(deps, { retentionMs: RETENTION_MS, dryRun: false });

    expect(counts).toMatchObject({ redacted: 2, failed: 0, complete: true });
    for (const { identityId, inquiryId } of [oldApproval, oldDecline]) {
      const inquiry = harness.persona.inquiry(inquiryId)!;
      expect(inquiry.redactedAt).toEqual(expect.any(String));
      // Inquiry by inquiry: the account stays, for the person's later inquiries.
      expect(harness.persona.account(inquiry.accountId)?.redactedAt).toBeNull();
      expect(recordOf(harness, identityId)?.['redaction']).toMatchObject({ inquiries: [{ inquiry_id: inquiryId }] });
    }
    expect(harness.persona.inquiry(recent.inquiryId)?.redactedAt).toBeNull();
    expect(recordOf(harness, oldApproval.identityId)?.['decision']).toMatchObject({ outcome: 'approved' });
    expect(recordOf(harness, oldDecline.identityId)?.['decision']).toMatchObject({ outcome: 'declined' });
    expect(deps.audited.map((entry) => [entry.trigger, entry.identityId, entry.outcome])).toEqual(
      expect.arrayContaining([
        ['retention', oldApproval.identityId, 'ok'],
        ['retention', oldDecline.identityId, 'ok'],
      ]),
    );

    // The decline still blocks, the approval still lets in.
    await harness.serve();
    expect((await harness.kratos.login(oldDecline.identityId)).hook.reading).toMatchObject({ id: 4100001 });
    expect((await harness.kratos.login(oldApproval.identityId)).session).not.toBeNull();

    // Already redacted: a second run passes them over.
    expect(await sweepRetention(deps, { retentionMs: RETENTION_MS, dryRun: false })).toMatchObject({ redacted: 0 });
  });

  it('runs from the decision, not the creation: an inquiry decided within the period stays', async () => {
    harness = await startHarness();
    const identity = harness.kratos.createIdentity();
    const opened = await harness.postHook('/persona/initiate', { identity_id: identity.id }).expect(200);
    const inquiryId = opened.body.inquiry_id as string;
    harness.clock.now += 120 * DAY_MS;
    harness.persona.setStatus(inquiryId, 'approved');
    harness.clock.now += 10 * DAY_MS;

    expect(await sweepRetention(sweepDeps(harness), { retentionMs: RETENTION_MS, dryRun: false })).toMatchObject({
      redacted: 0,
      recent: 1,
    });
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
  });

  it('leaves an inquiry the service neither opened nor holds', async () => {
    harness = await startHarness();
    const { identityId } = await registeredAndDecided(harness, 'approved');
    const stranger = harness.persona.addInquiry({ referenceId: identityId, status: 'declined' });
    harness.clock.now += 100 * DAY_MS;

    const counts = await sweepRetention(sweepDeps(harness), { retentionMs: RETENTION_MS, dryRun: false });

    expect(counts).toMatchObject({ redacted: 1, notOurs: 1 });
    expect(harness.persona.inquiry(stranger.id)?.redactedAt).toBeNull();
  });

  it('changes nothing on a dry run', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    harness.clock.now += 100 * DAY_MS;
    const writes = harness.kratos.patchesOf(identityId).length;
    const deps = sweepDeps(harness);

    expect(await sweepRetention(deps, { retentionMs: RETENTION_MS, dryRun: true })).toMatchObject({ redacted: 1 });
    expect(harness.persona.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(writes);
    expect(deps.audited).toEqual([expect.objectContaining({ outcome: 'dry_run', inquiryIds: [inquiryId] })]);
  });
});
