import type { Request, RequestHandler, Response } from 'express';
import type { MessageKey, Messages } from '../messages/catalogue.js';

export interface PageLink {
  href: string;
  label: MessageKey;
}

/** A page users see, by the keys of its texts in the message catalogue. */
export interface Page {
  title: MessageKey;
  message: MessageKey;
  /** The ways on from here, most useful first. */
  links?: readonly PageLink[];
  /** A value to show as it is, in no language (a recovery code). */
  detail?: string;
  /** A one-field form posting to this service (the page then needs `formPageHeaders`). */
  form?: { action: string; label: MessageKey; name: string; autocomplete: string; submit: MessageKey };
}

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** A minimal, accessible page: no scripts, no external assets. */
function renderPage(messages: Messages, page: Page): string {
  const links = (page.links ?? [])
    .map((link) => `<p><a href="${escapeHtml(link.href)}">${escapeHtml(messages.text(link.label))}</a></p>\n`)
    .join('');
  const detail = page.detail === undefined ? '' : `<p><strong>${escapeHtml(page.detail)}</strong></p>\n`;
  const form =
    page.form === undefined
      ? ''
      : `<form method="post" action="${escapeHtml(page.form.action)}">
<p><label for="${escapeHtml(page.form.name)}">${escapeHtml(messages.text(page.form.label))}</label><br>
<input id="${escapeHtml(page.form.name)}" name="${escapeHtml(page.form.name)}" type="text" required maxlength="320" autocomplete="${escapeHtml(page.form.autocomplete)}"></p>
<p><button type="submit">${escapeHtml(messages.text(page.form.submit))}</button></p>
</form>
`;
  return `<!doctype html>
<html lang="${escapeHtml(messages.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(messages.text(page.title))}</title>
<style>body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;padding:2rem 1rem;color:#1b1b1b;background:#fff}main{max-width:34rem;margin:0 auto}a{color:#0645ad}</style>
</head>
<body>
<main>
<h1>${escapeHtml(messages.text(page.title))}</h1>
<p>${escapeHtml(messages.text(page.message))}</p>
${detail}${form}${links}</main>
</body>
</html>
`;
}

/** Browsers navigating here get a page; everything else (fetch, curl, apps) gets JSON. */
const wantsHtml = (req: Request) => req.accepts(['json', 'html']) === 'html';

/**
 * The one way the user routes answer: `page` in the language of `messages` for browsers, `json`
 * for everything else.
 */
export function respondWith(
  req: Request,
  res: Response,
  status: number,
  messages: Messages,
  page: Page,
  json: object,
): void {
  res.vary('Accept').vary('Accept-Language');
  if (wantsHtml(req)) {
    res.status(status).type('html').set('Content-Language', messages.language).send(renderPage(messages, page));
  } else {
    res.status(status).json(json);
  }
}

/**
 * Headers for the pages users see: nothing cached, no referrer (links carry signed tokens), and a
 * policy that allows no scripts and no external resources.
 */
export const userFacingHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  });
  next();
};

/**
 * For a page with a form: the same policy, but the form may post back to this service, and the
 * answer may redirect to `redirectOrigins` (browsers check a form's redirects against form-action).
 */
export const formPageHeaders =
  (redirectOrigins: readonly string[]): RequestHandler =>
  (_req, res, next) => {
    const formAction = ["'self'", ...redirectOrigins].join(' ');
    res.set(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action ${formAction}; frame-ancestors 'none'`,
    );
    next();
  };
