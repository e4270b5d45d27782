import type { IncomingHttpHeaders } from 'node:http';
import type { StandInIdentity } from './kratosIdentity.js';

/**
 * The `ctx` Kratos gives a web hook's Jsonnet (reference/kratos-actions.md, "The Jsonnet ctx"),
 * shaped like reference/examples/kratos: the identity never carries `metadata_admin`, and the
 * session exists only on login (with the nil UUID as id, since it is stored after the hooks).
 */

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export const publicIdentity = (identity: StandInIdentity) => {
  const { metadata_admin: _hidden, credentials: _secret, ...visible } = identity;
  return visible;
};

const flow = (
  type: 'registration' | 'login' | 'settings' | 'recovery',
  returnTo: string | undefined,
  flowType: 'browser' | 'api' = 'browser',
) => {
  const now = new Date();
  return {
    id: crypto.randomUUID(),
    type: flowType,
    expires_at: new Date(now.getTime() + 3_600_000).toISOString(),
    issued_at: now.toISOString(),
    request_url: `https://auth.example.com/self-service/${type}/browser`,
    ...(returnTo !== undefined && { return_to: returnTo }),
    ui: { action: `https://auth.example.com/self-service/${type}`, method: 'POST', nodes: [] },
    organization_id: null,
    state: 'choose_method',
  };
};

/** Go's http.Header as Kratos passes it to the Jsonnet: canonical names, each with a list of values. */
export type RequestHeaders = Record<string, string[]>;

/**
 * The headers Kratos forwards to a web hook, its RequestHeaderAllowList (ory/kratos
 * selfservice/hook/web_hook.go); everything else, Cookie and Authorization included, is dropped.
 */
const FORWARDED = [
  'Accept',
  'Accept-Encoding',
  'Accept-Language',
  'Content-Length',
  'Content-Type',
  'Origin',
  'Priority',
  'Referer',
  'Sec-Ch-Ua',
  'Sec-Ch-Ua-Mobile',
  'Sec-Ch-Ua-Platform',
  'Sec-Fetch-Dest',
  'Sec-Fetch-Mode',
  'Sec-Fetch-Site',
  'Sec-Fetch-User',
  'True-Client-Ip',
  'User-Agent',
];

/** A browser's request headers as the hook's `ctx.request_headers` carries them. */
export function forwardedHeaders(headers: IncomingHttpHeaders): RequestHeaders {
  return Object.fromEntries(
    FORWARDED.flatMap((name) => {
      const value = headers[name.toLowerCase()];
      return value === undefined ? [] : [[name, Array.isArray(value) ? value : [value]]];
    }),
  );
}

/** What a browser submitting a Kratos form sends, when the sandbox has no real browser's headers. */
const SANDBOX_BROWSER: RequestHeaders = {
  Accept: ['text/html,application/xhtml+xml'],
  'Content-Type': ['application/x-www-form-urlencoded'],
  'User-Agent': ['Mozilla/5.0 (sandbox)'],
};

const request = (type: string, headers: RequestHeaders = SANDBOX_BROWSER, cookies: Record<string, string> = {}) => ({
  request_headers: headers,
  request_method: 'POST',
  request_url: `https://auth.example.com/self-service/${type}`,
  request_cookies: cookies,
});

/** A registration.after hook that runs after the identity is saved: the real id. */
export function registrationContext(identity: StandInIdentity, returnTo?: string, headers?: RequestHeaders) {
  return {
    flow: flow('registration', returnTo),
    ...request('registration', headers),
    identity: publicIdentity(identity),
  };
}

export function loginContext(identity: StandInIdentity, returnTo?: string, headers?: RequestHeaders) {
  const now = new Date().toISOString();
  return {
    flow: { ...flow('login', returnTo), active: 'password', refresh: false, requested_aal: 'aal1' },
    ...request('login', headers),
    identity: publicIdentity(identity),
    session: {
      id: NIL_UUID,
      active: true,
      authenticated_at: now,
      issued_at: now,
      authenticator_assurance_level: 'aal1',
      authentication_methods: [{ method: 'password', aal: 'aal1', completed_at: now }],
      identity: publicIdentity(identity),
    },
  };
}

/** The session as Kratos puts it in a hook's `ctx`: the identity as it was when the session was loaded. */
export interface ContextSession {
  id: string;
  authenticatedAt: string;
  /** The session cookie's name and value, which a browser's request carries. */
  cookie: [name: string, value: string];
}

/**
 * A settings.after hook with response.parse, which Kratos runs before saving (ory/kratos
 * selfservice/flow/settings/hook.go): `identity` is the identity as it will be saved,
 * `session.identity` as it was. Settings flows set no `active` method. A browser's request carries
 * its cookies (the session cookie among them) and a Referer; a native app's carries neither.
 */
export function settingsContext(
  before: StandInIdentity,
  after: StandInIdentity,
  session: ContextSession,
  options: { browser: boolean; settingsPage?: string; returnTo?: string },
) {
  // A native app's API flow: JSON, its own agent, no Referer and no cookies.
  const headers: RequestHeaders = options.browser
    ? { ...SANDBOX_BROWSER, ...(options.settingsPage !== undefined && { Referer: [options.settingsPage] }) }
    : { Accept: ['application/json'], 'Content-Type': ['application/json'], 'User-Agent': ['sandbox-app/1.0'] };
  const cookies: Record<string, string> = options.browser
    ? { csrf_token_sandbox: 'sandbox-csrf', [session.cookie[0]]: session.cookie[1] }
    : {};
  return {
    flow: {
      ...flow('settings', options.returnTo, options.browser ? 'browser' : 'api'),
      identity: publicIdentity(before),
      state: 'show_form',
    },
    ...request('settings', headers, cookies),
    identity: publicIdentity(after),
    session: {
      id: session.id,
      active: true,
      authenticated_at: session.authenticatedAt,
      issued_at: session.authenticatedAt,
      authenticator_assurance_level: 'aal1',
      authentication_methods: [{ method: 'password', aal: 'aal1', completed_at: session.authenticatedAt }],
      identity: publicIdentity(before),
    },
  };
}

/** A recovery.after hook: the recovered identity and no session (it is issued after the hooks). */
export function recoveryContext(identity: StandInIdentity) {
  return {
    flow: { ...flow('recovery', undefined), active: 'code', state: 'passed_challenge' },
    ...request('recovery'),
    identity: publicIdentity(identity),
  };
}
