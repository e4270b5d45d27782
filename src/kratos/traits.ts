/**
 * The value at `path` in an identity's traits, or undefined where the identity schema has no such
 * trait. Only own properties are read, so a path such as `constructor.name` finds nothing.
 */
export function traitAt(traits: unknown, path: readonly string[]): unknown {
  let value: unknown = traits;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key))
      return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
