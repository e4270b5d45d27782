import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

/**
 * Issue 16 (review 16): "every admin action writes one structured log line (actor, action, identity
 * id or cohort size, outcome) and a counter". An action that fails on Kratos is an action too, and
 * the one whose write may have landed (Kratos answered 5xx to the PATCH) is the one an auditor
 * most needs to see.
 */
let harness: Harness;
afterEach(() => harness.close());

const metricsText = async () => (await request(harness.app).get('/metrics').expect(200)).text;

describe('admin actions that fail on Kratos are audited', () => {
  it('audits a re-verification whose Kratos write failed (it may have landed), with its counter', async () => {
    harness = await startAdminHarness({ HOST: '127.0.0.1' });
    const { id } = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'PATCH', path: `/admin/identities/${id}`, status: 500, times: 10 });

    const response = await admin(harness).post(`/admin/identities/${id}/reverification`, {
      actor: 'agent-7',
      reason: 'incident-42',
    });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('temporarily_unavailable');

    expect(auditLines(harness)).toEqual([
      expect.objectContaining({
        actor: 'agent-7',
        action: 'reverification.require',
        identity_id: id,
        outcome: 'outcome_unknown',
      }),
    ]);
    expect(await metricsText()).toContain(
      'admin_actions_total{action="reverification.require",outcome="outcome_unknown"} 1\n',
    );
  });

  it('audits a look-up and a link refused because Kratos failed', async () => {
    harness = await startAdminHarness({ HOST: '127.0.0.1' });
    const { id } = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'GET', path: '/admin/identities/', status: 500, times: 50 });

    const lookUp = await admin(harness).get(`/admin/identities/${id}/verification?actor=agent-7`);
    const link = await admin(harness).post(`/admin/identities/${id}/verification-links`, { actor: 'agent-7' });
    expect([lookUp.status, link.status]).toEqual([503, 503]);

    expect(
      auditLines(harness).map((line) => [line['actor'], line['action'], line['identity_id'], line['outcome']]),
    ).toEqual([
      ['agent-7', 'verification.read', id, 'temporarily_unavailable'],
      ['agent-7', 'link.issue', id, 'temporarily_unavailable'],
    ]);
  });

  it('audits a re-verification that failed before its write as temporarily_unavailable', async () => {
    harness = await startAdminHarness({ HOST: '127.0.0.1' });
    const { id } = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'GET', path: `/admin/identities/${id}`, status: 500, times: 50 });
    const response = await admin(harness).post(`/admin/identities/${id}/reverification`, {
      actor: 'agent-7',
      reason: 'incident-42',
    });
    expect(response.status).toBe(503);
    expect(harness.kratos.patchesOf(id)).toEqual([]);
    expect(auditLines(harness)).toEqual([
      expect.objectContaining({ action: 'reverification.require', outcome: 'temporarily_unavailable' }),
    ]);
  });

  it('audits a link refused for its return_to, and a redaction that could not read the identity', async () => {
    harness = await startAdminHarness({ HOST: '127.0.0.1' });
    const { id } = harness.kratos.createIdentity();
    const link = await admin(harness).post(`/admin/identities/${id}/verification-links`, {
      actor: 'agent-7',
      return_to: 'https://evil.example.net/',
    });
    expect(link.body.error.code).toBe('invalid_return_to');
    harness.kratos.inject({ method: 'GET', path: `/admin/identities/${id}`, status: 500, times: 50 });
    const redaction = await admin(harness).post(`/admin/identities/${id}/redaction`, { actor: 'agent-7' });
    expect(redaction.status).toBe(503);
    expect(auditLines(harness).map((line) => [line['action'], line['outcome']])).toEqual([
      ['link.issue', 'invalid_return_to'],
      ['persona.redact', 'temporarily_unavailable'],
    ]);
  });

  it('audits each identity of a cohort whose write failed', async () => {
    harness = await startAdminHarness({ HOST: '127.0.0.1' });
    const { id } = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'PATCH', path: `/admin/identities/${id}`, status: 500, times: 10 });
    const cohort = await admin(harness).post('/admin/reverification', {
      actor: 'ops-1',
      reason: 'incident-42',
      identity_ids: [id],
    });
    expect(cohort.body).toMatchObject({ failed: 1, failed_identity_ids: [id] });
    expect(auditLines(harness).map((line) => [line['action'], line['identity_id'], line['outcome']])).toEqual([
      ['reverification.require', id, 'outcome_unknown'],
      ['reverification.cohort', undefined, 'partial'],
    ]);
  });
});
