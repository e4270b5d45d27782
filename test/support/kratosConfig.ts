import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const schema = JSON.parse(
  readFileSync(new URL('../fixtures/kratos-config.schema.json', import.meta.url), 'utf8'),
) as object;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);
// The schema's one external reference; reference/kratos-actions.md says it may be stubbed.
ajv.addSchema({}, 'ory://tracing-config');
const validate = ajv.compile(schema);

/** Kratos's own configuration schema check: what Kratos does before it starts. */
export function kratosConfigProblems(config: unknown): string[] {
  return validate(config) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}

export const readYaml = (path: URL): unknown => parse(readFileSync(path, 'utf8'));

/** The smallest configuration Kratos starts with, for merging snippets into. */
export function minimalKratosConfig(): Record<string, unknown> {
  return {
    dsn: 'memory',
    identity: {
      default_schema_id: 'default',
      schemas: [{ id: 'default', url: 'file:///etc/config/kratos/identity.schema.json' }],
    },
    selfservice: { default_browser_return_url: 'http://127.0.0.1:4455/' },
  };
}

/** Objects merge key by key; everything else (lists included) is replaced, as a config overlay does. */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overlay)) return structuredClone(overlay);
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) merged[key] = deepMerge(base[key], value);
  return merged;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
