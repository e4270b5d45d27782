import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startSandbox, type SandboxEnvironment } from '../../sandbox/environment.js';
import type { KratosStandIn } from '../../sandbox/kratosStandIn.js';
import { startSmtpStandIn, type ReceivedEmail, type SmtpStandIn } from '../../sandbox/smtpStandIn.js';

/**
 * Email to the person, end to end: the Kratos stand-in runs registrations and logins through the
 * real Jsonnet bodies, the service emails through an SMTP stand-in (the `smtp-server` package),
 * and each link is followed as the person would follow it.
 */

let sandbox: SandboxEnvironment;
let smtp: SmtpStandIn;
let logs: string[];
afterEach(async () => {
  await sandbox?.close();
  await smtp?.close();
});

async function start(env: Record<string, string> = {}, scheduleMs?: number[]) {
  smtp = await startSmtpStandIn();
  logs = [];
  sandbox = await startSandbox({
    env: { SMTP_URL: smtp.url, EMAIL_FROM: 'Identity <idv@example.com>', ...env },
    logger: createLogger({ level: 'debug' }, { write: (line: string) => void logs.push(line) }),
    ...(scheduleMs !== undefined && { notificationScheduleMs: scheduleMs }),
  });
}

const kratosOf = () => sandbox.kratos as KratosStandIn;

/** Lets the emails asked for reach the SMTP stand-in. */
async function sent(): Promise<ReceivedEmail[]> {
  await sandbox.persona.settled();
  await sandbox.notifications.emailsQueued();
  await sandbox.notifications.relay.runOnce();
  return smtp.received;
}

/** The link the email carries, in its text and in its HTML alike. */
function linkOf(email: ReceivedEmail | undefined): string {
  const inText = /(http:\/\/\S+\/persona\/start\S*)/.exec(email?.text ?? '')?.[1];
  expect(inText).toBeDefined();
  expect(email?.html).toContain(`href="${(inText as string).replace(/&/g, '&amp;')}"`);
  return inText as string;
}

/** A person who already has an account (no registration email), and has verified their address with Kratos. */
function existingPerson(email: string, traits: Record<string, unknown> = { email }) {
  const { id } = kratosOf().createIdentity({ traits, created_at: '2020-01-01T00:00:00Z' });
  kratosOf().verifyEmail(id);
  return id;
}

const login = async (identityId: string, headers?: Record<string, string[]>) =>
  (await kratosOf().login(identityId, undefined, headers)).hook.reading as {
    kind: string;
    id?: number;
    text?: string;
    context?: Record<string, unknown>;
  };

