import { afterEach, describe, expect, it } from 'vitest';
import { admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

/**
 * Kratos reads identity ids with x.ParseUUID (gofrs uuid.FromString), which takes either case, so an
 * id pasted in upper case names the same identity. The service lowers it at the edge: the signed
 * link's token, the short code, the identity's lock, the audit and Persona's reference id carry the
 * one form Kratos writes, so the link works in the person's own browser and no second Persona
 * account is opened. (Review 16, finding 3.)
 */
let harness: Harness;
afterEach(() => harness.close());

describe('an identity id in upper case', () => {
  it('is taken as the identity in its canonical form, for a link', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const response = await admin(harness).post(`/admin/identities/${id.toUpperCase()}/verification-links`, {
      actor: 'agent-7',
    });
    expect(response.status).toBe(200);
    expect(response.body.identity_id).toBe(id);
    const token = new URL(response.body.url as string).searchParams.get('token') ?? '';
    expect(token.split('.')[0]).toBe(id);
    expect(auditLines(harness).map((line) => line['identity_id'])).toEqual([id]);
  });

  it('is taken as the identity in its canonical form, for a re-verification and a cohort', async () => {
    harness = await startAdminHarness();
    const [first, second] = [harness.kratos.createIdentity().id, harness.kratos.createIdentity().id];
    const one = await admin(harness).post(`/admin/identities/${first.toUpperCase()}/reverification`, {
      actor: 'agent-7',
      reason: 'role_change',
    });
    expect(one.status).toBe(200);
    expect(one.body.identity_id).toBe(first);
    expect(harness.kratos.patchesOf(first)).toHaveLength(1);

    const cohort = await admin(harness).post('/admin/reverification', {
      actor: 'ops-1',
      reason: 'incident-42',
      identity_ids: [second.toUpperCase()],
    });
    expect(cohort.body).toMatchObject({ matched: 1, changed: 1, done: true });
    expect(harness.kratos.patchesOf(second)).toHaveLength(1);
  });
});
