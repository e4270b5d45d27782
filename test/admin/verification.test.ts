import { afterEach, describe, expect, it } from 'vitest';
import { admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

let harness: Harness;
afterEach(() => harness.close());

const DAY = 86_400_000;
const lookUp = (id: string, actor = 'agent-7') =>
  admin(harness).get(`/admin/identities/${id}/verification?actor=${actor}`);

describe('GET /admin/identities/{id}/verification', () => {
  it("answers an approved identity's record, decision, purposes, what login and start do, and its dashboard page", async () => {
    harness = await startAdminHarness();
    const { identityId, inquiryId } = harness.identityInState('approved');
    const response = await lookUp(identityId);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      identity_id: identityId,
      identity_state: 'active',
      record_state: 'record',
      unreadable_reason: null,
      stored_version_current: true,
      record: { version: 2, inquiry_id: inquiryId, status: 'approved', reverification: null },
      decision: { outcome: 'approved', inquiry_id: inquiryId },
      purposes: { onboarding: { inquiry_id: inquiryId, status: 'approved' } },
      reverification: { required: false, because: null, requirement: null },
      login: { allowed: true, reason: 'not_declined', message_id: null },
      next_step: 'verified',
      dashboard: {
        inquiry: `https://app.withpersona.com/dashboard/inquiries/${inquiryId}`,
        decision: `https://app.withpersona.com/dashboard/inquiries/${inquiryId}`,
      },
    });
    expect(auditLines(harness)).toEqual([
      expect.objectContaining({
        audit: true,
        actor: 'agent-7',
        action: 'verification.read',
        identity_id: identityId,
        outcome: 'ok',
      }),
    ]);
  });

  it('says what blocks a declined identity and that start grants no retry', async () => {
    harness = await startAdminHarness();
    const { identityId } = harness.identityInState('declined');
    const response = await lookUp(identityId);
    expect(response.body).toMatchObject({
      decision: { outcome: 'declined' },
      login: { allowed: false, reason: 'declined', message_id: 4100001 },
      next_step: 'declined',
    });
  });

  it('tells an identity without a record apart, under each policy', async () => {
    harness = await startAdminHarness({ LOGIN_POLICY: 'require-approved' });
    const { id } = harness.kratos.createIdentity({ created_at: new Date(harness.clock.now - DAY).toISOString() });
    const response = await lookUp(id);
    expect(response.body).toMatchObject({
      record_state: 'none',
      stored_version_current: null,
      record: null,
      decision: null,
      purposes: {},
      login: { allowed: false, reason: 'verification_required', message_id: 4100002 },
      next_step: 'create',
      dashboard: { inquiry: null, decision: null },
    });
  });

  it('shows a record 0.1.0 wrote as it will be upgraded, and says it is not upgraded yet', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity({
      metadata_admin: {
        persona: {
          inquiry_id: 'inq_second',
          status: 'created',
          template_id: 'itmpl_Ours1234567890',
          created_at: '2026-05-01T10:10:00.000Z',
          updated_at: '2026-05-01T10:10:00.000Z',
          decided_at: null,
          last_event_id: null,
          history: [{ inquiry_id: 'inq_first', status: 'declined', decided_at: '2026-05-01T10:05:00.000Z' }],
        },
      },
    });
    const response = await lookUp(id);
    expect(response.body).toMatchObject({
      stored_version_current: false,
      record: { version: 2, inquiry_id: 'inq_second' },
      decision: { outcome: 'declined', inquiry_id: 'inq_first' },
      login: { allowed: false, reason: 'declined' },
    });
  });

  it('names why a record cannot be interpreted, without its content', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity({ metadata_admin: { persona: { version: 7, status: 'approved' } } });
    const response = await lookUp(id);
    expect(response.body).toMatchObject({
      record_state: 'unreadable',
      unreadable_reason: 'unknown_version',
      record: null,
      login: { allowed: true, reason: 'record_unreadable' },
      next_step: 'unavailable',
    });
  });

  it('says an approval older than REVERIFY_AFTER must be renewed', async () => {
    harness = await startAdminHarness({ REVERIFY_AFTER: '30d' });
    const { identityId } = harness.identityInState('approved', { decidedAgoMs: 31 * DAY });
    const response = await lookUp(identityId);
    expect(response.body).toMatchObject({
      reverification: { required: true, because: 'reverify_after', requirement: null },
      next_step: 'create',
    });
  });

  it('answers no personal data: traits stay out of the answer and the log', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity({ traits: { email: 'jane.doe@example.com', name: 'Jane Doe' } });
    const response = await lookUp(id);
    expect(response.text).not.toMatch(/jane|doe/i);
    expect(harness.logText()).not.toMatch(/jane|doe/i);
  });

  it.each([
    [
      'a malformed id',
      '/admin/identities/not-a-uuid/verification?actor=a',
      'id: must be a Kratos identity id (a UUID)',
    ],
    [
      'the nil UUID',
      '/admin/identities/00000000-0000-0000-0000-000000000000/verification?actor=a',
      'id: must not be the nil UUID',
    ],
    ['no actor', '/admin/identities/5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34/verification', 'actor: '],
    [
      'an actor with spaces',
      '/admin/identities/5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34/verification?actor=Jane%20Doe',
      'actor: must be',
    ],
    [
      'an unknown parameter',
      '/admin/identities/5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34/verification?actor=a&verbose=1',
      'Unrecognized key',
    ],
  ])('refuses %s with 400 naming the field', async (_case, path, message) => {
    harness = await startAdminHarness();
    const response = await admin(harness).get(path);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain(message);
    expect(harness.kratos.requests).toEqual([]);
  });

  it('answers 404 for an identity Kratos does not have, and 503 while Kratos fails', async () => {
    harness = await startAdminHarness();
    const missing = await lookUp('5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('unknown_identity');
    const { id } = harness.kratos.createIdentity();
    harness.kratos.inject({ method: 'GET', path: '/admin/identities/', status: 500, times: 10 });
    const failing = await lookUp(id);
    expect(failing.status).toBe(503);
    expect(failing.body).toEqual({
      error: {
        code: 'temporarily_unavailable',
        message: 'Kratos, Persona or the database did not answer in time, or failed; try again.',
      },
    });
  });
});
