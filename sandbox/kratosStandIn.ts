import { randomUUID } from 'node:crypto';
import type { ExchangeInspector } from './exchangeInspection.js';
import { applyJsonPatch, PatchError, type PatchOperation } from './jsonPatch.js';
import { withAddresses } from './kratosAddresses.js';
import { credential, deleteCredentials, holdsIdentifier, withoutSecrets } from './kratosCredentials.js';
import {
  forwardedHeaders,
  loginContext,
  recoveryContext,
  registrationContext,
  type RequestHeaders,
} from './kratosContext.js';
import { kratosError, kratosStatus } from './kratosError.js';
import { listIdentities } from './kratosIdentityList.js';
import { callHook, KRATOS_HOOK_CLIENT, type HookCall, type HookClientTiming, type HookTarget } from './kratosHooks.js';
import type { StandInIdentity } from './kratosIdentity.js';
import { recoveryCodes, type RecoveryResult } from './kratosRecovery.js';
import { SESSION_COOKIE, kratosSessions } from './kratosSessions.js';
import { settingsFlow, type SettingsChange, type SettingsResult } from './kratosSettings.js';
import { isObject, startStandInServer, type RecordedRequest, type Reply, type StandInServer } from './standInServer.js';

/**
 * Kratos on loopback, with its two listeners as Kratos serves them (reference/kratos-actions.md):
 * the admin API holds identities in memory and enforces what the real one does (JSON Patch with
 * add, remove and replace only, no patching of `id` or `credentials`, the bearer key when one is
 * configured as on Ory Network, `metadata_admin` only on admin reads); the public API checks
 * sessions. Each redirects the other's routes, as Kratos does.
 */

export type { StandInIdentity } from './kratosIdentity.js';

export interface KratosStandIn extends StandInServer {
  /** The admin listener's address (what `KRATOS_ADMIN_URL` points at); `url` is the same. */
  adminUrl: string;
  /** The public listener: what `KRATOS_PUBLIC_URL` points at, with its own requests and faults. */
  public: StandInServer;
  createIdentity(
    input?: Partial<
      Pick<
        StandInIdentity,
        'id' | 'traits' | 'metadata_public' | 'metadata_admin' | 'created_at' | 'credentials' | 'schema_id'
      >
    >,
  ): StandInIdentity;
  identity(id: string): StandInIdentity | undefined;
  /** The person followed Kratos's verification email: the identity's email addresses are verified. */
  verifyEmail(id: string): void;
  /** Deletes the identity as `DELETE /admin/identities/{id}` does; false when there was none. */
  deleteIdentity(id: string): boolean;
  /** The JSON Patch bodies received for one identity, oldest first. */
  patchesOf(id: string): PatchOperation[][];
  /** Signs the identity in: a session token, and the Cookie header a browser would send. */
  createSession(identityId: string, options?: { aal2Required?: boolean }): { token: string; cookie: string };
  /** Where the self-service flows below send their web hooks (the service, as in ory-actions.yaml). */
  setHooks(target: HookTarget | undefined): void;
  /**
   * A registration: the identity is saved, the initiate hook runs, the `session` hook signs in.
   * `headers` are the client's, of which the hook sees what Kratos forwards.
   */
  register(traits: Record<string, unknown>, headers?: RequestHeaders): Promise<SelfServiceResult>;
  /** A login: the validate hook decides whether a session is issued. */
  login(identityId: string, returnTo?: string, headers?: RequestHeaders): Promise<SelfServiceResult>;
  /** A settings change by a signed-in user: the method's settings hook decides whether it is saved. */
  changeSettings(sessionToken: string, change: SettingsChange): Promise<SettingsResult | undefined>;
  /** Enters a recovery code in its flow (`recovery_link`): the recovery hooks run, then a session is issued. */
  recover(flowId: string, code: string): Promise<RecoveryResult>;
  /** Whether a session token is still active (not revoked, its identity active). */
  sessionActive(token: string): boolean;
  identities(): StandInIdentity[];
}

/** A registration or login that ran, for the sandbox to say what to try next. */
export interface SelfServiceEvent {
  flow: 'registration' | 'login';
  result: SelfServiceResult;
}

