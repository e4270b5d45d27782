import type { MessageKey, Messages } from '../../messages/catalogue.js';
import type { EmailTemplate } from '../notice.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Each email's texts; `link` says how the link works: signed and short-lived, or after signing in. */
const TEXTS: Record<EmailTemplate, { subject: MessageKey; message: MessageKey; link: MessageKey }> = {
  registration: {
    subject: 'email.registration.subject',
    message: 'email.registration.message',
    link: 'email.sign_in_first',
  },
  verification_required: {
    subject: 'email.verification_required.subject',
    message: 'email.verification_required.message',
    link: 'email.expiry',
  },
  reverification_required: {
    subject: 'email.reverification_required.subject',
    message: 'email.reverification_required.message',
    link: 'email.expiry',
  },
};

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * An email to the person from the message catalogue, in plain text and in simple HTML (one
 * paragraph, the link as a button-like anchor and as text, no images, no tracking): the texts are
 * the catalogue's, the link the only value in it.
 */
export function renderEmail(template: EmailTemplate, messages: Messages, link: string): RenderedEmail {
  const { subject, message, link: linkNote } = TEXTS[template];
  const paragraphs = [messages.text(message), messages.text(linkNote), messages.text('email.not_you')];
  const action = messages.text('email.action');
  const text = [paragraphs[0], `${action}: ${link}`, ...paragraphs.slice(1)].join('\n\n');
  const href = escapeHtml(link);
  const html = [
    '<!doctype html>',
    `<html lang="${escapeHtml(messages.language)}"><head><meta charset="utf-8"><title>${escapeHtml(messages.text(subject))}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.5; max-width: 36em">',
    `<p>${escapeHtml(paragraphs[0] as string)}</p>`,
    `<p><a href="${href}" style="display: inline-block; padding: 0.6em 1.2em; background: #1f4fd1; color: #fff; text-decoration: none; border-radius: 4px">${escapeHtml(action)}</a></p>`,
    `<p style="font-size: 0.9em; word-break: break-all"><a href="${href}">${href}</a></p>`,
    ...paragraphs
      .slice(1)
      .map((paragraph) => `<p style="font-size: 0.9em; color: #555">${escapeHtml(paragraph as string)}</p>`),
    '</body></html>',
  ].join('\n');
  return { subject: messages.text(subject), text, html };
}
