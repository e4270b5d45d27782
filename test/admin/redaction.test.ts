import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';
import { recordOf, registeredAndDecided } from '../support/privacy.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const FIELDS = { 'name-first': 'Zéphyrine', 'name-last': 'Okonkwo', birthdate: '1987-03-14' };

const redact = (h: Harness, identityId: string, body: Record<string, unknown> = {}) =>
  admin(h).post(`/admin/identities/${identityId}/redaction`, { actor: 'agent-7', ...body });

const deletes = (h: Harness) => h.persona.requests.filter((r) => r.method === 'DELETE');

/** What the login gate answers for the identity, from the mirror Kratos sends it. */
const gate = (h: Harness, identityId: string) =>
  h.postHook('/persona/validate', {
    identity_id: identityId,
    persona: h.kratos.identity(identityId)?.metadata_public?.['persona'],
  });

describe('POST /admin/identities/{id}/redaction', () => {
  it("redacts the stand-in's data, notes it on the record, keeps the decline blocking, audits and counts", async () => {
    // On loopback, /metrics answers without a token.
    harness = await startAdminHarness({ HOST: '127.0.0.1' });
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'declined');
    const accountId = harness.persona.inquiry(inquiryId)!.accountId;
    // What the person's document says (the stand-in's verification reads it).
    harness.persona.setDocument(inquiryId, {
      'name-first': 'Zéphyrine',
      'name-last': 'Okonkwo',
      birthdate: '1987-03-14',
    });
    expect(harness.persona.inquiry(inquiryId)?.document).toMatchObject({ 'name-last': 'Okonkwo' });

    const response = await redact(harness, identityId);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      identity_id: identityId,
      dry_run: false,
      identity_found: true,
      account: { id: accountId, redacted: true },
      redacted_inquiries: [],
      redacted_with_account: [inquiryId],
      already_redacted: [],
      not_ours: [],
      record_updated: true,
      decision_forgotten: false,
    });
    // Persona's side: the account and its inquiry redacted, what the person typed gone.
    expect(harness.persona.account(accountId)?.redactedAt).toEqual(expect.any(String));
    expect(harness.persona.inquiry(inquiryId)).toMatchObject({
      status: 'declined',
      note: null,
      referenceId: null,
      document: { 'name-first': null, 'name-last': null, birthdate: null },
    });
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));
    // The record: ids, statuses, times and the decision stay; what was redacted is noted.
    const now = new Date(harness.clock.now).toISOString();
    expect(recordOf(harness, identityId)).toMatchObject({
      inquiry_id: inquiryId,
      status: 'declined',
      decision: { outcome: 'declined', inquiry_id: inquiryId },
      redaction: {
        redacted_at: now,
        account_redacted_at: now,
        inquiries: [{ inquiry_id: inquiryId }],
        forgotten: null,
      },
    });
    // The decline still blocks, and /persona/start still grants no retry.
    const blocked = await gate(harness, identityId);
    expect(blocked.body.messages[0].messages[0].id).toBe(4100001);
    const lookup = await admin(harness).get(`/admin/identities/${identityId}/verification?actor=agent-7`);
    expect(lookup.body).toMatchObject({
      decision: { outcome: 'declined' },
      login: { allowed: false },
      next_step: 'declined',
      record: { redaction: { account_redacted_at: now } },
    });

    expect(auditLines(harness).filter((line) => line['action'] === 'persona.redact')).toEqual([
      expect.objectContaining({
        actor: 'agent-7',
        action: 'persona.redact',
        identity_id: identityId,
        outcome: 'ok',
        details: {
          trigger: 'request',
          dry_run: false,
          account_id: accountId,
          inquiry_count: 1,
          inquiry_ids: inquiryId,
          decision_forgotten: false,
        },
      }),
    ]);
    expect(harness.logText()).not.toContain('Okonkwo');
    const metrics = (await request(harness.app).get('/metrics').expect(200)).text;
    expect(metrics).toContain('persona_redactions_total{trigger="request",outcome="ok"} 1');
    expect(metrics).toContain('admin_actions_total{action="persona.redact",outcome="ok"} 1');
  });

  it('lists what it would redact on a dry run, by id, and changes nothing', async () => {
    harness = await startAdminHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    const before = structuredClone(harness.kratos.identity(identityId));
    const patches = harness.kratos.patchesOf(identityId).length;

    const response = await redact(harness, identityId, { dry_run: true, forget_decision: true });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      dry_run: true,
      redacted_with_account: [inquiryId],
      record_updated: false,
      decision_forgotten: false,
    });
    expect(deletes(harness)).toEqual([]);
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patches);
    expect(harness.kratos.identity(identityId)).toEqual(before);
    expect(auditLines(harness).at(-1)).toMatchObject({ action: 'persona.redact', outcome: 'dry_run' });
  });

  it('refuses to forget a decline (409 decline_kept), before redacting anything', async () => {
    harness = await startAdminHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'declined');
    const patches = harness.kratos.patchesOf(identityId).length;

    const response = await redact(harness, identityId, { forget_decision: true });

    expect([response.status, response.body.error.code]).toEqual([409, 'decline_kept']);
    expect(response.body.error.message).toContain('a redacted decline still blocks');
    expect(deletes(harness)).toEqual([]);
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toBeNull();
    expect(harness.kratos.patchesOf(identityId)).toHaveLength(patches);
    expect((await gate(harness, identityId)).body.messages[0].messages[0].id).toBe(4100001);
    expect(auditLines(harness).at(-1)).toMatchObject({ action: 'persona.redact', outcome: 'refused' });
  });

  it("forgets an approval when asked, but keeps an operator's requirement to verify again", async () => {
    harness = await startAdminHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    await admin(harness)
      .post(`/admin/identities/${identityId}/reverification`, { actor: 'agent-7', reason: 'incident' })
      .then((response) => expect(response.status).toBe(200));

    const response = await redact(harness, identityId, { forget_decision: true });

    expect(response.body).toMatchObject({ record_updated: true, decision_forgotten: true });
    expect(recordOf(harness, identityId)).toMatchObject({
      status: 'not_started',
      decision: null,
      reverification: { reason: 'incident', block_login: true },
      redaction: { forgotten: { inquiry_ids: [inquiryId] } },
    });
    // Forgetting lifts no block: the requirement still stops the login (4100003).
    expect((await gate(harness, identityId)).body.messages[0].messages[0].id).toBe(4100003);
  });

  it('redacts an identity Kratos no longer has by what the service opened for it', async () => {
    harness = await startAdminHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    harness.kratos.deleteIdentity(identityId);

    const response = await redact(harness, identityId);

    expect(response.body).toMatchObject({
      identity_found: false,
      redacted_with_account: [inquiryId],
      record_updated: false,
    });
    expect(harness.persona.inquiry(inquiryId)?.redactedAt).toEqual(expect.any(String));
  });

  it('answers 503 when Persona fails, and the same request finishes the work', async () => {
    harness = await startAdminHarness();
    const { identityId, inquiryId } = await registeredAndDecided(harness, 'approved');
    const accountId = harness.persona.inquiry(inquiryId)!.accountId;
    harness.persona.inject({ method: 'DELETE', path: `/api/v1/accounts/${accountId}`, status: 500, times: 3 });

    const failed = await redact(harness, identityId);
    expect([failed.status, failed.body.error.code]).toEqual([503, 'temporarily_unavailable']);
    expect(harness.persona.account(accountId)?.redactedAt).toBeNull();
    expect(auditLines(harness).at(-1)).toMatchObject({ action: 'persona.redact', outcome: 'failed' });

    const again = await redact(harness, identityId);
    expect(again.status).toBe(200);
    expect(harness.persona.account(accountId)?.redactedAt).toEqual(expect.any(String));
    expect(recordOf(harness, identityId)?.['redaction']).toMatchObject({ account_redacted_at: expect.any(String) });
  });

  it('answers 409 for a record it cannot interpret, redacting nothing', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity({ metadata_admin: { persona: { version: 9 } } });
    harness.persona.addInquiry({ referenceId: id, note: 'Opened by ory-persona-idv', fields: FIELDS });
    const response = await redact(harness, id);
    expect([response.status, response.body.error.code]).toEqual([409, 'record_unreadable']);
    expect(deletes(harness)).toEqual([]);
  });

  it.each([
    ['no actor', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', { actor: undefined }, 'actor'],
    ['a dry_run that is not a boolean', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', { dry_run: 'yes' }, 'dry_run'],
    ['an unknown field', '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34', { forget: true }, 'forget'],
    ['an id that is not a UUID', 'not-a-uuid', {}, 'id'],
  ])('answers 400 invalid_request for %s, naming it, and calls nobody', async (_name, id, body, field) => {
    harness = await startAdminHarness();
    const response = await redact(harness, id, body);
    expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    expect(response.body.error.message).toContain(field);
    expect(harness.kratos.requests).toEqual([]);
    expect(harness.persona.requests).toEqual([]);
  });
});
