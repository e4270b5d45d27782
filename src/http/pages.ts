import type { Request, RequestHandler, Response } from 'express';

export interface PageContent {
  title: string;
  message: string;
  link?: { href: string; label: string };
}

export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** A minimal, accessible page: no scripts, no external assets. */
function renderPage(content: PageContent): string {
  const link = content.link
    ? `<p><a href="${escapeHtml(content.link.href)}">${escapeHtml(content.link.label)}</a></p>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(content.title)}</title>
<style>body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;padding:2rem 1rem;color:#1b1b1b;background:#fff}main{max-width:34rem;margin:0 auto}a{color:#0645ad}</style>
</head>
<body>
<main>
<h1>${escapeHtml(content.title)}</h1>
<p>${escapeHtml(content.message)}</p>
${link}
</main>
</body>
</html>
`;
}

/** Browsers navigating here get a page; everything else (fetch, curl, apps) gets JSON. */
const wantsHtml = (req: Request) => req.accepts(['json', 'html']) === 'html';

export function respondWith(req: Request, res: Response, status: number, page: PageContent, json: object): void {
  if (wantsHtml(req)) res.status(status).type('html').send(renderPage(page));
  else res.status(status).json(json);
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
