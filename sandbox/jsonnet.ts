import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isObject } from './standInServer.js';

export const JSONNET_DIR = fileURLToPath(new URL('../jsonnet/', import.meta.url));

export type HookTemplate = 'initiate' | 'validate' | 'settings';

/**
 * Evaluates one of the project's templates the way Kratos does: as `function(ctx)` with the
 * context passed as a top-level argument, here through the `jsonnet` command-line interpreter.
 */
export function renderJsonnet(template: HookTemplate, ctx: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      'jsonnet',
      ['--tla-code', `ctx=${JSON.stringify(ctx)}`, `${JSONNET_DIR}${template}.jsonnet`],
      { timeout: 10_000 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            Object.assign(new Error(`jsonnet ${template}.jsonnet failed: ${stderr.trim() || error.message}`), {
              code: error.code,
            }),
          );
        else resolve(JSON.parse(stdout) as unknown);
      },
    );
  });
}

/** Jsonnet's `std.get(object, key, default)`: the member when present (even null), else the default. */
const get = (object: Record<string, unknown>, key: string, fallback: unknown) =>
  Object.hasOwn(object, key) ? object[key] : fallback;

/** Jsonnet's equality: deep, on objects by their fields. */
const equal = (a: unknown, b: unknown): boolean => {
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return Object.keys(a).length === Object.keys(b).length && [...keys].every((key) => equal(a[key], b[key]));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => equal(item, b[i]));
  return a === b;
};

/** settings.jsonnet's changedPaths: the paths where the traits differ, in Jsonnet's key order. */
const changedPaths = (before: unknown, after: unknown, path: string[]): string[] => {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedPaths(get(before, key, null), get(after, key, null), [...path, key]));
  }
  return equal(before, after) ? [] : [path.join('.')];
};

/** Jsonnet's std.toString: a string as it is, anything else as its JSON. */
const toText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** settings.jsonnet's addresses: the recovery and verifiable addresses as a sorted set of texts. */
const addresses = (identity: unknown): string[] => {
  const listed = (kind: string) => {
    const list = isObject(identity) ? get(identity, kind, []) : [];
    return Array.isArray(list)
      ? list
          .filter(isObject)
          .map((address) => `${kind} ${toText(get(address, 'via', null))} ${toText(get(address, 'value', null))}`)
      : [];
  };
  return [...new Set([...listed('recovery_addresses'), ...listed('verifiable_addresses')])].sort();
};

const SESSION_COOKIE = /^(?:ory_kratos_session|ory_session_)/;

/** The templates' accept_language: Kratos's list of Accept-Language values, joined. */
function acceptLanguageOf(ctx: Record<string, unknown>) {
  const requestHeaders = get(ctx, 'request_headers', null);
  const acceptLanguage = isObject(requestHeaders) ? get(requestHeaders, 'Accept-Language', null) : null;
  return Array.isArray(acceptLanguage) ? acceptLanguage.filter((value) => typeof value === 'string').join(', ') : null;
}

function settingsBody(ctx: { identity: Record<string, unknown> } & Record<string, unknown>) {
  const session = get(ctx, 'session', null);
  const sessionIdentity = isObject(session) ? get(session, 'identity', null) : null;
  const before = isObject(sessionIdentity) ? get(sessionIdentity, 'traits', null) : null;
  const metadataPublic = get(ctx.identity, 'metadata_public', null);
  const flow = get(ctx, 'flow', {});
  const cookies = get(ctx, 'request_cookies', {});
  const headers = get(ctx, 'request_headers', {});
  const referer = isObject(headers) ? get(headers, 'Referer', []) : [];
  return {
    identity_id: ctx.identity['id'],
    persona: isObject(metadataPublic) ? get(metadataPublic, 'persona', null) : null,
    changed_traits: isObject(session) ? changedPaths(before, get(ctx.identity, 'traits', null), []) : null,
    changed_addresses: isObject(sessionIdentity) ? !equal(addresses(sessionIdentity), addresses(ctx.identity)) : null,
    authenticated_at: isObject(session) ? get(session, 'authenticated_at', null) : null,
    session_cookie: isObject(cookies) && Object.keys(cookies).some((name) => SESSION_COOKIE.test(name)),
    settings_url: Array.isArray(referer) && referer.length > 0 ? (referer[0] as unknown) : null,
    return_to: isObject(flow) ? get(flow, 'return_to', null) : null,
    accept_language: acceptLanguageOf(ctx),
  };
}

/**
 * What the templates render, written in TypeScript for machines without the `jsonnet` command
 * (the demo then says so). A test holds it equal to the real templates on many contexts.
 */
export function equivalentBody(
  template: HookTemplate,
  ctx: { identity: Record<string, unknown> } & Record<string, unknown>,
) {
  const identity = ctx.identity;
  if (template === 'settings') return settingsBody(ctx);
  if (template === 'initiate')
    return { identity_id: identity['id'], traits: get(identity, 'traits', {}), accept_language: acceptLanguageOf(ctx) };
  const metadataPublic = get(identity, 'metadata_public', null);
  const flow = get(ctx, 'flow', {});
  const addresses = get(identity, 'verifiable_addresses', null);
  return {
    identity_id: identity['id'],
    identity_created_at: get(identity, 'created_at', null),
    persona: isObject(metadataPublic) ? get(metadataPublic, 'persona', null) : null,
    return_to: isObject(flow) ? get(flow, 'return_to', null) : null,
    accept_language: acceptLanguageOf(ctx),
    has_verified_email_address:
      Array.isArray(addresses) &&
      addresses.some(
        (address) =>
          isObject(address) && get(address, 'via', null) === 'email' && get(address, 'verified', false) === true,
      ),
  };
}

/** The hook body as Kratos would render it: by jsonnet when installed, else by the equivalent. */
export async function renderHookBody(
  template: HookTemplate,
  ctx: { identity: Record<string, unknown> } & Record<string, unknown>,
): Promise<{ body: unknown; renderedBy: 'jsonnet' | 'equivalent' }> {
  try {
    return { body: await renderJsonnet(template, ctx), renderedBy: 'jsonnet' };
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    return { body: equivalentBody(template, ctx), renderedBy: 'equivalent' };
  }
}
