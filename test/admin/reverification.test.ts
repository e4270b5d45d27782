import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX, startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import type { KratosStandIn } from '../../sandbox/kratosStandIn.js';
import type { SimulateAction } from '../../sandbox/personaSimulation.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../sandbox/webhookReceiver.js';
import { ADMIN_TOKEN, admin, auditLines, startAdminHarness } from '../support/admin.js';
import type { Harness } from '../support/harness.js';

let harness: Harness | undefined;
let sandbox: SandboxEnvironment | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await harness?.close();
  await sandbox?.close();
  await receiver?.close();
  harness = sandbox = receiver = undefined;
});

const requireOf = (h: Harness, identityId: string, body: Record<string, unknown> = {}) =>
  admin(h).post(`/admin/identities/${identityId}/reverification`, { actor: 'agent-7', reason: 'role_change', ...body });
const stored = (kratos: KratosStandIn, identityId: string) => kratos.identity(identityId);

describe('POST /admin/identities/{id}/reverification', () => {
  it('records the requirement on the identity and the flag the login gate reads on its mirror', async () => {
    harness = await startAdminHarness();
    const { identityId, inquiryId } = harness.identityInState('approved');
    const response = await requireOf(harness, identityId);
    const requirement = {
      required_at: new Date(harness.clock.now).toISOString(),
      reason: 'role_change',
      block_login: true,
      inquiry_id: inquiryId,
    };
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ identity_id: identityId, reverification: requirement });
    const identity = stored(harness.kratos, identityId);
    expect(identity?.metadata_admin?.['persona']).toMatchObject({ reverification: requirement, status: 'approved' });
    expect(identity?.metadata_public?.['persona']).toMatchObject({ status: 'approved', reverification_required: true });
    expect(auditLines(harness)).toEqual([
      expect.objectContaining({
        actor: 'agent-7',
        action: 'reverification.require',
        identity_id: identityId,
        outcome: 'ok',
        details: { reason: 'role_change', block_login: true },
      }),
    ]);
    // The gate, from the mirror Kratos sends it: 4100003 with a link, without a call to Kratos.
    const requestsBefore = harness.kratos.requests.length;
    const gate = await harness.postHook('/persona/validate', {
      identity_id: identityId,
      persona: identity?.metadata_public?.['persona'],
    });
    expect(gate.status).toBe(403);
    expect(gate.body.messages[0].messages[0]).toMatchObject({
      id: 4100003,
      context: { reason: 'reverification_required', verify_url: expect.stringContaining('/persona/start?token=') },
    });
    expect(harness.kratos.requests.length).toBe(requestsBefore);
  });

  it('refuses settings changes that need proof while it stands, however fresh a step-up', async () => {
    harness = await startAdminHarness();
    const { identityId } = harness.identityInState('approved');
    const freshStepUp = new Date(harness.clock.now).toISOString();
    const settings = (mirror: unknown) =>
      harness!.postHook('/persona/settings?method=password', { identity_id: identityId, persona: mirror });
    const before = stored(harness.kratos, identityId)?.metadata_public?.['persona'] as Record<string, unknown>;
    expect((await settings({ ...before, step_up_verified_at: freshStepUp })).status).toBe(204);

    expect((await requireOf(harness, identityId)).status).toBe(200);
    const after = stored(harness.kratos, identityId)?.metadata_public?.['persona'] as Record<string, unknown>;
    const refused = await settings({ ...after, step_up_verified_at: freshStepUp });
    expect(refused.status).toBe(403);
    expect(refused.body.messages[0].messages[0]).toMatchObject({
      id: 4100003,
      context: { reason: 'reverification_required' },
    });
  });

  it('with block_login false records it and lets logins through', async () => {
    harness = await startAdminHarness();
    const { identityId } = harness.identityInState('approved');
    const response = await requireOf(harness, identityId, { block_login: false });
    expect(response.body.reverification.block_login).toBe(false);
    const identity = stored(harness.kratos, identityId);
    expect(identity?.metadata_public?.['persona']).toMatchObject({ reverification_required: false });
    const gate = await harness.postHook('/persona/validate', {
      identity_id: identityId,
      persona: identity?.metadata_public?.['persona'],
    });
    expect(gate.status).toBe(204);
    const lookup = await admin(harness).get(`/admin/identities/${identityId}/verification?actor=agent-7`);
    expect(lookup.body).toMatchObject({ reverification: { required: true, because: 'operator' }, next_step: 'create' });
  });

  it('requires an identity without a record to verify, blocking it under block-declined too', async () => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    expect((await requireOf(harness, id)).status).toBe(200);
    const mirror = stored(harness.kratos, id)?.metadata_public?.['persona'];
    expect(mirror).toEqual({
      status: 'not_started',
      verified_at: null,
      inquiry_status: 'not_started',
      step_up_verified_at: null,
      reverification_required: true,
    });
    const gate = await harness.postHook('/persona/validate', { identity_id: id, persona: mirror });
    expect(gate.body.messages[0].messages[0].id).toBe(4100003);
  });

  it('leaves a declined identity declined', async () => {
    harness = await startAdminHarness();
    const { identityId } = harness.identityInState('declined');
    await requireOf(harness, identityId);
    const gate = await harness.postHook('/persona/validate', {
      identity_id: identityId,
      persona: stored(harness.kratos, identityId)?.metadata_public?.['persona'],
    });
    expect(gate.body.messages[0].messages[0].id).toBe(4100001);
  });

  it('answers 404 for an unknown identity and 409 for a record it cannot interpret, writing nothing', async () => {
    harness = await startAdminHarness();
    const unknown = await requireOf(harness, '5e1b3c7a-2f4d-4a9e-b8c6-0d7f1e2a9b34');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'unknown_identity']);
    const { id } = harness.kratos.createIdentity({ metadata_admin: { persona: { version: 9 } } });
    const unreadable = await requireOf(harness, id);
    expect([unreadable.status, unreadable.body.error.code]).toEqual([409, 'record_unreadable']);
    expect(harness.kratos.patchesOf(id)).toEqual([]);
  });

  it.each([
    ['no reason', { reason: undefined }, 'reason: '],
    ['an empty reason', { reason: '  ' }, 'reason: must not be empty'],
    ['a reason longer than 200 characters', { reason: 'x'.repeat(201) }, 'reason: must be at most 200 characters'],
    ['a reason of several lines', { reason: 'role change\nsee ticket' }, 'reason: must be one line of text'],
    ['block_login not a boolean', { block_login: 'no' }, 'block_login: '],
    ['an unknown field', { note: 'x' }, 'Unrecognized key: "note"'],
  ])('refuses %s with 400 naming the field', async (_case, body, message) => {
    harness = await startAdminHarness();
    const { id } = harness.kratos.createIdentity();
    const response = await requireOf(harness, id, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain(message);
    expect(harness.kratos.patchesOf(id)).toEqual([]);
  });
});

