import { randomUUID } from 'node:crypto';
import { SETTINGS_METHODS, type SettingsMethod } from '../src/policy/stepUpPolicy.js';
import { withAddresses } from './kratosAddresses.js';
import { credential, type Credentials } from './kratosCredentials.js';
import { settingsContext, type ContextSession } from './kratosContext.js';
import type { HookCall } from './kratosHooks.js';
import type { StandInIdentity } from './kratosIdentity.js';
import { isObject, type Reply, type Route } from './standInServer.js';

/**
 * The settings flow of the Kratos stand-in: a signed-in user changes a method's settings, the
 * method's settings.after hook with response.parse runs before the change is saved (ory-actions.yaml),
 * and the change is saved only when the hook lets it through (ory/kratos selfservice/flow/settings/hook.go).
 */

export interface SettingsChange {
  method: SettingsMethod;
  /** The new traits, for `profile`. */
  traits?: Record<string, unknown>;
  /** A browser flow (session cookie, Referer) or a native app's (session token only). Default: browser. */
  browser?: boolean;
  /** The settings page the browser submitted from (its Referer). */
  settingsPage?: string;
}

export interface SettingsResult {
  identityId: string;
  hook: HookCall;
  saved: boolean;
}

export interface SettingsHost {
  /** The active session of a token, with its identity. */
  session(token: string): (ContextSession & { identityId: string }) | undefined;
  identity(id: string): StandInIdentity | undefined;
  save(identity: StandInIdentity): void;
  runSettingsHook(ctx: ReturnType<typeof settingsContext>, method: SettingsMethod): Promise<HookCall>;
}

/** The identity as the method would leave it. */
function changed(before: StandInIdentity, change: SettingsChange): StandInIdentity {
  const credentials: Credentials = { ...before.credentials };
  const email = (traits: Record<string, unknown>) => (typeof traits['email'] === 'string' ? [traits['email']] : []);
  switch (change.method) {
    case 'profile': {
      const traits = change.traits ?? before.traits;
      // Traits marked as identifiers in the schema (here: email) are the password's identifiers.
      if (credentials['password'] !== undefined) credentials['password'] = credential('password', email(traits));
      return withAddresses({ ...before, traits, credentials }, new Date().toISOString());
    }
    case 'password':
      credentials['password'] = credential('password', credentials['password']?.identifiers ?? email(before.traits));
      break;
    case 'webauthn':
      credentials['webauthn'] = credential('webauthn', [], {
        credentials: [
          ...(credentials['webauthn']?.config.credentials ?? []),
          { id: randomUUID(), is_passwordless: false },
        ],
      });
      break;
    case 'oidc':
      credentials['oidc'] = credential('oidc', [`sandbox:${randomUUID()}`]);
      break;
    default:
      credentials[change.method] = credential(change.method);
  }
  return { ...before, credentials };
}

export function settingsFlow(host: SettingsHost) {
  const changeSettings = async (sessionToken: string, change: SettingsChange): Promise<SettingsResult | undefined> => {
    const session = host.session(sessionToken);
    const before = session === undefined ? undefined : host.identity(session.identityId);
    if (session === undefined || before === undefined || before.state !== 'active') return undefined;
    const after = changed(before, change);
    const ctx = settingsContext(before, after, session, {
      browser: change.browser ?? true,
      ...(change.settingsPage !== undefined && { settingsPage: change.settingsPage }),
    });
    const hook = await host.runSettingsHook(ctx, change.method);
    const saved = hook.reading.kind === 'continue';
    if (saved) host.save({ ...after, updated_at: new Date().toISOString() });
    return { identityId: before.id, hook, saved };
  };

  const route: Route = {
    method: 'POST',
    pattern: /^\/sandbox\/settings$/,
    handle: async (request): Promise<Reply> => {
      const body = isObject(request.body) ? request.body : {};
      const { session_token: token, method, traits, browser, settings_page: settingsPage } = body;
      if (typeof token !== 'string' || !SETTINGS_METHODS.includes(method as SettingsMethod)) {
        return {
          status: 400,
          body: {
            error: { code: 400, message: `session_token and method (${SETTINGS_METHODS.join(', ')}) are required` },
          },
        };
      }
      const result = await changeSettings(token, {
        method: method as SettingsMethod,
        ...(isObject(traits) && { traits }),
        ...(typeof browser === 'boolean' && { browser }),
        ...(typeof settingsPage === 'string' && { settingsPage }),
      });
      if (result === undefined) {
        return { status: 401, body: { error: { code: 401, message: 'No active session was found in this request.' } } };
      }
      return {
        status: 200,
        body: {
          identity_id: result.identityId,
          saved: result.saved,
          hook: {
            url: result.hook.url,
            status: result.hook.status,
            response: result.hook.responseBody ?? null,
            kratos: result.hook.reading,
          },
        },
      };
    },
  };

  return { changeSettings, route };
}