export interface KratosStandInOptions {
  apiKey?: string;
  /** The admin listener's port. */
  port?: number;
  publicPort?: number;
  host?: string;
  hooks?: HookTarget;
  /** Kratos's web hook client; tests shorten its waits and timeout. */
  hookClient?: HookClientTiming;
  /** Told about every exchange with either listener; the suite-wide default when absent. */
  inspect?: ExchangeInspector;
  /** Told about each registration and login, for the sandbox to say what to try next. */
  onSelfService?: (event: SelfServiceEvent) => void;
  /** Milliseconds before each answer of either listener, drawn per request (a remote Kratos). */
  latencyMs?: () => number;
}

export interface SelfServiceResult {
  identityId: string;
  hook: HookCall;
  /** Issued when the hook let the flow continue. */
  session: { token: string; cookie: string } | null;
}

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
  statuses: [],
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

/**
 * Kratos's x/redir: a route of the other listener answers 307 to the same path and query there. The
 * admin port serves `/sessions/whoami` that way (session/handler.go, getSession: "for
 * /admin/sessions/whoami redirect to the public route"), the public port the identity routes
 * (identity/handler.go, RegisterPublicRoutes: RedirectToAdminRoute).
 */
const redirectTo = (base: () => string, path: (requested: string) => string) => (request: RecordedRequest) => {
  const query = request.query.size > 0 ? `?${request.query}` : '';
  return { status: 307, headers: { Location: `${base()}${path(request.path)}${query}` } };
};
const withoutAdminPrefix = (path: string) => path.replace(/^\/admin(?=\/)/, '');

