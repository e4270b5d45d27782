import { escapeHtml } from '../src/http/pages.js';
import { forwardedHeaders } from './kratosContext.js';
import type { KratosStandIn, SelfServiceResult } from './kratosStandIn.js';
import { sandboxPage, startPageServer } from './sandboxPage.js';
import type { RecordedRequest, Reply, StandInServer } from './standInServer.js';

/**
 * The sandbox's stand-in for Kratos's self-service UI (what kratos-selfservice-ui-node serves on
 * port 4455): one click registers or signs in through the Kratos stand-in, whose hooks call the
 * service, and a session cookie is set when the hooks let the flow through. Cookies belong to a
 * host, not a port, so the cookie set here for 127.0.0.1 reaches the service and the app on
 * 127.0.0.1 too; open every sandbox address by 127.0.0.1, not localhost.
 */

export interface KratosUiOptions {
  kratos: KratosStandIn;
  /** Kratos's `selfservice.allowed_return_urls`: where a flow may send the browser afterwards. */
  allowedReturnUrls: string[];
  /** Kratos's `default_browser_return_url`, for a flow started without `return_to`. */
  defaultReturnUrl: string;
  port?: number | undefined;
  host?: string | undefined;
}

export interface KratosUi extends StandInServer {
  loginUrl: string;
  registrationUrl: string;
}

/** The cookie Kratos sets with a browser session: for the host that set it, not readable by scripts. */
const sessionCookie = (cookie: string) => `${cookie}; Path=/; HttpOnly; SameSite=Lax`;

const html = (status: number, title: string, body: string, headers: Record<string, string> = {}) =>
  sandboxPage(`${title} (Kratos stand-in)`, body, status, headers);

const see = (location: string, headers: Record<string, string> = {}): Reply => ({
  status: 303,
  headers: { Location: location, ...headers },
});

const hiddenReturnTo = (returnTo: string) => `<input type="hidden" name="return_to" value="${escapeHtml(returnTo)}">`;

export async function startKratosUi(options: KratosUiOptions): Promise<KratosUi> {
  const { kratos } = options;

  /** Kratos refuses a return_to outside its allowed list, as it would an open redirect. */
  const returnToOf = (value: string | null): string | undefined => {
    if (value === null || value === '') return options.defaultReturnUrl;
    return options.allowedReturnUrls.some((allowed) => value === allowed || value.startsWith(`${allowed}/`))
      ? value
      : undefined;
  };
  /** Runs `then` with the flow's return address, or refuses the flow as Kratos does. */
  const returning = (value: string | null, then: (returnTo: string) => Reply | Promise<Reply>) => {
    const returnTo = returnToOf(value);
    return returnTo === undefined
      ? html(
          400,
          'Return address not allowed',
          '<p>Kratos refuses this return_to: it is not in allowed_return_urls.</p>',
        )
      : then(returnTo);
  };

  /** What Kratos shows when a hook's answer is neither a pass nor a message: its error page. */
  const errorPage = (result: SelfServiceResult) =>
    html(
      502,
      'Error',
      `<p>Kratos would show its error page here: ${escapeHtml(result.hook.reading.kind === 'error_page' ? result.hook.reading.why : 'unexpected answer')}.</p>`,
    );

  const loginPage = (returnTo: string, status = 200, message = '') => {
    const identities = kratos.identities();
    const buttons = identities
      .map(
        (identity) =>
          `<form method="post" action="/login">${hiddenReturnTo(returnTo)}` +
          `<input type="hidden" name="identity_id" value="${escapeHtml(identity.id)}">` +
          `<button type="submit">Sign in as ${escapeHtml(String(identity.traits['email'] ?? identity.id))}</button></form>`,
      )
      .join('\n');
    return html(
      status,
      'Sign in',
      `${message}
<p>One click signs in: Kratos runs its login hooks (the service's /persona/validate) and sets its session cookie when they let the login through.</p>
${buttons || '<p>Nobody has registered yet.</p>'}
<p><a href="/registration?return_to=${encodeURIComponent(returnTo)}">Register a new account</a></p>`,
    );
  };

  /** A blocked login, as a login UI shows it (README): the message, and the links its context carries. */
  const blockMessage = (result: SelfServiceResult) => {
    const reading = result.hook.reading;
    if (reading.kind !== 'interrupt') return '';
    const link = (key: string, label: string) => {
      const href = reading.context[key];
      return typeof href === 'string' ? ` <a href="${escapeHtml(href)}">${label}</a>` : '';
    };
    return `<p role="alert" data-message-id="${reading.id}">${escapeHtml(reading.text)}${link('verify_url', 'Verify your identity')}${link('support_url', 'Contact support')}</p>`;
  };

  const formOf = (request: RecordedRequest) => new URLSearchParams(request.rawBody);

  const server = await startPageServer(
    [
      {
        method: 'GET',
        pattern: /^\/login$/,
        handle: (request) => returning(request.query.get('return_to'), (returnTo) => loginPage(returnTo)),
      },
      {
        method: 'POST',
        pattern: /^\/login$/,
        handle: (request) => {
          const form = formOf(request);
          return returning(form.get('return_to'), async (returnTo) => {
            const identityId = form.get('identity_id') ?? '';
            if (kratos.identity(identityId) === undefined)
              return loginPage(returnTo, 400, '<p role="alert">No such account.</p>');
            const result = await kratos.login(identityId, returnTo, forwardedHeaders(request.headers));
            if (result.session !== null) return see(returnTo, { 'Set-Cookie': sessionCookie(result.session.cookie) });
            return result.hook.reading.kind === 'interrupt'
              ? loginPage(returnTo, 200, blockMessage(result))
              : errorPage(result);
          });
        },
      },
      {
        method: 'GET',
        pattern: /^\/registration$/,
        handle: (request) =>
          returning(request.query.get('return_to'), (returnTo) =>
            html(
              200,
              'Register',
              `<form method="post" action="/registration">${hiddenReturnTo(returnTo)}
<label>Email <input type="email" name="email" value="user-${kratos.identities().length + 1}@example.com"></label>
<button type="submit">Register</button></form>
<p>Kratos saves the identity and calls the service's /persona/initiate; with ory-actions.yaml its session hook then signs you in.</p>`,
            ),
          ),
      },
      {
        method: 'POST',
        pattern: /^\/registration$/,
        handle: (request) => {
          const form = formOf(request);
          return returning(form.get('return_to'), async (returnTo) => {
            const email = form.get('email') || `user-${kratos.identities().length + 1}@example.com`;
            const result = await kratos.register({ email }, forwardedHeaders(request.headers));
            if (result.hook.reading.kind !== 'continue') return errorPage(result);
            // Without the session hook (ory-actions.require-approved.yaml) Kratos still returns the
            // browser to return_to, signed out.
            const cookie: Record<string, string> =
              result.session === null ? {} : { 'Set-Cookie': sessionCookie(result.session.cookie) };
            return see(returnTo, cookie);
          });
        },
      },
    ],
    options,
  );
  return { ...server, loginUrl: `${server.url}/login`, registrationUrl: `${server.url}/registration` };
}
