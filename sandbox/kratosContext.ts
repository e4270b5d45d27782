import type { IncomingHttpHeaders } from 'node:http';
import type { StandInIdentity } from './kratosIdentity.js';

/**
 * The `ctx` Kratos gives a web hook's Jsonnet (reference/kratos-actions.md, "The Jsonnet ctx"),
 * shaped like reference/examples/kratos: the identity never carries `metadata_admin`, and the
 * session exists only on login (with the nil UUID as id, since it is stored after the hooks).
 */

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const publicIdentity = (identity: StandInIdentity) => {
  const { metadata_admin: _hidden, ...visible } = identity;
  return visible;
};

const flow = (type: 'registration' | 'login', returnTo: string | undefined) => {
  const now = new Date();
  return {
    id: crypto.randomUUID(),
    type: 'browser',
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

const request = (type: string, headers: RequestHeaders = SANDBOX_BROWSER) => ({
  request_headers: headers,
  request_method: 'POST',
  request_url: `https://auth.example.com/self-service/${type}`,
  request_cookies: {},
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
