import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * What docker compose and Kratos make of the compose example's files, for checking the
 * configuration they really run with: compose's variable interpolation from an env file, and
 * Ory's configuration overrides from environment variables.
 */

/** The env file the compose example's documented command writes (two fresh random secrets). */
export function generatedComposeEnv(): Record<string, string> {
  return {
    ORY_WEBHOOK_SECRET: randomBytes(32).toString('hex'),
    PERSONA_WEBHOOK_SECRET: `wbhsec_${randomBytes(32).toString('hex')}`,
  };
}

/** Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}` (the last fails when unset). */
export function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}/g, (_match, name: string, kind, text: string) => {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (kind === '-') return text;
    throw new Error(`compose refuses to start: ${name} ${kind === '?' ? text : 'is not set'}`);
  });
}

export function interpolateAll(values: Record<string, string>, env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, interpolate(value, env)]));
}

type SchemaNode = Record<string, unknown>;
const kratosSchema = JSON.parse(
  readFileSync(new URL('../fixtures/kratos-config.schema.json', import.meta.url), 'utf8'),
) as SchemaNode;

/** Every property path of Kratos's configuration schema, `#` standing for an array index (as Ory lists them). */
function schemaPaths(node: unknown, prefix: string[], refs: string[], found: Set<string>): void {
  if (node === null || typeof node !== 'object') return;
  const schema = node as SchemaNode;
  if (prefix.length > 0) found.add(prefix.join('.'));
  const ref = schema['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/definitions/') && !refs.includes(ref)) {
    const target = (kratosSchema['definitions'] as SchemaNode)[ref.slice('#/definitions/'.length)];
    schemaPaths(target, prefix, [...refs, ref], found);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf']) {
    for (const sub of (schema[key] as unknown[] | undefined) ?? []) schemaPaths(sub, prefix, refs, found);
  }
  for (const key of ['if', 'then', 'else']) schemaPaths(schema[key], prefix, refs, found);
  for (const [name, sub] of Object.entries((schema['properties'] as SchemaNode | undefined) ?? {}))
    schemaPaths(sub, [...prefix, name], refs, found);
  if (schema['items'] !== undefined) schemaPaths(schema['items'], [...prefix, '#'], refs, found);
}

const allSchemaPaths = (() => {
  const found = new Set<string>();
  schemaPaths(kratosSchema, [], [], found);
  return [...found];
})();

/**
 * The configuration key an environment variable sets, as Ory's configuration loader finds it:
 * lower-cased, underscores read as dots on both sides, array indices where the schema has items.
 */
export function kratosKeyOf(variable: string): string[] | undefined {
  const wanted = variable.toLowerCase().replaceAll('_', '.').split('.');
  for (const path of allSchemaPaths) {
    const parts = path.split('.');
    const normalized = parts.flatMap((part) => part.split('_'));
    if (normalized.length !== wanted.length) continue;
    if (!normalized.every((part, i) => part === wanted[i] || (part === '#' && /^\d+$/.test(wanted[i] as string))))
      continue;
    // Map the matched normalized segments back onto the schema's keys, filling in the indices.
    const key: string[] = [];
    let position = 0;
    for (const part of parts) {
      const width = part.split('_').length;
      key.push(part === '#' ? (wanted[position] as string) : part);
      position += width;
    }
    return key;
  }
  return undefined;
}

/**
 * Applies Kratos's environment overrides to a parsed kratos.yml the way Ory merges them (element by
 * element, arrays included). Each must name a schema key that the file already has.
 */
export function applyKratosEnvironment(config: unknown, env: Record<string, string>): unknown {
  const result = structuredClone(config) as Record<string, unknown>;
  for (const [variable, value] of Object.entries(env)) {
    const key = kratosKeyOf(variable);
    if (key === undefined) throw new Error(`${variable} names no key of Kratos's configuration`);
    let node: Record<string, unknown> = result;
    for (const segment of key.slice(0, -1)) {
      const next = node[segment];
      if (next === null || typeof next !== 'object') throw new Error(`${variable}: kratos.yml has no ${key.join('.')}`);
      node = next as Record<string, unknown>;
    }
    const leaf = key.at(-1) as string;
    if (!(leaf in node)) throw new Error(`${variable}: kratos.yml has no ${key.join('.')}`);
    node[leaf] = value;
  }
  return result;
}
