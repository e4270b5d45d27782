import { escapeHtml } from '../src/http/pages.js';
import { startStandInServer, type Reply, type Route, type StandInServer } from './standInServer.js';

/** A plain page of a sandbox stand-in; `body` is HTML its caller has escaped. */
export const sandboxPage = (
  title: string,
  body: string,
  status = 200,
  headers: Record<string, string> = {},
): Reply => ({
  status,
  text: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;padding:2rem 1rem}main{max-width:40rem;margin:0 auto}form{margin:.5rem 0}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`,
  headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
});

/**
 * A server of the sandbox's own pages (the sign-in pages, the app), which no published API
 * describes: nothing to hold their exchanges to, and a plain page for a path they do not serve.
 */
export const startPageServer = (
  routes: Route[],
  options: { port?: number | undefined; host?: string | undefined },
): Promise<StandInServer> =>
  startStandInServer({
    ...options,
    routes,
    faultReply: (status) => sandboxPage(`${status}`, '<p>Nothing here.</p>', status),
  });
