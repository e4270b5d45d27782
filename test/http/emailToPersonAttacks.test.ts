import { afterEach, describe, expect, it } from 'vitest';
import { startSmtpStandIn, type SmtpStandIn } from '../../sandbox/smtpStandIn.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Email to the person, as an attacker and an operator would try it (review of issue 18): the
 * login gate's email through `POST /persona/validate` (as Kratos calls it), the relay run by the
 * test on the harness's clock, an SMTP stand-in recording what it accepted.
 */

let harness: Harness | undefined;
let smtp: SmtpStandIn | undefined;
afterEach(async () => {
  await harness?.close();
  await smtp?.close();
});

async function start(env: Record<string, string> = {}) {
  smtp = await startSmtpStandIn();
  harness = await startHarness({
    LOGIN_POLICY: 'require-approved',
    SMTP_URL: smtp.url,
    EMAIL_FROM: 'Identity <idv@example.com>',
    PUBLIC_BASE_URL: 'http://127.0.0.1:9',
    ...env,
  });
  return { harness, smtp };
}

/**
 * A login Kratos sends to the gate for an account whose email address the hook body says is
 * verified: the email channel checks again with Kratos when it sends.
 */
async function blockedLogin(h: Harness, identityId: string) {
  const response = await h.postHook('/persona/validate', {
    identity_id: identityId,
    identity_created_at: '2020-01-01T00:00:00Z',
    has_verified_email_address: true,
  });
  expect(response.status).toBe(403);
  return response.body as { messages: { messages: { context?: Record<string, unknown> }[] }[] };
}

const emailSent = (body: Awaited<ReturnType<typeof blockedLogin>>) =>
  body.messages?.[0]?.messages?.[0]?.context?.['email_sent'] === true;

/** Lets what the gate asked for reach the outbox, then runs the relay once. */
async function relay(h: Harness) {
  await h.notifications.emailsQueued();
  await h.notifications.relay.runOnce();
}

describe('email to the person, attacked', () => {
  it('sends the login gate’s signed link only to an address the account proved it owns', async () => {
    // Anyone can register an account with somebody else's address (Kratos leaves it unverified)
    // and then log in to it as often as they like: each blocked login mails a session-less link
    // to the victim's inbox, once an hour for as long as they keep trying, and whoever opens it
    // verifies *the attacker's* account with their own documents. Even when the hook body says
    // otherwise (an address changed since), Kratos's answer at send time decides.
    const { harness: h, smtp: mail } = await start();
    const account = h.kratos.createIdentity({
      traits: { email: 'victim@example.org' },
      created_at: '2020-01-01T00:00:00Z',
    });
    expect(account.verifiable_addresses).toEqual([expect.objectContaining({ verified: false })]);

    await blockedLogin(h, account.id);
    await relay(h);

    expect(mail.received.flatMap((email) => email.to)).not.toContain('victim@example.org');
  });

  it('keeps one email per identity per EMAIL_MIN_INTERVAL when they are sent, not only when they are queued', async () => {
    // The mail relay is down for a few hours while a blocked person keeps trying to log in: one
    // request is queued each interval, and all of them go out together when the relay is back.
    const { harness: h, smtp: mail } = await start({ EMAIL_MIN_INTERVAL: '1h' });
    const person = h.kratos.createIdentity({
      traits: { email: 'blocked@example.com' },
      created_at: '2020-01-01T00:00:00Z',
    });
    h.kratos.verifyEmail(person.id);
    mail.refuseNext(451, 1_000);
    for (let hour = 0; hour < 3; hour += 1) {
      expect(emailSent(await blockedLogin(h, person.id))).toBe(true);
      await relay(h);
      h.clock.now += 61 * 60_000;
    }
    expect(mail.received).toEqual([]);

    mail.refuseNext(451, 0);
    h.clock.now += 86_400_000;
    await h.notifications.relay.runOnce();

    // Everything above happened at one instant of the service's clock.
    expect(mail.received.filter((email) => email.to.includes('blocked@example.com'))).toHaveLength(1);
  });

  it('does not send a "verify to sign in" email to a person who has verified meanwhile', async () => {
    // The same outage: the email waits in the outbox for days while the person verifies through
    // the link shown on the login page. When the relay is back, they are told to verify again.
    const { harness: h, smtp: mail } = await start();
    const person = h.kratos.createIdentity({
      traits: { email: 'later@example.com' },
      created_at: '2020-01-01T00:00:00Z',
    });
    h.kratos.verifyEmail(person.id);
    mail.refuseNext(451, 1_000);
    expect(emailSent(await blockedLogin(h, person.id))).toBe(true);
    await relay(h);
    // The person verifies: their record as the callback leaves it after an approval.
    const approved = h.kratos.identity(h.identityInState('approved').identityId);
    h.kratos.createIdentity({
      id: person.id,
      traits: person.traits,
      created_at: '2020-01-01T00:00:00Z',
      metadata_admin: approved?.metadata_admin ?? null,
      metadata_public: approved?.metadata_public ?? null,
    });
    h.kratos.verifyEmail(person.id);
    const login = await h.postHook('/persona/validate', { identity_id: person.id, has_verified_email_address: true });
    expect(login.status).toBe(204);

    mail.refuseNext(451, 0);
    h.clock.now += 86_400_000;
    await h.notifications.relay.runOnce();
    expect(mail.received.map((email) => email.subject)).not.toContain('Verify your identity to sign in');
  });
});
