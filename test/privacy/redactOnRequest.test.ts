import { afterEach, describe, expect, it } from 'vitest';
import { redactIdentity } from '../../src/privacy/redactIdentity.js';
import { FOREIGN_TEMPLATE_ID, startHarness, type Harness } from '../support/harness.js';
import { recordOf, redactionDeps, registeredAndDecided } from '../support/privacy.js';

let harness: Harness;
afterEach(() => harness.close());

const FIELDS = { 'name-first': 'Zéphyrine', 'name-last': 'Okonkwo', birthdate: '1987-03-14' };

const request = (identityId: string, options: { forgetDecision?: boolean; dryRun?: boolean } = {}) => ({
  identityId,
  actor: 'agent-7',
  trigger: 'request' as const,
  forgetDecision: options.forgetDecision ?? false,
  dryRun: options.dryRun ?? false,
});

const deletes = (h: Harness) =>
  h.persona.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.replace(/_\w+$/, '_'));

describe('redaction on request', () => {
  it('redacts the account when it holds only ours; the record keeps the decline, which still blocks', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'declined');
    const accountId = harness.persona.inquiry(inquiryId)!.accountId;
    const deps = redactionDeps(harness);

    const result = await redactIdentity(deps, request(identityId), {});

    expect(result).toMatchObject({
      identity_found: true,
      account: { id: accountId, redacted: true },
      redacted_with_account: [inquiryId],
      redacted_inquiries: [],
      not_ours: [],
      record_updated: true,
      decision_forgotten: false,
    });
    expect(deletes(harness)).toEqual(['/api/v1/accounts/act_']);
    expect(harness.persona.account(accountId)?.redactedAt).toEqual(expect.any(String));
    expect(harness.persona.inquiry(inquiryId)).toMatchObject({ status: 'declined', note: null, referenceId: null });
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));

    const record = recordOf(harness, identityId);
    expect(record).toMatchObject({
      inquiry_id: inquiryId,
      status: 'declined',
      decision: { outcome: 'declined', inquiry_id: inquiryId },
      redaction: {
        redacted_at: new Date(harness.clock.now).toISOString(),
        account_redacted_at: new Date(harness.clock.now).toISOString(),
        inquiries: [{ inquiry_id: inquiryId, redacted_at: new Date(harness.clock.now).toISOString() }],
        forgotten: null,
      },
    });
    await harness.serve();
    const login = await harness.kratos.login(identityId);
    expect(login.session).toBeNull();
    expect(login.hook.reading).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(deps.audited).toEqual([
      expect.objectContaining({
        actor: 'agent-7',
        trigger: 'request',
        identityId,
        outcome: 'ok',
        accountId,
        inquiryIds: [inquiryId],
        decisionForgotten: false,
      }),
    ]);
  });

  it('leaves an inquiry not ours, and so the account; ours are redacted one by one', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    // Anybody can open our template with the identity's id as reference (no note), and another app
    // may share the environment: both land in the identity's account.
    const stranger = harness.persona.addInquiry({ referenceId: identityId, fields: FIELDS });
    const otherApp = harness.persona.addInquiry({
      referenceId: identityId,
      templateId: FOREIGN_TEMPLATE_ID,
      note: 'Opened by ory-persona-idv (purpose: onboarding)',
      fields: FIELDS,
    });
    const accountId = harness.persona.inquiry(inquiryId)!.accountId;
    expect([stranger.accountId, otherApp.accountId]).toEqual([accountId, accountId]);

    const result = await redactIdentity(redactionDeps(harness), request(identityId), {});

    expect(result).toMatchObject({
      account: { id: accountId, redacted: false },
      redacted_inquiries: [inquiryId],
      redacted_with_account: [],
    });
    expect(result.not_ours.sort()).toEqual([stranger.id, otherApp.id].sort());
    expect(deletes(harness)).toEqual(['/api/v1/inquiries/inq_']);
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));
    expect(harness.persona.inquiry(inquiryId)?.referenceId).toBe(identityId);
    for (const untouched of [stranger.id, otherApp.id]) {
      expect(harness.persona.inquiry(untouched)).toMatchObject({ redactedAt: null, fields: FIELDS });
    }
    expect(harness.persona.account(accountId)?.redactedAt).toBeNull();
    expect(recordOf(harness, identityId)).toMatchObject({
      decision: { outcome: 'approved' },
      redaction: { account_redacted_at: null, inquiries: [{ inquiry_id: inquiryId }] },
    });
  });

  it('redacts the account whole, with what is not ours in it, when the operator says so', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'declined');
    // Someone keeps opening inquiries with the identity's id to keep its account alive.
    const stranger = harness.persona.addInquiry({ referenceId: identityId, fields: FIELDS });
    const accountId = harness.persona.inquiry(inquiryId)!.accountId;

    const result = await redactIdentity(redactionDeps(harness), { ...request(identityId), wholeAccount: true }, {});

    expect(result).toMatchObject({
      account: { id: accountId, redacted: true },
      redacted_with_account: [inquiryId],
      not_ours: [stranger.id],
    });
    expect(harness.persona.account(accountId)?.redactedAt).toEqual(expect.any(String));
    expect(harness.persona.inquiry(stranger.id)?.redactedAt).toEqual(expect.any(String));
    expect(recordOf(harness, identityId)?.['decision']).toMatchObject({ outcome: 'declined' });
  });

  it('counts an inquiry the record holds as ours, without the note (opened by 0.1.0)', async () => {
    harness = await startHarness();
    // The harness writes the record the service would have; the inquiry has no note.
    const { identityId, inquiryId } = harness.identityInState('approved', { decidedAgoMs: 60_000 });
    expect(harness.persona.inquiry(inquiryId)?.note).toBeNull();

    const result = await redactIdentity(redactionDeps(harness), request(identityId), {});

    expect(result.redacted_with_account).toEqual([inquiryId]);
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));
  });

  it('forgets an approval when asked: never verified again, a late redelivery of it counts for nothing', async () => {
    harness = await startHarness({ LOGIN_POLICY: 'require-approved' });
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    const approvedEvent = harness.persona.eventFor(inquiryId, 'inquiry.approved');
    const deps = redactionDeps(harness);

    const result = await redactIdentity(deps, request(identityId, { forgetDecision: true }), {});

    expect(result).toMatchObject({ record_updated: true, decision_forgotten: true });
    expect(recordOf(harness, identityId)).toMatchObject({
      inquiry_id: null,
      status: 'not_started',
      decision: null,
      decisions: [],
      purposes: {},
      history: [],
      redaction: { forgotten: { at: expect.any(String), inquiry_ids: [inquiryId] } },
    });
    expect(harness.kratos.identity(identityId)?.metadata_public?.['persona']).toMatchObject({
      status: 'not_started',
      verified_at: null,
    });
    expect(deps.audited[0]).toMatchObject({ outcome: 'ok', decisionForgotten: true });

    // Persona delivers the old approval again (its payload still carries the note): nothing comes back.
    harness.clock.now += 60_000;
    await harness.postEvent(approvedEvent).expect(200, { outcome: 'ignored', reason: 'not_opened_by_service' });
    expect(recordOf(harness, identityId)?.['decision']).toBeNull();
    await harness.serve();
    expect((await harness.kratos.login(identityId)).session).toBeNull();
  });

  it('never forgets a decline: refused before anything is redacted, and the decline blocks', async () => {
    harness = await startHarness({ ON_DECLINE: 'revoke_sessions,deactivate' });
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'declined');
    const deps = redactionDeps(harness);

    await expect(redactIdentity(deps, request(identityId, { forgetDecision: true }), {})).rejects.toMatchObject({
      name: 'RedactionRefused',
      reason: 'decline_kept',
    });
    expect(deletes(harness)).toEqual([]);
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
    expect(harness.kratos.identity(identityId)?.state).toBe('inactive');
    expect(recordOf(harness, identityId)?.['decision']).toMatchObject({ outcome: 'declined' });
    expect(deps.audited).toEqual([expect.objectContaining({ outcome: 'refused', decisionForgotten: false })]);
  });

  it('keeps a decline that arrives while the redaction runs, though forgetting was asked', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    const deps = redactionDeps(harness);
    // A later inquiry the service opened for the identity is declined between the check and the record's write.
    harness.clock.now += 1_000;
    const laterId = harness.persona.addInquiry({
      referenceId: identityId,
      note: 'Opened by ory-persona-idv (purpose: reverification)',
    }).id;
    expect(laterId).not.toBe(inquiryId);
    const persona = {
      ...deps.persona,
      redactAccount: async (accountId: string, options: object) => {
        harness.clock.now += 1_000;
        harness.persona.setStatus(laterId, 'declined');
        await harness.postEvent(harness.persona.eventFor(laterId, 'inquiry.declined')).expect(200);
        return deps.persona.redactAccount(accountId, options);
      },
    };

    const result = await redactIdentity({ ...deps, persona }, request(identityId, { forgetDecision: true }), {});

    expect(result).toMatchObject({ record_updated: true, decision_forgotten: false });
    expect(recordOf(harness, identityId)).toMatchObject({
      decision: { outcome: 'declined', inquiry_id: laterId },
      redaction: { forgotten: null },
    });
    expect(deps.audited.at(-1)).toMatchObject({ outcome: 'ok', decisionForgotten: false });
  });

  it('lists what it would redact on a dry run, by id, and changes nothing', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'declined');
    const writes = harness.kratos.patchesOf(identityId).length;
    const deps = redactionDeps(harness);

    const result = await redactIdentity(deps, request(identityId, { dryRun: true }), {});

    expect(result).toMatchObject({
      dry_run: true,
      account: { redacted: true },
      redacted_with_account: [inquiryId],
      record_updated: false,
      decision_forgotten: false,
    });
    expect(deletes(harness)).toEqual([]);
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(writes);
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
    expect(deps.audited).toEqual([expect.objectContaining({ outcome: 'dry_run', dryRun: true })]);
  });

  it('redacts the data of an identity Kratos no longer has by the note alone', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    harness.kratos.deleteIdentity(identityId);

    const result = await redactIdentity(redactionDeps(harness), request(identityId), {});

    expect(result).toMatchObject({ identity_found: false, redacted_with_account: [inquiryId], record_updated: false });
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));
  });

  it('goes on where it stopped: a failure midway is thrown, and the next try finishes', async () => {
    harness = await startHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    const second = harness.persona.addInquiry({ referenceId: identityId, note: 'Opened by ory-persona-idv' });
    // A stranger keeps the account, so ours go one by one; the second DELETE fails for good.
    harness.persona.addInquiry({ referenceId: identityId });
    const deps = redactionDeps(harness);
    harness.persona.inject({ method: 'DELETE', path: `/api/v1/inquiries/${inquiryId}`, status: 500, times: 3 });

    await expect(redactIdentity(deps, request(identityId), {})).rejects.toThrow(/redactInquiry failed: HTTP 500/);
    // Newest first: the second inquiry went before the first one failed.
    expect(harness.persona.inquiry(second.id)?.redactedAt).toEqual(expect.any(String));
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
    expect(deps.audited[0]).toMatchObject({ outcome: 'partial', inquiryIds: [second.id] });

    const again = await redactIdentity(deps, request(identityId), {});
    expect([...again.redacted_inquiries, ...again.already_redacted].sort()).toEqual([inquiryId, second.id].sort());
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));
    expect(harness.persona.inquiry(second.id)?.redactedAt).toEqual(expect.any(String));
    expect(deps.audited[1]?.outcome).toBe('ok');
  });
});
