import { randomUUID } from 'node:crypto';
import { applyJsonPatch, PatchError, type PatchOperation } from './jsonPatch.js';
import { loginContext, registrationContext } from './kratosContext.js';
import { callHook, type HookCall, type HookTarget } from './kratosHooks.js';
import { isObject, startStandInServer, type RecordedRequest, type Reply, type StandInServer } from './standInServer.js';

/**
 * A Kratos admin API on loopback that holds identities in memory and enforces what the real one
 * does (reference/kratos-actions.md): JSON Patch with add, remove and replace only, no patching of
 * `id` or `credentials`, the bearer key when one is configured (Ory Network), and `metadata_admin`
 * only on admin reads.
 */

export interface StandInIdentity {
  id: string;
  schema_id: string;
  schema_url: string;
  state: 'active' | 'inactive';
  state_changed_at: string;
  traits: Record<string, unknown>;
  verifiable_addresses: unknown[];
  recovery_addresses: unknown[];
  metadata_public: Record<string, unknown> | null;
  metadata_admin: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  organization_id: string | null;
}

export interface KratosStandIn extends StandInServer {
  createIdentity(
    input?: Partial<Pick<StandInIdentity, 'id' | 'traits' | 'metadata_public' | 'metadata_admin' | 'created_at'>>,
  ): StandInIdentity;
  identity(id: string): StandInIdentity | undefined;
  /** The JSON Patch bodies received for one identity, oldest first. */
  patchesOf(id: string): PatchOperation[][];
  /** Signs the identity in: a session token, and the Cookie header a browser would send. */
  createSession(identityId: string, options?: { aal2Required?: boolean }): { token: string; cookie: string };
  /** Where the self-service flows below send their web hooks (the service, as in ory-actions.yaml). */
  setHooks(target: HookTarget | undefined): void;
  /** A registration: the identity is saved, the initiate hook runs, the `session` hook signs in. */
  register(traits: Record<string, unknown>): Promise<SelfServiceResult>;
  /** A login: the validate hook decides whether a session is issued. */
  login(identityId: string, returnTo?: string): Promise<SelfServiceResult>;
}

export interface SelfServiceResult {
  identityId: string;
  hook: HookCall;
  /** Issued when the hook let the flow continue. */
  session: { token: string; cookie: string } | null;
}

/** The session cookie of a self-hosted Kratos (Ory Network names it ory_session_<slug>). */
const SESSION_COOKIE = 'ory_kratos_session';

/** Top-level identity members an admin patch may touch. */
const PATCHABLE = new Set([
  'traits',
  'metadata_public',
  'metadata_admin',
  'state',
  'schema_id',
  'external_id',
  'organization_id',
]);

/**
 * What Kratos shows when an inactive identity tries to log in: its own message, before any hook
 * runs (Kratos's text/id.go, ErrorValidationIdentityDisabled).
 */
const inactiveLogin = (): HookCall => ({
  url: '',
  body: null,
  renderedBy: 'equivalent',
  status: 0,
  responseBody: undefined,
  reading: {
    kind: 'interrupt',
    id: 4010011,
    text: 'This account has been disabled. Please contact support for assistance.',
    type: 'error',
    context: {},
    formLevel: true,
  },
});

/** The sandbox's answer to a self-service call: what Kratos would have done, and why. */
const selfServiceReply = (result: SelfServiceResult): Reply => ({
  status: 200,
  body: {
    identity_id: result.identityId,
    hook: {
      url: result.hook.url,
      status: result.hook.status,
      response: result.hook.responseBody ?? null,
      kratos: result.hook.reading,
    },
    session_token: result.session?.token ?? null,
  },
});

const kratosError = (code: number, status: string, reason: string): Reply => ({
  status: code,
  body: { error: { code, status, reason, message: status } },
});

