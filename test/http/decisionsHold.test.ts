import { serviceNote } from '../../src/persona/inquiry.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX, startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import type { KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { signPersonaWebhook } from '../../sandbox/personaWebhooks.js';
import type { SimulateAction } from '../../sandbox/personaSimulation.js';

/**
 * "Decisions that hold": each way a declined (or, under require-approved, unverified) person got
 * in on version 0.1.0, replayed end to end against the stand-ins, through HTTP only.
 */

let sandbox: SandboxEnvironment;
afterEach(() => sandbox.close());

const kratosOf = (env: SandboxEnvironment) => env.kratos as KratosStandIn;
const recordOf = (env: SandboxEnvironment, identityId: string) =>
  kratosOf(env).identity(identityId)?.metadata_admin?.['persona'] as Record<string, unknown> & {
    inquiry_id: string;
  };

async function decide(env: SandboxEnvironment, inquiryId: string, actions: SimulateAction[]) {
  env.persona.simulate(inquiryId, actions);
  await env.persona.settled();
}

async function registered(env: SandboxEnvironment) {
  const result = await kratosOf(env).register({ email: `user-${Math.random()}@example.com` });
  await env.persona.settled();
  return {
    identityId: result.identityId,
    session: result.session,
    inquiryId: recordOf(env, result.identityId).inquiry_id,
  };
}

async function login(env: SandboxEnvironment, identityId: string) {
  return (await kratosOf(env).login(identityId)).hook.reading;
}

/** The signed link a block message carries for the user to verify. */
const verifyUrlOf = (reading: unknown) => (reading as { context: { verify_url: string } }).context.verify_url;

const whoami = async (env: SandboxEnvironment, token: string) =>
  (await fetch(`${kratosOf(env).public.url}/sessions/whoami`, { headers: { 'X-Session-Token': token } })).status;

