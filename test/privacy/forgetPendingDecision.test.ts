import { afterEach, describe, expect, it } from 'vitest';
import { serviceNote } from '../../src/persona/inquiry.js';
import { redactIdentity } from '../../src/privacy/redactIdentity.js';
import { startHarness, type Harness } from '../support/harness.js';
import { recordOf, redactionDeps, registeredAndDecided } from '../support/privacy.js';

let harness: Harness;
afterEach(() => harness.close());

describe('forget_decision while a later inquiry awaits its decision', () => {
  it('is refused (decision_pending), so the decline that lands afterwards still counts', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    // A re-verification the service opened is in review at Persona when the operator asks to forget.
    harness.clock.now += 1_000;
    const laterId = harness.persona.addInquiry({ referenceId: identityId, note: serviceNote('reverification') }).id;
    harness.persona.setStatus(laterId, 'completed');
    harness.clock.now += 1_000;
    harness.persona.setStatus(laterId, 'needs_review');
    await harness.postEvent(harness.persona.eventFor(laterId, 'inquiry.marked-for-review')).expect(200);
    expect(recordOf(harness, identityId)).toMatchObject({ inquiry_id: laterId, decision: { outcome: 'approved' } });

    const deps = redactionDeps(harness);
    const request = { identityId, actor: 'agent-7', trigger: 'request', forgetDecision: true, dryRun: false } as const;
    await expect(redactIdentity(deps, request, {})).rejects.toMatchObject({
      name: 'RedactionRefused',
      reason: 'decision_pending',
    });
    // Refused before anything was redacted or forgotten.
    expect(harness.persona.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
    expect(recordOf(harness, identityId)?.['redaction']).toBeNull();

    // The reviewer declines it afterwards: the decline stands.
    harness.clock.now += 60_000;
    harness.persona.setStatus(laterId, 'declined');
    await harness.postEvent(harness.persona.eventFor(laterId, 'inquiry.declined')).expect(200);
    expect(recordOf(harness, identityId)?.['decision']).toMatchObject({ outcome: 'declined', inquiry_id: laterId });
  });

  it('is allowed once the inquiry in progress is decided (approved)', async () => {
    harness = await startHarness();
    const { identityId } = await registeredAndDecided(harness, 'approved');
    const deps = redactionDeps(harness);
    const request = { identityId, actor: 'agent-7', trigger: 'request', forgetDecision: true, dryRun: false } as const;
    expect(await redactIdentity(deps, request, {})).toMatchObject({ decision_forgotten: true });
    expect(recordOf(harness, identityId)).toMatchObject({ decision: null, status: 'not_started' });
  });
});
