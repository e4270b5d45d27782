/** `createdAt`, `created_at` and `created-at` all become `created-at`. */
function toKebabCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

/** Subtrees we never read: they carry personal data (fields, behaviors) or are large (included). */
const SKIPPED_KEYS = new Set(['fields', 'behaviors', 'included', 'tags']);
const MAX_DEPTH = 12;

/**
 * Persona's webhooks follow the dashboard's key inflection setting (kebab by default, snake or camel
 * possible: reference/persona-api.md). Normalising the keys we read to kebab lets one schema parse all
 * three; the subtrees we never read are dropped on the way.
 */
export function normalizeKeys(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) return value.map((item) => normalizeKeys(item, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const entries: [string, unknown][] = [];
  for (const [key, child] of Object.entries(value)) {
    const kebab = toKebabCase(key);
    if (!SKIPPED_KEYS.has(kebab)) entries.push([kebab, normalizeKeys(child, depth + 1)]);
  }
  return Object.fromEntries(entries);
}
