import { isObject } from '../sandbox/standInServer.js';

/**
 * Turns an ory-actions snippet into the JSON Patch that `ory patch project --file` sends to Ory
 * Network: every hook list of the snippet, merged into the project's current list, with the service's
 * address, the webhook secret and the Jsonnet bodies inline (Ory Network cannot read `file://`).
 */

/** Where the identity (Kratos) configuration sits in an Ory Network project. */
export const PROJECT_IDENTITY_CONFIG = ['services', 'identity', 'config'];

export interface HookTarget {
  /** Where Ory Network reaches the service, e.g. `https://idv.example.com`, without a trailing slash. */
  serviceUrl: string;
  /** The value Kratos sends in `X-Webhook-Secret`. */
  webhookSecret: string;
  /** The text of a Jsonnet template a `file://` body names, by its file name. */
  template(fileName: string): string;
}

export interface PatchOperation {
  op: 'add';
  path: string;
  value: unknown;
}

/** What the patch does to one hook list, for the operator to review. */
export interface ListChange {
  path: string;
  hooks: string[];
  /** Hooks of the project's list that stay, before ours. */
  kept: string[];
  /** The flow-wide list whose hooks the new method list starts from, as Kratos ran them for it. */
  inheritedFrom?: string;
  /** Hooks of the project's list that are gone: `session` when the snippet has none. */
  removed: string[];
}

type Hook = { hook: string; config?: Record<string, unknown> };

/** RFC 6901: `~` and `/` in a member name are escaped. */
const pointer = (path: string[]) =>
  path.map((segment) => `/${segment.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

const hookName = (hook: Hook) => (hook.hook === 'web_hook' ? String(hook.config?.['id'] ?? 'web_hook') : hook.hook);

const valueAt = (root: unknown, path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), root);

function setAt(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

/**
 * The path of the first member above the list that `current` lacks (or holds something other than
 * an object at): an `add` there has a parent that exists. Undefined when every parent exists.
 */
function firstMissingParent(current: unknown, path: string[]): string[] | undefined {
  let node = current;
  for (const [depth, key] of path.slice(0, -1).entries()) {
    const next = isObject(node) ? node[key] : undefined;
    if (!isObject(next)) return path.slice(0, depth + 1);
    node = next;
  }
  return undefined;
}

/**
 * The hooks Kratos runs today where the snippet puts a list. A method whose own list is missing or
 * empty runs the flow-wide `after.hooks`, and stops doing so once its list has a hook (ory/kratos
 * driver/registry_default_login.go and registry_default_registration.go: "global hooks are added
 * only if no strategy specific hooks are defined"): a method list we fill starts from the
 * flow-wide hooks, so none of them is silently dropped.
 */
function currentHooks(current: unknown, path: string[]): { hooks: unknown[]; from?: string } {
  const own = valueAt(current, path);
  if (Array.isArray(own) && own.length > 0) return { hooks: own };
  const [method, phase] = [path.at(-2), path.at(-3)];
  if (method === undefined || (phase !== 'after' && phase !== 'before')) return { hooks: [] };
  const flowWidePath = [...path.slice(0, -2), 'hooks'];
  const flowWide = valueAt(current, flowWidePath);
  return Array.isArray(flowWide) && flowWide.length > 0
    ? { hooks: flowWide, from: flowWidePath.join('.') }
    : { hooks: [] };
}

/** Every `hooks` list in the snippet, with its path from the configuration's root. */
function hookLists(node: unknown, path: string[] = []): { path: string[]; hooks: Hook[] }[] {
  if (!isObject(node)) return [];
  return Object.entries(node).flatMap(([key, value]) => {
    if (key !== 'hooks') return hookLists(value, [...path, key]);
    if (!Array.isArray(value) || !value.every((hook) => isObject(hook) && typeof hook['hook'] === 'string')) {
      throw new Error(`${[...path, key].join('.')} must be a list of hooks, each with a "hook" name`);
    }
    return [{ path: [...path, key], hooks: value as Hook[] }];
  });
}

/** A web hook of the snippet, pointed at the service, with the secret and its body inline. */
function renderHook(hook: Hook, target: HookTarget, where: string): Hook {
  if (hook.hook !== 'web_hook') return structuredClone(hook);
  const config = structuredClone(hook.config ?? {});
  if (typeof config['url'] !== 'string' || typeof config['body'] !== 'string') {
    throw new Error(`${where}: a web_hook needs a url and a body`);
  }
  // The query stays: a settings hook names its method there (`?method=password`).
  const { pathname, search } = new URL(config['url']);
  config['url'] = `${target.serviceUrl}${pathname}${search}`;
  if (config['body'].startsWith('file://')) {
    const fileName = new URL(config['body']).pathname.split('/').at(-1) ?? '';
    // Kratos decodes base64:// bodies with standard, padded base64 (ory/x fetcher).
    config['body'] = `base64://${Buffer.from(target.template(fileName)).toString('base64')}`;
  }
  const auth = config['auth'];
  if (isObject(auth) && auth['type'] === 'api_key' && isObject(auth['config'])) {
    auth['config']['value'] = target.webhookSecret;
  }
  return { ...hook, config };
}

/**
 * The operations that give the project's identity configuration (`current`, as `ory get
 * identity-config --format json` prints it) the snippet's hooks. Hooks already in a list stay, except
 * ours from an earlier run (same web hook id) and `session`, which the snippet decides: the
 * require-approved snippet has none, so new users are not signed in before they are verified.
 * Every operation is an `add` whose parent exists in `current`, so the patch applies under strict
 * RFC 6902 rules as well as Ory's lenient ones.
 */
export function identityConfigPatch(
  snippet: unknown,
  current: unknown,
  target: HookTarget,
): { operations: PatchOperation[]; changes: ListChange[] } {
  if (!isObject(current)) throw new Error('the current identity configuration must be a JSON object');
  const lists = hookLists(snippet);
  if (lists.length === 0) throw new Error('the snippet has no hook lists (selfservice.flows.<flow>.after...hooks)');

  const merged: Record<string, unknown> = structuredClone(current);
  const additions = new Map<string, string[]>();
  const changes: ListChange[] = [];
  for (const list of lists) {
    const where = list.path.join('.');
    const ours = list.hooks.map((hook) => renderHook(hook, target, where));
    const ourIds = new Set(ours.filter((hook) => hook.hook === 'web_hook').map(hookName));
    const replacedBySnippet = (hook: Hook) =>
      hook.hook === 'session' || (hook.hook === 'web_hook' && ourIds.has(hookName(hook)));

    const { hooks: existingList, from } = currentHooks(current, list.path);
    const existing = existingList.filter(isObject) as Hook[];
    const kept = existing.filter((hook) => !replacedBySnippet(hook));
    setAt(merged, list.path, [...kept, ...ours]);
    const addAt = firstMissingParent(current, list.path) ?? list.path;
    additions.set(pointer(addAt), addAt);
    const hooks = [...kept, ...ours].map(hookName);
    changes.push({
      path: where,
      ...(from !== undefined && { inheritedFrom: from }),
      hooks,
      kept: kept.map(hookName),
      removed: existing.map(hookName).filter((name) => !hooks.includes(name)),
    });
  }
  // Several lists under one missing member share its operation, added once with all of them.
  const operations = [...additions.values()].map((addAt): PatchOperation => ({
    op: 'add',
    path: pointer([...PROJECT_IDENTITY_CONFIG, ...addAt]),
    value: valueAt(merged, addAt),
  }));
  return { operations, changes };
}
