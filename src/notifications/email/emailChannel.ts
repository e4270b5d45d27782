import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { NotificationsConfig } from '../../config.js';
import type { StartLinks } from '../../http/startLinks.js';
import type { KratosApi } from '../../kratos/kratosClient.js';
import type { MessageCatalogue } from '../../messages/catalogue.js';
import { OutboundError } from '../../outbound/outboundError.js';
import { deadlineIn } from '../../outbound/retry.js';
import type { Channel, DeliveryResult } from '../channel.js';
import { ATTEMPT_TIMEOUT_MS } from '../channel.js';
import type { EmailTemplate } from '../notice.js';
import type { OutboxDelivery } from '../outbox.js';
import { renderEmail } from './emailMessage.js';

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
 * Email to the person (SMTP_URL, EMAIL_FROM; nodemailer): the address is read from the identity's
 * verifiable addresses through the Kratos admin API when the email is sent, used for this one
 * message and dropped, never stored in the outbox and never logged. The link is signed when the
 * email is sent, so it is fresh whenever the email goes out. An identity without an email
 * address, or gone, gets nothing.
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

  return {
    kind: 'email',
    async deliver(delivery: OutboxDelivery): Promise<DeliveryResult> {
      const email = delivery.body as EmailBody;
      let address: string | null;
      try {
        address = await deps.kratos.emailAddressOf(email.identity_id, { deadline: deadlineIn(ATTEMPT_TIMEOUT_MS) });
      } catch (error) {
        return { kind: 'failed', reason: error instanceof OutboundError ? 'kratos_unavailable' : 'internal_error' };
      }
      if (address === null) return { kind: 'skipped', reason: 'no_email_address' };
      const link = deps.links.signedFor(email.identity_id, deps.now(), email.return_to ?? undefined) as string;
      const rendered = renderEmail(email.template, deps.messages.negotiate(email.language ?? undefined), link);
      try {
        await transport.sendMail({ from: config.from, to: address, ...rendered });
      } catch (error) {
        return smtpFailure(error);
      }
      return { kind: 'delivered' };
    },
  };
}
