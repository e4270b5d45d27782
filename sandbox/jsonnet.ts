import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isObject } from './standInServer.js';

export const JSONNET_DIR = fileURLToPath(new URL('../jsonnet/', import.meta.url));

export type HookTemplate = 'initiate' | 'validate';

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

/**
 * What the templates render, written in TypeScript for machines without the `jsonnet` command
 * (the demo then says so). A test holds it equal to the real templates on many contexts.
 */
export function equivalentBody(
  template: HookTemplate,
  ctx: { identity: Record<string, unknown> } & Record<string, unknown>,
) {
  const identity = ctx.identity;
  if (template === 'initiate') return { identity_id: identity['id'], traits: get(identity, 'traits', {}) };
  const metadataPublic = get(identity, 'metadata_public', null);
  const flow = get(ctx, 'flow', {});
  const requestHeaders = get(ctx, 'request_headers', null);
  const acceptLanguage = isObject(requestHeaders) ? get(requestHeaders, 'Accept-Language', null) : null;
  return {
    identity_id: identity['id'],
    identity_created_at: get(identity, 'created_at', null),
    persona: isObject(metadataPublic) ? get(metadataPublic, 'persona', null) : null,
    return_to: isObject(flow) ? get(flow, 'return_to', null) : null,
    accept_language: Array.isArray(acceptLanguage)
      ? acceptLanguage.filter((value) => typeof value === 'string').join(', ')
      : null,
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
