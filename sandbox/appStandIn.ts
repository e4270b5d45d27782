import { escapeHtml } from '../src/http/pages.js';
import { sandboxPage, startPageServer } from './sandboxPage.js';
import type { RecordedRequest, Reply, StandInServer } from './standInServer.js';

/**
 * The sandbox's stand-in for the operator's application: the page /persona/start and Persona send
 * users back to (instead of an address that does not exist), showing what an app would know: who
 * is signed in (Kratos's toSession), their verification (the service's /persona/status), and what
 * Persona appended to the return address, which proves nothing by itself.
 */

export interface AppStandInOptions {
  serviceUrl: string;
  /** Where the app checks the session cookie, as an app does with Kratos's toSession. */
  kratosPublicUrl: string;
  port?: number | undefined;
  host?: string | undefined;
}

export interface SignInPages {
  loginUrl: string | undefined;
  registrationUrl: string | undefined;
}

export interface AppStandIn extends StandInServer {
  /** Where users land after registering and verifying (DEFAULT_RETURN_TO). */
  welcomeUrl: string;
  /** What SUPPORT_URL points at. */
  supportUrl: string;
  /** The Kratos UI's pages this app links to. */
  setSignIn(pages: SignInPages): void;
}

const page = (title: string, body: string) => sandboxPage(`${title} (app stand-in)`, body);

const link = (href: string, label: string) => `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;

const withReturnTo = (base: string, returnTo: string) => `${base}?return_to=${encodeURIComponent(returnTo)}`;

interface Session {
  identityId: string;
  email: string | undefined;
}

export async function startAppStandIn(options: AppStandInOptions): Promise<AppStandIn> {
  let signIn: SignInPages = { loginUrl: undefined, registrationUrl: undefined };
  const cookieOf = (request: RecordedRequest) => request.headers.cookie ?? '';

  const whoami = async (cookie: string): Promise<Session | undefined> => {
    if (cookie === '') return undefined;
    const response = await fetch(`${options.kratosPublicUrl}/sessions/whoami`, { headers: { cookie } });
    if (!response.ok) return undefined;
    const session = (await response.json()) as { identity?: { id?: string; traits?: { email?: unknown } } };
    const email = session.identity?.traits?.email;
    return { identityId: String(session.identity?.id), email: typeof email === 'string' ? email : undefined };
  };

  const verification = async (cookie: string, returnTo: string) => {
    const response = await fetch(withReturnTo(`${options.serviceUrl}/persona/status`, returnTo), {
      headers: { cookie, accept: 'application/json' },
    });
    return (await response.json()) as { status?: string; verification_required?: boolean; verify_url?: string | null };
  };

  const home = async (request: RecordedRequest, here: string): Promise<Reply> => {
    const cookie = cookieOf(request);
    const session = await whoami(cookie);
    const startUrl = withReturnTo(`${options.serviceUrl}/persona/start`, welcomeUrl);
    const parts: string[] = [
      '<p>This page stands in for your application: /persona/start and Persona send users back here.</p>',
    ];
    const inquiryId = request.query.get('inquiry-id');
    if (inquiryId !== null) {
      parts.push(
        `<p id="persona-return">Persona sent you back: inquiry <code>${escapeHtml(inquiryId)}</code>, status <strong>${escapeHtml(request.query.get('status') ?? '')}</strong>. That proves nothing by itself: the decision reaches the service by signed webhook.</p>`,
      );
    }
    if (session === undefined) {
      parts.push('<p id="session">Not signed in.</p>');
      if (signIn.registrationUrl !== undefined)
        parts.push(`<p>${link(withReturnTo(signIn.registrationUrl, startUrl), 'Register')}</p>`);
      if (signIn.loginUrl !== undefined) parts.push(`<p>${link(withReturnTo(signIn.loginUrl, here), 'Sign in')}</p>`);
    } else {
      const status = await verification(cookie, here);
      parts.push(
        `<p id="session">Signed in as ${escapeHtml(session.email ?? 'an account without email')} (identity <code>${escapeHtml(session.identityId)}</code>).</p>`,
        `<p id="verification">Verification: <strong>${escapeHtml(status.status ?? 'unknown')}</strong>.</p>`,
      );
      if (signIn.loginUrl !== undefined)
        parts.push(`<p>${link(withReturnTo(signIn.loginUrl, here), 'Sign in as someone else')}</p>`);
    }
    parts.push(`<p>${link(startUrl, 'Verify your identity')}</p>`);
    return page('Example app', parts.join('\n'));
  };

  const server = await startPageServer(
    [
      {
        method: 'GET',
        pattern: /^\/support$/,
        handle: () =>
          page('Support', `<p>SUPPORT_URL points here in the sandbox.</p><p>${link('/', 'Back to the app')}</p>`),
      },
      { method: 'GET', pattern: /^\/.*$/, handle: (request) => home(request, `${server.url}${request.path}`) },
    ],
    options,
  );
  const welcomeUrl = `${server.url}/welcome`;

  return {
    ...server,
    welcomeUrl,
    supportUrl: `${server.url}/support`,
    setSignIn(pages) {
      signIn = pages;
    },
  };
}