export async function startKratosStandIn(
  options: {
    apiKey?: string;
    port?: number;
    host?: string;
    hooks?: HookTarget;
  } = {},
): Promise<KratosStandIn> {
  let hooks = options.hooks;
  const identities = new Map<string, StandInIdentity>();
  const sessions = new Map<string, { identityId: string; aal2Required: boolean }>();

  /** Kratos's toSession reads the X-Session-Token header, a bearer token, or the session cookie. */
  const whoami = (request: RecordedRequest): Reply => {
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    const cookie = String(request.headers.cookie ?? '')
      .split(';')
      .map((pair) => pair.trim().split('='))
      .find(([name]) => name === SESSION_COOKIE)?.[1];
    const token = request.headers['x-session-token'] ?? bearer ?? cookie;
    const session = typeof token === 'string' ? sessions.get(token) : undefined;
    const identity = session === undefined ? undefined : identities.get(session.identityId);
    if (session === undefined || identity === undefined) {
      return kratosError(401, 'Unauthorized', 'No active session was found in this request.');
    }
    if (session.aal2Required) return kratosError(403, 'Forbidden', 'session_aal2_required');
    // An inactive identity's sessions are refused (reference/kratos-actions.md, "Sessions").
    if (identity.state !== 'active')
      return kratosError(401, 'Unauthorized', 'No active session was found in this request.');
    const { metadata_admin: _admin, ...publicIdentity } = identity;
    const now = new Date();
    return {
      status: 200,
      body: {
        id: randomUUID(),
        active: true,
        authenticator_assurance_level: 'aal1',
        authenticated_at: now.toISOString(),
        issued_at: now.toISOString(),
        expires_at: new Date(now.getTime() + 86_400_000).toISOString(),
        identity: publicIdentity,
      },
    };
  };

  const authorized = (request: RecordedRequest) =>
    options.apiKey === undefined || request.headers.authorization === `Bearer ${options.apiKey}`;

  const admin =
    (handle: (request: RecordedRequest, params: string[]) => Reply) => (request: RecordedRequest, params: string[]) =>
      authorized(request)
        ? handle(request, params)
        : kratosError(401, 'Unauthorized', 'The request could not be authorized');

  const patchIdentity = (request: RecordedRequest, [id = '']: string[]): Reply => {
    const identity = identities.get(id);
    if (identity === undefined) return kratosError(404, 'Not Found', 'Unable to locate the resource');
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return kratosError(415, 'Unsupported Media Type', 'Content-Type must be application/json');
    }
    const operations = request.body;
    if (!Array.isArray(operations) || operations.length === 0) {
      return kratosError(400, 'Bad Request', 'The body must be a non-empty JSON Patch array');
    }
    for (const operation of operations as PatchOperation[]) {
      if (typeof operation !== 'object' || operation === null || typeof operation.path !== 'string') {
        return kratosError(400, 'Bad Request', 'Every patch operation needs op and path');
      }
      if (!['add', 'remove', 'replace'].includes(operation.op)) {
        return kratosError(400, 'Bad Request', `Unsupported patch operation: ${String(operation.op)}`);
      }
      const member = operation.path.split('/')[1] ?? '';
      if (member === 'id' || member === 'credentials') {
        return kratosError(400, 'Bad Request', `The path ${operation.path} may not be patched`);
      }
      if (!PATCHABLE.has(member)) return kratosError(400, 'Bad Request', `Unknown identity field in ${operation.path}`);
    }
    try {
      const patched = applyJsonPatch(identity as unknown as Record<string, unknown>, operations as PatchOperation[]);
      const updated = { ...(patched as unknown as StandInIdentity), updated_at: new Date().toISOString() };
      if (updated.state !== 'active' && updated.state !== 'inactive') {
        return kratosError(400, 'Bad Request', 'state must be active or inactive');
      }
      if (updated.state !== identity.state) updated.state_changed_at = updated.updated_at;
      identities.set(id, updated);
      return { status: 200, body: updated };
    } catch (error) {
      if (error instanceof PatchError) return kratosError(400, 'Bad Request', error.message);
      throw error;
    }
  };

  const server = await startStandInServer({
    port: options.port,
    host: options.host,
    routes: [
      {
        method: 'GET',
        pattern: /^\/(?:admin\/)?health\/(?:ready|alive)$/,
        handle: () => ({ status: 200, body: { status: 'ok' } }),
      },
      {
        method: 'GET',
        pattern: /^\/admin\/identities$/,
        handle: admin((request) => {
          const size = Number(request.query.get('page_size') ?? 250);
          return {
            status: 200,
            body: [...identities.values()].slice(0, Number.isInteger(size) && size > 0 ? size : 250),
          };
        }),
      },
      {
        method: 'GET',
        pattern: /^\/admin\/identities\/([^/]+)$/,
        handle: admin((_request, [id = '']) => {
          const identity = identities.get(id);
          return identity
            ? { status: 200, body: identity }
            : kratosError(404, 'Not Found', 'Unable to locate the resource');
        }),
      },
      { method: 'PATCH', pattern: /^\/admin\/identities\/([^/]+)$/, handle: admin(patchIdentity) },
      {
        method: 'DELETE',
        pattern: /^\/admin\/identities\/([^/]+)\/sessions$/,
        handle: admin((_request, [id = '']) => {
          // Kratos answers 404 when the identity has no session to delete, as when it does not exist.
          const revoked = [...sessions].filter(([, session]) => session.identityId === id);
          for (const [token] of revoked) sessions.delete(token);
          return revoked.length > 0 ? { status: 204 } : kratosError(404, 'Not Found', 'Unable to locate the resource');
        }),
      },
      { method: 'GET', pattern: /^\/sessions\/whoami$/, handle: whoami },
      {
        method: 'POST',
        pattern: /^\/sandbox\/registrations$/,
        handle: async (request) => {
          const traits = (request.body as { traits?: unknown } | undefined)?.traits;
          return selfServiceReply(
            await register(isObject(traits) ? traits : { email: `user-${identities.size + 1}@example.com` }),
          );
        },
      },
      {
        method: 'POST',
        pattern: /^\/sandbox\/logins$/,
        handle: async (request) => {
          const { identity_id: identityId, return_to: returnTo } = (request.body ?? {}) as Record<string, unknown>;
          if (typeof identityId !== 'string' || !identities.has(identityId)) {
            return kratosError(404, 'Not Found', 'identity_id names no identity');
          }
          return selfServiceReply(await login(identityId, typeof returnTo === 'string' ? returnTo : undefined));
        },
      },
    ],
  });

  const createSession = (identityId: string, sessionOptions: { aal2Required?: boolean } = {}) => {
    const token = `ory_st_${randomUUID().replace(/-/g, '')}`;
    sessions.set(token, { identityId, aal2Required: sessionOptions.aal2Required ?? false });
    return { token, cookie: `${SESSION_COOKIE}=${token}` };
  };

  const runHook = (template: 'initiate' | 'validate', ctx: Parameters<typeof callHook>[2]) => {
    if (hooks === undefined) throw new Error('the Kratos stand-in has no hook target: call setHooks first');
    return callHook(hooks, template, ctx);
  };

  const register = async (traits: Record<string, unknown>): Promise<SelfServiceResult> => {
    const identity = createIdentity({ traits });
    const hook = await runHook('initiate', registrationContext(identity));
    // The hook runs after the identity is saved: its failure shows an error page, yet the account exists.
    return {
      identityId: identity.id,
      hook,
      session:
        hook.reading.kind === 'continue' && hooks?.registrationSession !== false ? createSession(identity.id) : null,
    };
  };

  const login = async (identityId: string, returnTo?: string): Promise<SelfServiceResult> => {
    const identity = identities.get(identityId) as StandInIdentity;
    // Kratos refuses an inactive identity before any hook runs.
    if (identity.state !== 'active') return { identityId, hook: inactiveLogin(), session: null };
    const hook = await runHook('validate', loginContext(identity, returnTo));
    return { identityId, hook, session: hook.reading.kind === 'continue' ? createSession(identityId) : null };
  };

  const createIdentity = (input: Parameters<KratosStandIn['createIdentity']>[0] = {}) => {
    const now = new Date().toISOString();
    const identity: StandInIdentity = {
      id: input.id ?? randomUUID(),
      schema_id: 'default',
      schema_url: 'http://127.0.0.1/schemas/ZGVmYXVsdA',
      state: 'active',
      state_changed_at: now,
      traits: input.traits ?? { email: `user-${identities.size + 1}@example.com` },
      verifiable_addresses: [],
      recovery_addresses: [],
      metadata_public: input.metadata_public ?? null,
      metadata_admin: input.metadata_admin ?? null,
      created_at: input.created_at ?? now,
      updated_at: now,
      organization_id: null,
    };
    identities.set(identity.id, identity);
    return structuredClone(identity);
  };

  return {
    ...server,
    createIdentity,
    identity(id) {
      const identity = identities.get(id);
      return identity === undefined ? undefined : structuredClone(identity);
    },
    createSession,
    setHooks(target) {
      hooks = target;
    },
    register,
    login,
    patchesOf(id) {
      return server.requests
        .filter((request) => request.method === 'PATCH' && request.path === `/admin/identities/${id}`)
        .map((request) => request.body as PatchOperation[]);
    },
  };
}