describe('email to the person', () => {
  it('at registration: the link to start verifying, which asks whoever opens it to sign in first', async () => {
    await start();
    const { identityId } = await kratosOf().register({ email: 'ada@example.com' });
    const [email, ...more] = await sent();
    expect(more).toEqual([]);
    // The address was typed at registration and is not verified: the link carries no token, so
    // the owner of that mailbox cannot verify somebody else's account with it.
    expect(kratosOf().identity(identityId)?.verifiable_addresses).toEqual([
      expect.objectContaining({ verified: false }),
    ]);
    expect(email).toMatchObject({ from: 'idv@example.com', to: ['ada@example.com'], subject: 'Verify your identity' });
    expect(email?.text).toContain('The link asks you to sign in first');
    const link = linkOf(email);
    expect(new URL(link).searchParams.has('token')).toBe(false);

    const withoutSession = await fetch(link, { redirect: 'manual', headers: { Accept: 'text/html' } });
    expect(withoutSession.status).toBe(401);
    expect(await withoutSession.text()).toContain('Sign in');

    const signedIn = kratosOf().createSession(identityId);
    const opened = await fetch(link, { redirect: 'manual', headers: { Cookie: signedIn.cookie } });
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toContain(sandbox.persona.hostedFlowUrl);
  });

  it('not at registration when the identity has a decision by the time it is sent', async () => {
    await start({}, [50]);
    smtp.refuseNext(451, 1);
    const { identityId } = await kratosOf().register({ email: 'quick@example.com' });
    expect(await sent()).toEqual([]);
    const inquiryId = (kratosOf().identity(identityId)?.metadata_admin?.['persona'] as { inquiry_id: string })
      .inquiry_id;
    sandbox.persona.simulate(inquiryId, ['start_inquiry', 'complete_inquiry', 'approve_inquiry']);
    await sandbox.persona.settled();
    expect(kratosOf().identity(identityId)?.metadata_public?.['persona']).toMatchObject({ status: 'approved' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await sent()).toEqual([]);
    const skipped = logs
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'notification had nothing to send');
    expect(skipped).toEqual([expect.objectContaining({ channel: 'email', reason: 'no_longer_needed' })]);
  });

  it('never sends the login gate’s signed link to an address the account has not proved it owns', async () => {
    // Anyone can register an account with somebody else's address and log in to it: a signed link
    // sent there would let the mailbox's owner verify the attacker's account with their own documents.
    await start({ LOGIN_POLICY: 'require-approved' });
    const { id } = kratosOf().createIdentity({
      traits: { email: 'victim@example.org' },
      created_at: '2020-01-01T00:00:00Z',
    });
    expect(kratosOf().identity(id)?.verifiable_addresses).toEqual([expect.objectContaining({ verified: false })]);
    const blocked = await login(id);
    expect(blocked).toMatchObject({ kind: 'interrupt', id: 4100002, text: 'Please verify your identity to continue.' });
    expect(blocked.context).not.toHaveProperty('email_sent');
    expect(await sent()).toEqual([]);

    // Once the address is verified through Kratos, the next blocked login emails it.
    kratosOf().verifyEmail(id);
    expect((await login(id)).context).toMatchObject({ email_sent: true });
    expect((await sent()).map((email) => email.to)).toEqual([['victim@example.org']]);
  });

  it('when the gate blocks for want of a verification: a fresh link, and the message says it was sent', async () => {
    await start({ LOGIN_POLICY: 'require-approved' });
    const identityId = existingPerson('grace@example.com');
    const blocked = await login(identityId);
    expect(blocked).toMatchObject({ kind: 'interrupt', id: 4100002 });
    expect(blocked.text).toBe(
      'Please verify your identity to continue. We have sent you an email with a link to do so.',
    );
    expect(blocked.context).toMatchObject({ reason: 'verification_required', email_sent: true });

    const [email] = await sent();
    expect(email).toMatchObject({ to: ['grace@example.com'], subject: 'Verify your identity to sign in' });
    const opened = await fetch(linkOf(email), { redirect: 'manual' });
    expect(opened.status).toBe(303);
  });

  it('at most one per identity per EMAIL_MIN_INTERVAL, each identity its own', async () => {
    await start({ LOGIN_POLICY: 'require-approved', EMAIL_MIN_INTERVAL: '2s' });
    const first = existingPerson('first@example.com');
    const second = existingPerson('second@example.com');
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await login(first)).context).toMatchObject({ email_sent: true });
    }
    await login(second);
    expect((await sent()).flatMap((email) => email.to).sort()).toEqual(['first@example.com', 'second@example.com']);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await login(first);
    expect((await sent()).flatMap((email) => email.to).sort()).toEqual([
      'first@example.com',
      'first@example.com',
      'second@example.com',
    ]);
  });

  it('in the language of the browser that logged in', async () => {
    await start({ LOGIN_POLICY: 'require-approved' });
    const identityId = existingPerson('hans@example.com');
    const blocked = await login(identityId, { 'Accept-Language': ['de-CH,de;q=0.9'] });
    expect(blocked.text).toBe(
      'Bitte bestätigen Sie Ihre Identität, um fortzufahren. Wir haben Ihnen dazu eine E-Mail mit einem Link gesendet.',
    );
    const [email] = await sent();
    expect(email).toMatchObject({ subject: 'Bestätigen Sie Ihre Identität, um sich anzumelden', language: 'de' });
  });

  it('never for an identity without an email address, and the message then claims none', async () => {
    await start({ LOGIN_POLICY: 'require-approved' });
    const identityId = existingPerson('', { username: 'no-email-here' });
    const blocked = await login(identityId);
    expect(blocked).toMatchObject({ kind: 'interrupt', id: 4100002, text: 'Please verify your identity to continue.' });
    expect(blocked.context).not.toHaveProperty('email_sent');
    expect(await sent()).toEqual([]);
  });

  it('tries again when the mail server defers, and gives up on a refused address', async () => {
    await start({ LOGIN_POLICY: 'require-approved' }, [50]);
    smtp.refuseNext(451, 1);
    await login(existingPerson('deferred@example.com'));
    expect(await sent()).toEqual([]);
    for (let round = 0; round < 40 && smtp.received.length === 0; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await sandbox.notifications.relay.runOnce();
    }
    expect(smtp.received.map((email) => email.to)).toEqual([['deferred@example.com']]);

    smtp.refuseNext(550, 1);
    await login(existingPerson('refused@example.com'));
    await sent();
    const givenUp = logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'notification given up');
    expect(givenUp).toEqual([expect.objectContaining({ channel: 'email', reason: 'smtp_550' })]);
  });

  it('keeps every address out of the logs', async () => {
    await start({ LOGIN_POLICY: 'require-approved' }, [50]);
    await kratosOf().register({ email: 'secret.person@example.com' });
    smtp.refuseNext(550, 1);
    await login(existingPerson('hidden.person@example.com'));
    await sent();
    expect(smtp.received).toHaveLength(1);
    expect(logs.length).toBeGreaterThan(5);
    const text = logs.join('\n');
    expect(text).not.toContain('secret.person');
    expect(text).not.toContain('hidden.person');
    expect(text).not.toContain('example.com');
  });
});