export async function startKratosStandIn(options: KratosStandInOptions = {}): Promise<KratosStandIn> {
  let hooks = options.hooks;
  const identities = new Map<string, StandInIdentity>();
  const sessions = kratosSessions((id) => identities.get(id));
  const common = {
    host: options.host,
    inspect: options.inspect,
    api: 'kratos',
    faultReply: kratosStatus,
    latencyMs: options.latencyMs,
  } as const;

  const authorized = (request: RecordedRequest) =>
    options.apiKey === undefined || request.headers.authorization === `Bearer ${options.apiKey}`;

  const admin =
    (handle: (request: RecordedRequest, params: string[]) => Reply) => (request: RecordedRequest, params: string[]) =>
      authorized(request)
        ? handle(request, params)
        : kratosError(401, 'Unauthorized', 'The request could not be authorized');

  /**
   * Kratos reads the id in an identity's path with x.ParseUUID (gofrs uuid.FromString), which takes
   * either case; the stand-in keeps ids in lower case, as Kratos writes them.
   */
  const identityRoute = (handle: (request: RecordedRequest, params: string[]) => Reply) =>
    admin((request, [id = '', ...rest]) => handle(request, [id.toLowerCase(), ...rest]));

  /**
   * Kratos applies the patch with jsonx.ApplyJSONPatch (identity/handler.go, patch): any JSON Patch
   * array, the empty one included (it changes nothing and answers 200), with add, remove and replace.
   */
  const patchIdentity = (request: RecordedRequest, [id = '']: string[]): Reply => {
    const identity = identities.get(id);
    if (identity === undefined) return kratosError(404, 'Not Found', 'Unable to locate the resource');
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return kratosError(415, 'Unsupported Media Type', 'Content-Type must be application/json');
    }
    const operations = request.body;
    if (!Array.isArray(operations)) return kratosError(400, 'Bad Request', 'The body must be a JSON Patch array');
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
      return { status: 200, body: adminView(updated) };
    } catch (error) {
      if (error instanceof PatchError) return kratosError(400, 'Bad Request', error.message);
      throw error;
    }
  };

  /** What the admin API shows of an identity: everything but the credentials' secrets. */
  const adminView = (identity: StandInIdentity) => ({ ...identity, credentials: withoutSecrets(identity.credentials) });

  const recovery = recoveryCodes({
    // The recovery link opens Kratos's recovery form, a self-service page on the public listener.
    baseUrl: () => publicServer.url,
    hasIdentity: (id) => identities.has(id),
    runRecoveryHooks: (identityId) =>
      runHook('validate', recoveryContext(identities.get(identityId) as StandInIdentity)),
    createSession: (identityId) => sessions.create(identityId),
  });

  const settings = settingsFlow({
    session: (token) => {
      const session = sessions.find(token);
      if (session === undefined || session.aal2Required) return undefined;
      return { ...session, cookie: [SESSION_COOKIE, token] };
    },
    identity: (id) => identities.get(id),
    save: (identity) => identities.set(identity.id, identity),
    runSettingsHook: (ctx, method) => runHook('settings', ctx, method),
  });

  const health = {
    method: 'GET',
    pattern: /^\/(?:admin\/)?health\/(?:ready|alive)$/,
    handle: () => ({ status: 200, body: { status: 'ok' } }),
  };
  const identityRoutes = /^\/admin\/identities(?:\/[^/]+)?$/;

  const publicServer = await startStandInServer({
    ...common,
    port: options.publicPort,
    routes: [
      health,
      { method: 'GET', pattern: /^\/sessions\/whoami$/, handle: sessions.whoami },
      ...recovery.routes.map((route) => ({ ...route, sandboxOnly: true })),
      ...['GET', 'PATCH'].map((method) => ({
        method,
        pattern: identityRoutes,
        handle: redirectTo(
          () => adminServer.url,
          (path) => path,
        ),
      })),
    ],
  });

  const adminServer = await startStandInServer({
    ...common,
    port: options.port,
    routes: [
      health,
      {
        method: 'GET',
        pattern: /^\/(?:admin\/)?sessions\/whoami$/,
        handle: redirectTo(() => publicServer.url, withoutAdminPrefix),
      },
      {
        method: 'GET',
        pattern: /^\/admin\/identities$/,
        handle: admin((request) => {
          // Kratos's exact (normalised) match on the identifiers of password, code, WebAuthn and social sign-in.
          const identifier = request.query.get('credentials_identifier');
          const matching = [...identities.values()].filter(
            (identity) => !identifier || holdsIdentifier(identity.credentials, identifier),
          );
          return listIdentities(request, matching.map(adminView));
        }),
      },
      {
        method: 'GET',
        pattern: /^\/admin\/identities\/([^/]+)$/,
        handle: identityRoute((_request, [id = '']) => {
          const identity = identities.get(id);
          return identity
            ? { status: 200, body: adminView(identity) }
            : kratosError(404, 'Not Found', 'Unable to locate the resource');
        }),
      },
      { method: 'PATCH', pattern: /^\/admin\/identities\/([^/]+)$/, handle: identityRoute(patchIdentity) },
      {
        method: 'DELETE',
        pattern: /^\/admin\/identities\/([^/]+)$/,
        handle: identityRoute((_request, [id = '']) => (deleteIdentity(id) ? { status: 204 } : notFound())),
      },
      {
        method: 'DELETE',
        pattern: /^\/admin\/identities\/([^/]+)\/sessions$/,
        handle: identityRoute((_request, [id = '']) =>
          // Kratos answers 404 when the identity has no session to delete, as when it does not exist.
          sessions.revokeAll(id) > 0 ? { status: 204 } : kratosError(404, 'Not Found', 'Unable to locate the resource'),
        ),
      },
      {
        method: 'DELETE',
        pattern: /^\/admin\/identities\/([^/]+)\/credentials\/([^/]+)$/,
        handle: identityRoute((request, [id = '', type = '']) => {
          const identity = identities.get(id);
          if (identity === undefined) return kratosError(404, 'Not Found', 'Unable to locate the resource');
          const result = deleteCredentials(identity.credentials, type, request.query.get('identifier'));
          if (!result.ok) {
            return kratosError(result.status, result.status === 404 ? 'Not Found' : 'Bad Request', result.reason);
          }
          identities.set(id, { ...identity, credentials: result.credentials, updated_at: new Date().toISOString() });
          return { status: 204 };
        }),
      },
      { method: 'POST', pattern: /^\/admin\/recovery\/code$/, handle: admin((request) => recovery.create(request)) },
      { ...settings.route, sandboxOnly: true },
      {
        method: 'POST',
        pattern: /^\/sandbox\/registrations$/,
        sandboxOnly: true,
        handle: async (request) => {
          const traits = (request.body as { traits?: unknown } | undefined)?.traits;
          return selfServiceReply(
            await register(
              isObject(traits) ? traits : { email: `user-${identities.size + 1}@example.com` },
              forwardedHeaders(request.headers),
            ),
          );
        },
      },
      {
        method: 'POST',
        pattern: /^\/sandbox\/logins$/,
        sandboxOnly: true,
        handle: async (request) => {
          const { identity_id: identityId, return_to: returnTo } = (request.body ?? {}) as Record<string, unknown>;
          if (typeof identityId !== 'string' || !identities.has(identityId)) {
            return kratosError(404, 'Not Found', 'identity_id names no identity');
          }
          return selfServiceReply(
            await login(
              identityId,
              typeof returnTo === 'string' ? returnTo : undefined,
              forwardedHeaders(request.headers),
            ),
          );
        },
      },
    ],
  }).catch(async (error: unknown) => {
    // Its port is taken, say: the public listener must not stay open behind the error.
    await publicServer.close();
    throw error;
  });

  const runHook = (
    template: 'initiate' | 'validate' | 'settings',
    ctx: Parameters<typeof callHook>[2],
    settingsMethod?: string,
  ) => {
    if (hooks === undefined) throw new Error('the Kratos stand-in has no hook target: call setHooks first');
    return callHook(hooks, template, ctx, { settingsMethod, timing: options.hookClient ?? KRATOS_HOOK_CLIENT });
  };

  const reported = (flow: SelfServiceEvent['flow'], result: SelfServiceResult) => {
    options.onSelfService?.({ flow, result });
    return result;
  };

  const register = async (traits: Record<string, unknown>, headers?: RequestHeaders): Promise<SelfServiceResult> => {
    // The schema's identifier trait (email, username or phone) becomes the password's identifier.
    const identifier = ['email', 'username', 'phone']
      .map((name) => traits[name])
      .find((value): value is string => typeof value === 'string');
    const identity = createIdentity({
      traits,
      credentials: identifier === undefined ? {} : { password: credential('password', [identifier]) },
    });
    const hook = await runHook('initiate', registrationContext(identity, undefined, headers));
    // The hook runs after the identity is saved: its failure shows an error page, yet the account exists.
    return reported('registration', {
      identityId: identity.id,
      hook,
      session:
        hook.reading.kind === 'continue' && hooks?.registrationSession !== false ? sessions.create(identity.id) : null,
    });
  };

  const login = async (identityId: string, returnTo?: string, headers?: RequestHeaders): Promise<SelfServiceResult> => {
    const identity = identities.get(identityId) as StandInIdentity;
    // Kratos refuses an inactive identity before any hook runs.
    if (identity.state !== 'active') return reported('login', { identityId, hook: inactiveLogin(), session: null });
    const hook = await runHook('validate', loginContext(identity, returnTo, headers));
    return reported('login', {
      identityId,
      hook,
      session: hook.reading.kind === 'continue' ? sessions.create(identityId) : null,
    });
  };

  /** Irrecoverable, as Kratos's is: the identity and its sessions go, nothing of it is kept. */
  const deleteIdentity = (id: string) => {
    if (!identities.delete(id)) return false;
    sessions.revokeAll(id);
    return true;
  };
  const notFound = () => kratosError(404, 'Not Found', 'Unable to locate the resource');

  const createIdentity = (input: Parameters<KratosStandIn['createIdentity']>[0] = {}) => {
    const now = new Date().toISOString();
    const identity: StandInIdentity = withAddresses(
      {
        id: input.id ?? randomUUID(),
        schema_id: input.schema_id ?? 'default',
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
        credentials: input.credentials ?? {},
      },
      now,
    );
    identities.set(identity.id, identity);
    return structuredClone(identity);
  };

  return {
    ...adminServer,
    adminUrl: adminServer.url,
    public: publicServer,
    close: () => Promise.all([adminServer.close(), publicServer.close()]).then(() => undefined),
    createIdentity,
    identity(id) {
      const identity = identities.get(id);
      return identity === undefined ? undefined : structuredClone(identity);
    },
    identities: () => [...identities.values()].map((identity) => structuredClone(identity)),
    verifyEmail(id) {
      const identity = identities.get(id);
      if (identity === undefined) throw new Error(`no identity ${id}`);
      const now = new Date().toISOString();
      identity.verifiable_addresses = identity.verifiable_addresses.map((address) => ({
        ...(address as Record<string, unknown>),
        verified: true,
        verified_at: now,
        status: 'completed',
        updated_at: now,
      }));
    },
    deleteIdentity,
    createSession: sessions.create,
    setHooks(target) {
      hooks = target;
    },
    register,
    login,
    changeSettings: settings.changeSettings,
    recover: recovery.recover,
    sessionActive(token) {
      const session = sessions.find(token);
      return session !== undefined && identities.get(session.identityId)?.state === 'active';
    },
    patchesOf(id) {
      return adminServer.requests
        .filter((request) => request.method === 'PATCH' && request.path === `/admin/identities/${id}`)
        .map((request) => request.body as PatchOperation[]);
    },
  };
}