describe('a declined person stays out', () => {
  it('when retries are allowed: opening a new inquiry from the block message is not an approval', async () => {
    sandbox = await startSandbox({ env: { ALLOW_RETRIES: 'true' } });
    const jane = await registered(sandbox);
    await decide(sandbox, jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);

    const blocked = await login(sandbox, jane.identityId);
    expect(blocked).toMatchObject({ kind: 'interrupt', id: 4100001 });
    const verifyUrl = verifyUrlOf(blocked);
    const retry = await fetch(verifyUrl, { redirect: 'manual' });
    expect(retry.status).toBe(303);
    await sandbox.persona.settled();
    const retryInquiry = recordOf(sandbox, jane.identityId).inquiry_id;
    expect(retryInquiry).not.toBe(jane.inquiryId);

    expect(await login(sandbox, jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    await decide(sandbox, retryInquiry, ['start_inquiry', 'complete_inquiry']);
    expect(await login(sandbox, jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    await decide(sandbox, retryInquiry, ['approve_inquiry']);
    expect(await login(sandbox, jane.identityId)).toEqual({ kind: 'continue' });
  });

  it('when anyone opens a new inquiry of our template with their reference id', async () => {
    sandbox = await startSandbox();
    const john = await registered(sandbox);
    await decide(sandbox, john.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    const recordBefore = recordOf(sandbox, john.identityId);

    // A template link with John's id as reference-id: Persona opens it, with no note of ours.
    const opened = sandbox.persona.addInquiry({ referenceId: john.identityId });
    const post = (name: string) => {
      const rawBody = JSON.stringify(sandbox.persona.eventFor(opened.id, name));
      return fetch(`${sandbox.serviceUrl}/persona/callback`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Persona-Signature': signPersonaWebhook(
            rawBody,
            [SANDBOX.personaWebhookSecret],
            Math.floor(Date.now() / 1000),
          ),
        },
        body: rawBody,
      });
    };
    const created = await post('inquiry.created');
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ outcome: 'ignored', reason: 'not_opened_by_service' });
    expect(await login(sandbox, john.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });

    // Nor can such an inquiry lift the decline, or decline anybody.
    sandbox.persona.setStatus(opened.id, 'approved');
    expect(await (await post('inquiry.approved')).json()).toEqual({
      outcome: 'ignored',
      reason: 'not_opened_by_service',
    });
    expect(await login(sandbox, john.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(recordOf(sandbox, john.identityId)).toEqual(recordBefore);
  });

  it('and nobody is declined by an inquiry a stranger opened with their reference id', async () => {
    sandbox = await startSandbox({ env: { ON_DECLINE: 'revoke_sessions,deactivate' } });
    const jane = await registered(sandbox);
    await decide(sandbox, jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    const stranger = sandbox.persona.addInquiry({ referenceId: jane.identityId });
    await decide(sandbox, stranger.id, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    expect(kratosOf(sandbox).identity(jane.identityId)?.state).toBe('active');
    expect(await whoami(sandbox, jane.session?.token as string)).toBe(200);
    expect(await login(sandbox, jane.identityId)).toEqual({ kind: 'continue' });
  });

  it.each([
    ['a hand-written decline', { inquiry_id: 'inq_HandWritten1', status: 'declined' }],
    [
      'a record with 60 history entries',
      {
        inquiry_id: 'inq_Current1',
        status: 'declined',
        template_id: 'itmpl_SandboxTemplate0001',
        created_at: '2026-01-01T00:00:00.000Z',
        updated_at: '2026-01-02T00:00:00.000Z',
        decided_at: '2026-01-02T00:00:00.000Z',
        last_event_id: null,
        history: Array.from({ length: 60 }, (_, n) => ({
          inquiry_id: `inq_Old${n}`,
          status: 'expired',
          decided_at: null,
        })),
      },
    ],
    [
      'a record of the previous version whose decline went into history',
      {
        inquiry_id: 'inq_Newer1',
        status: 'created',
        template_id: 'itmpl_SandboxTemplate0001',
        created_at: '2026-01-03T00:00:00.000Z',
        updated_at: '2026-01-03T00:00:00.000Z',
        decided_at: null,
        last_event_id: null,
        history: [{ inquiry_id: 'inq_Older1', status: 'declined', decided_at: '2026-01-02T00:00:00.000Z' }],
      },
    ],
  ])('when %s is in metadata_admin and the mirror is absent or off', async (_name, persona) => {
    for (const mirror of ['true', 'false']) {
      sandbox = await startSandbox({ env: { METADATA_PUBLIC_MIRROR: mirror } });
      const identity = kratosOf(sandbox).createIdentity({ metadata_admin: { persona } });
      expect(await login(sandbox, identity.id)).toMatchObject({ kind: 'interrupt', id: 4100001 });
      await sandbox.close();
    }
    sandbox = await startSandbox();
  });

  it('when the community integration left its keys in metadata_admin', async () => {
    sandbox = await startSandbox();
    const identity = kratosOf(sandbox).createIdentity({ metadata_admin: { persona_verification_status: 'declined' } });
    expect(await login(sandbox, identity.id)).toMatchObject({ kind: 'interrupt', id: 4100001 });
  });
});

describe('a record that cannot be interpreted is never "no record"', () => {
  it.each([
    ['block-declined', { kind: 'continue' }],
    ['require-approved', { kind: 'interrupt', id: 4100004 }],
  ])('under %s', async (policy, expected) => {
    const lines: string[] = [];
    const { createLogger } = await import('../../src/logger.js');
    sandbox = await startSandbox({
      env: { LOGIN_POLICY: policy, LOGIN_GRACE_PERIOD: '24h' },
      logger: createLogger({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
    });
    const identity = kratosOf(sandbox).createIdentity({
      metadata_admin: { persona: { state: 'rejected-by-hand', note: 'Jane Doe, born 1990' } },
    });
    expect(await login(sandbox, identity.id)).toMatchObject(expected);
    const logged = lines.join('');
    expect(logged).toContain('verification record cannot be interpreted');
    expect(logged).toContain('"reason":"no_status"');
    expect(logged).not.toContain('Jane Doe');
    expect(logged).toContain(
      `"decision":"${policy === 'block-declined' ? 'record_unreadable' : 'verification_unavailable'}"`,
    );
  });
});

describe('signed links', () => {
  it('refuse a browser signed in as another account, and change nothing', async () => {
    sandbox = await startSandbox({ env: { LOGIN_POLICY: 'require-approved' } });
    const alice = await registered(sandbox);
    const bob = await registered(sandbox);
    const blocked = await login(sandbox, alice.identityId);
    const verifyUrl = verifyUrlOf(blocked);
    const bobSession = kratosOf(sandbox).createSession(bob.identityId);
    const personaCalls = sandbox.persona.requests.length;
    const aliceRecord = recordOf(sandbox, alice.identityId);

    const refused = await fetch(verifyUrl, {
      redirect: 'manual',
      headers: { Cookie: bobSession.cookie, Accept: 'text/html' },
    });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('This link belongs to another account');
    const status = await fetch(verifyUrl.replace('/persona/start', '/persona/status'), {
      headers: { 'X-Session-Token': bobSession.token },
    });
    expect(status.status).toBe(409);
    expect(sandbox.persona.requests.length).toBe(personaCalls);
    expect(recordOf(sandbox, alice.identityId)).toEqual(aliceRecord);

    // Somebody half signed in (a second factor owed) may be anyone: refused too.
    const halfSignedIn = kratosOf(sandbox).createSession(bob.identityId, { aal2Required: true });
    const owing = await fetch(verifyUrl, { redirect: 'manual', headers: { Cookie: halfSignedIn.cookie } });
    expect(owing.status).toBe(409);

    // Alice herself, signed in or not, goes on.
    const aliceSession = kratosOf(sandbox).createSession(alice.identityId);
    expect((await fetch(verifyUrl, { redirect: 'manual', headers: { Cookie: aliceSession.cookie } })).status).toBe(303);
    expect((await fetch(verifyUrl, { redirect: 'manual' })).status).toBe(303);
  });
});

describe('require-approved without a grace period', () => {
  it('leaves nobody with a session before approval, and ends the sessions of a person declined later', async () => {
    sandbox = await startSandbox({ env: { LOGIN_POLICY: 'require-approved' } });
    expect(sandbox.snippet).toBe('ory-actions.require-approved.yaml');
    const jane = await registered(sandbox);
    expect(jane.session).toBeNull();

    const blocked = await login(sandbox, jane.identityId);
    expect(blocked).toMatchObject({ kind: 'interrupt', id: 4100002 });
    const verifyUrl = verifyUrlOf(blocked);
    expect((await fetch(verifyUrl, { redirect: 'manual' })).status).toBe(303);
    await decide(sandbox, jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);

    const approvedLogin = await kratosOf(sandbox).login(jane.identityId);
    expect(approvedLogin.hook.reading).toEqual({ kind: 'continue' });
    const token = approvedLogin.session?.token as string;
    expect(await whoami(sandbox, token)).toBe(200);

    await decide(sandbox, jane.inquiryId, ['decline_inquiry']);
    expect(await whoami(sandbox, token)).toBe(401);
    expect(await login(sandbox, jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
  });

  it('keeps the session hook where a grace period lets new users in', async () => {
    sandbox = await startSandbox({ env: { LOGIN_POLICY: 'require-approved', LOGIN_GRACE_PERIOD: '1h' } });
    expect(sandbox.snippet).toBe('ory-actions.yaml');
    expect((await registered(sandbox)).session).not.toBeNull();
  });
});

describe('ON_DECLINE', () => {
  it('deactivates the identity, and reactivates it on a later approval it did not get by itself', async () => {
    sandbox = await startSandbox({ env: { ON_DECLINE: 'revoke_sessions,deactivate' } });
    const jane = await registered(sandbox);
    await decide(sandbox, jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    expect(kratosOf(sandbox).identity(jane.identityId)?.state).toBe('inactive');
    expect(await whoami(sandbox, jane.session?.token as string)).toBe(401);
    expect(await login(sandbox, jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4010011 });

    const second = sandbox.persona.addInquiry({ referenceId: jane.identityId, note: serviceNote('reverification') });
    await decide(sandbox, second.id, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(kratosOf(sandbox).identity(jane.identityId)?.state).toBe('active');
    expect(await login(sandbox, jane.identityId)).toEqual({ kind: 'continue' });
  });

  it('leaves alone an identity someone else deactivated', async () => {
    sandbox = await startSandbox({ env: { ON_DECLINE: 'deactivate' } });
    const jane = await registered(sandbox);
    await decide(sandbox, jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    const patched = await fetch(`${kratosOf(sandbox).url}/admin/identities/${jane.identityId}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ op: 'replace', path: '/state', value: 'inactive' }]),
    });
    expect(patched.status).toBe(200);
    const second = sandbox.persona.addInquiry({ referenceId: jane.identityId, note: serviceNote('reverification') });
    await decide(sandbox, second.id, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(kratosOf(sandbox).identity(jane.identityId)?.state).toBe('inactive');
  });

  it('never claims, so never reactivates, an identity someone deactivated before the decline', async () => {
    sandbox = await startSandbox({ env: { ON_DECLINE: 'deactivate' } });
    const jane = await registered(sandbox);
    await fetch(`${kratosOf(sandbox).url}/admin/identities/${jane.identityId}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ op: 'replace', path: '/state', value: 'inactive' }]),
    });
    await decide(sandbox, jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    expect(recordOf(sandbox, jane.identityId)).toMatchObject({ actions: { deactivated_at: null } });
    const second = sandbox.persona.addInquiry({ referenceId: jane.identityId, note: serviceNote('reverification') });
    await decide(sandbox, second.id, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    expect(kratosOf(sandbox).identity(jane.identityId)?.state).toBe('inactive');
  });

  it('acts on a decline found when a record of the previous version is upgraded', async () => {
    sandbox = await startSandbox();
    const jane = await registered(sandbox);
    const retry = sandbox.persona.addInquiry({ referenceId: jane.identityId, note: serviceNote('reverification') });
    // What 0.1.0 wrote after a retry: the decline moved into history, the retry in progress.
    const identity = kratosOf(sandbox).identity(jane.identityId);
    kratosOf(sandbox).createIdentity({
      id: jane.identityId,
      traits: identity?.traits,
      metadata_admin: {
        persona: {
          inquiry_id: retry.id,
          status: 'created',
          template_id: retry.templateId,
          created_at: retry.createdAt,
          updated_at: retry.createdAt,
          decided_at: null,
          last_event_id: null,
          history: [{ inquiry_id: jane.inquiryId, status: 'declined', decided_at: '2026-01-01T00:00:00.000Z' }],
        },
      },
      metadata_public: { persona: { status: 'created', verified_at: null } },
    });
    const session = kratosOf(sandbox).createSession(jane.identityId);
    expect(await login(sandbox, jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    await decide(sandbox, retry.id, ['start_inquiry']);
    expect(recordOf(sandbox, jane.identityId)).toMatchObject({ version: 2, decision: { outcome: 'declined' } });
    expect(await whoami(sandbox, session.token)).toBe(401);
  });

  it('blocks a decline that comes for a record nobody can interpret, while the record waits to be fixed', async () => {
    sandbox = await startSandbox();
    const jane = await registered(sandbox);
    const identity = kratosOf(sandbox).identity(jane.identityId);
    kratosOf(sandbox).createIdentity({
      id: jane.identityId,
      traits: identity?.traits,
      metadata_admin: { persona: { broken: true } },
      metadata_public: null,
    });
    expect(await login(sandbox, jane.identityId)).toEqual({ kind: 'continue' });
    await decide(sandbox, jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    const declined = sandbox.persona.deliveries.find((delivery) => delivery.name === 'inquiry.declined');
    expect(declined?.lastStatus).toBe(503);
    expect(await login(sandbox, jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(kratosOf(sandbox).identity(jane.identityId)?.metadata_admin).toEqual({ persona: { broken: true } });
  });

  it('answers 503 while the sessions cannot be revoked, and finishes on redelivery', async () => {
    // Persona's schedule thirty times faster: redeliveries after 0.1 s, 2.1 s, 24 s and so on.
    sandbox = await startSandbox({ redelivery: { scale: 1 / 30 } });
    const jane = await registered(sandbox);
    kratosOf(sandbox).inject({
      method: 'DELETE',
      path: `/admin/identities/${jane.identityId}/sessions`,
      status: 500,
      times: 1_000,
    });
    await decide(sandbox, jane.inquiryId, ['start_inquiry', 'complete_inquiry', 'decline_inquiry']);
    const declined = sandbox.persona.deliveries.find((delivery) => delivery.name === 'inquiry.declined');
    expect(declined).toMatchObject({ lastStatus: 503, state: 'retrying' });
    // The decision itself is written first, so the gate blocks while the revocation is retried.
    expect(await login(sandbox, jane.identityId)).toMatchObject({ kind: 'interrupt', id: 4100001 });
    expect(recordOf(sandbox, jane.identityId)).toMatchObject({ actions: { pending: ['revoke_sessions'] } });

    kratosOf(sandbox).clearFaults();
    for (let waited = 0; declined?.state !== 'delivered' && waited < 5_000; waited += 25) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      await sandbox.persona.settled();
    }
    expect(declined).toMatchObject({ lastStatus: 200, state: 'delivered' });
    expect(recordOf(sandbox, jane.identityId)).toMatchObject({
      actions: { pending: [], sessions_revoked_at: expect.any(String) },
    });
    expect(await whoami(sandbox, jane.session?.token as string)).toBe(401);
  });
});