describe('re-verification end to end: Kratos, the login gate and Persona', () => {
  const kratosOf = (env: SandboxEnvironment) => env.kratos as KratosStandIn;
  const recordOf = (env: SandboxEnvironment, identityId: string) =>
    kratosOf(env).identity(identityId)?.metadata_admin?.['persona'] as Record<string, unknown> & { inquiry_id: string };
  const decide = async (env: SandboxEnvironment, inquiryId: string, actions: SimulateAction[]) => {
    env.persona.simulate(inquiryId, actions);
    await env.persona.settled();
  };
  const login = async (env: SandboxEnvironment, identityId: string) =>
    (await kratosOf(env).login(identityId)).hook.reading;

  it.each(['block-declined', 'require-approved'])(
    'under %s, blocks with 4100003 until an inquiry opened after the requirement is approved',
    async (policy) => {
      sandbox = await startSandbox({
        env: { LOGIN_POLICY: policy, LOGIN_GRACE_PERIOD: '1h', ADMIN_API_TOKEN: ADMIN_TOKEN },
      });
      const env = sandbox;
      const registered = await kratosOf(env).register({ email: 'jane@example.com' });
      await env.persona.settled();
      const first = recordOf(env, registered.identityId).inquiry_id;
      await decide(env, first, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
      expect(await login(env, registered.identityId)).toEqual({ kind: 'continue' });

      const required = await fetch(`${env.serviceUrl}/admin/identities/${registered.identityId}/reverification`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ actor: 'agent-7', reason: 'role_change' }),
      });
      expect(required.status).toBe(200);

      const blocked = await login(env, registered.identityId);
      expect(blocked).toMatchObject({ kind: 'interrupt', id: 4100003 });
      // The inquiry the requirement was made despite, approved again (a redelivery), lifts nothing.
      await decide(env, first, ['approve_inquiry']);
      expect(await login(env, registered.identityId)).toMatchObject({ kind: 'interrupt', id: 4100003 });

      const verifyUrl = (blocked as unknown as { context: { verify_url: string } }).context.verify_url;
      expect((await fetch(verifyUrl, { redirect: 'manual' })).status).toBe(303);
      await env.persona.settled();
      const renewal = recordOf(env, registered.identityId);
      expect(renewal.inquiry_id).not.toBe(first);
      expect(renewal['purpose']).toBe('reverification');
      const opened = env.persona.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/inquiries').at(-1);
      expect(opened?.body).toMatchObject({ data: { attributes: { note: expect.stringContaining('reverification') } } });

      await decide(env, renewal.inquiry_id, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
      expect(recordOf(env, registered.identityId)['reverification']).toBeNull();
      expect(kratosOf(env).identity(registered.identityId)?.metadata_public?.['persona']).toMatchObject({
        reverification_required: false,
      });
      expect(await login(env, registered.identityId)).toEqual({ kind: 'continue' });
      expect(SANDBOX.templateId).toBe(renewal['template_id']);
    },
  );
});

describe('re-verification announced to notification receivers', () => {
  it('sends verification.reverification_required, once, with the inquiry it cannot meet', async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    receiver = await startWebhookReceiver({ secret });
    sandbox = await startSandbox({
      env: { ADMIN_API_TOKEN: ADMIN_TOKEN, NOTIFY_WEBHOOK_URLS: receiver.endpoint, NOTIFY_WEBHOOK_SECRET: secret },
    });
    const kratos = sandbox.kratos as KratosStandIn;
    const { identityId } = await kratos.register({ email: 'jane@example.com' });
    await sandbox.persona.settled();
    const inquiryId = (kratos.identity(identityId)?.metadata_admin?.['persona'] as { inquiry_id: string }).inquiry_id;

    const required = await fetch(`${sandbox.serviceUrl}/admin/identities/${identityId}/reverification`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ actor: 'agent-7', reason: 'role_change' }),
    });
    const { reverification } = (await required.json()) as { reverification: { required_at: string } };
    await sandbox.notifications.relay.runOnce();

    expect(receiver.verified.map((webhook) => webhook.type)).toEqual(['verification.reverification_required']);
    expect(receiver.verified[0]?.body).toMatchObject({
      type: 'verification.reverification_required',
      timestamp: reverification.required_at,
      data: { identity_id: identityId, inquiry_id: inquiryId, purpose: 'reverification' },
    });
  });
});
