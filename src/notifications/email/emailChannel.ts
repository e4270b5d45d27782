import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { NotificationsConfig } from '../../config.js';
import type { StartLinks } from '../../http/startLinks.js';
import type { KratosApi, KratosIdentity } from '../../kratos/kratosClient.js';
import type { MessageCatalogue } from '../../messages/catalogue.js';
import { OutboundError } from '../../outbound/outboundError.js';
import type { LoginPolicy } from '../../policy/loginPolicy.js';
import type { DecisionStatuses } from '../../verification/record.js';
import type { Channel, DeliveryResult } from '../channel.js';
import { ATTEMPT_TIMEOUT_MS } from '../channel.js';
import type { EmailTemplate } from '../notice.js';
import type { OutboxDelivery } from '../outbox.js';
import { renderEmail } from './emailMessage.js';
import { emailStillNeeded } from './emailStillNeeded.js';

/** What an email message in the outbox holds: who and what, never the address. */
export interface EmailBody {
  identity_id: string;
  template: EmailTemplate;
  language: string | null;
  return_to: string | null;
}

export interface EmailChannelDeps {
  kratos: KratosApi;
  messages: MessageCatalogue;
  /** Links valid for at least EMAIL_MIN_INTERVAL, so the last email's link works until the next may be sent. */
  links: StartLinks;
  /** What decides whether the email is still needed when it is sent: the login gate's rules. */
  rules: { policy: LoginPolicy; statuses: DecisionStatuses };
  now: () => number;
  /** Tests give a transport of their own; else SMTP_URL's. */
  transport?: Mail;
}

/** SMTP answers that refuse the recipient for good (RFC 5321, 55x): trying again cannot help. */
const REFUSED_RECIPIENT = new Set([550, 551, 552, 553, 554]);

/** A short reason for a failed send: nodemailer's errors name the recipient, so their text is never used. */
function smtpFailure(error: unknown): DeliveryResult {
  const { responseCode } = (error ?? {}) as { responseCode?: unknown };
  if (typeof responseCode === 'number') {
    return { kind: 'failed', reason: `smtp_${responseCode}`, permanent: REFUSED_RECIPIENT.has(responseCode) };
  }
  return { kind: 'failed', reason: 'smtp_unreachable' };
}

/**
 * Where the email may go. A signed link stands in for a session, so whoever opens it verifies
 * this account: the login gate's emails go only to an address the person proved they own
 * (Kratos's `verified`), never to one anybody could have typed at registration. The
 * registration email's link asks the reader to sign in first (emailLink), so it may go to the
 * address as typed, as Kratos's own verification email does.
 */
function recipientOf(identity: KratosIdentity, template: EmailTemplate): string | undefined {
  const verified = identity.emailAddresses.find((address) => address.verified);
  return (template === 'registration' ? (verified ?? identity.emailAddresses[0]) : verified)?.value;
}

/** Rejects when `signal` fires: nodemailer's sendMail takes no signal, so a trickling server is raced. */
const abortion = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    const fail = () => reject(new DOMException('attempt timed out', 'TimeoutError'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });

/**
 * Email to the person (SMTP_URL, EMAIL_FROM; nodemailer). When the email is sent, the identity
 * is read through the Kratos admin API: an email the person no longer needs is dropped
 * (emailStillNeeded.ts), and the address is taken from its verifiable addresses, used for this
 * one message and dropped, never stored in the outbox and never logged. The login gate's link is
 * signed when the email is sent, so it is fresh whenever the email goes out. An identity without
 * an address it may be sent to, or gone, gets nothing. The whole attempt, Kratos and SMTP, ends
 * when `signal` fires (the attempt timeout, or shutdown).
 */
export function emailChannel(config: NonNullable<NotificationsConfig['email']>, deps: EmailChannelDeps): Channel {
  const transport =
    deps.transport ??
    nodemailer.createTransport({
      url: config.smtpUrl,
      connectionTimeout: ATTEMPT_TIMEOUT_MS,
      greetingTimeout: ATTEMPT_TIMEOUT_MS,
      socketTimeout: ATTEMPT_TIMEOUT_MS,
    });

  /** The registration link needs a session (sign in first); the gate's carries a signed token. */
  const emailLink = (email: EmailBody): string =>
    email.template === 'registration'
      ? deps.links.forSession(email.return_to ?? undefined)
      : (deps.links.signedFor(email.identity_id, deps.now(), email.return_to ?? undefined) as string);

  return {
    kind: 'email',
    async deliver(delivery: OutboxDelivery, signal: AbortSignal): Promise<DeliveryResult> {
      const email = delivery.body as EmailBody;
      let identity: KratosIdentity | null;
      try {
        identity = await deps.kratos.getIdentity(email.identity_id, {
          deadline: { at: Date.now() + ATTEMPT_TIMEOUT_MS, signal },
        });
      } catch (error) {
        return { kind: 'failed', reason: error instanceof OutboundError ? 'kratos_unavailable' : 'internal_error' };
      }
      if (identity === null) return { kind: 'skipped', reason: 'identity_gone' };
      if (!emailStillNeeded(email.template, identity, deps.rules, deps.now()))
        return { kind: 'skipped', reason: 'no_longer_needed' };
      const address = recipientOf(identity, email.template);
      if (address === undefined) return { kind: 'skipped', reason: 'no_email_address' };
      const rendered = renderEmail(
        email.template,
        deps.messages.negotiate(email.language ?? undefined),
        emailLink(email),
      );
      // An object, so a value with a comma is never read as a list of recipients.
      const sending = transport.sendMail({ from: config.from, to: { name: '', address }, ...rendered });
      sending.catch(() => undefined);
      try {
        await Promise.race([sending, abortion(signal)]);
      } catch (error) {
        if ((error as { name?: unknown }).name === 'TimeoutError') return { kind: 'failed', reason: 'timeout' };
        return smtpFailure(error);
      }
      return { kind: 'delivered' };
    },
  };
}
