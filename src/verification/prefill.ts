import type { PrefillField } from '../config.js';
import type { PrefillValues } from '../persona/personaClient.js';

function traitAt(traits: unknown, path: readonly string[]): unknown {
  let value: unknown = traits;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key))
      return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Persona `fields` prefilled from Kratos traits per `PERSONA_PREFILL_FIELDS`. A trait the identity
 * schema lacks (no email on a phone-only schema) is simply left out.
 */
export function prefillFromTraits(traits: unknown, mapping: readonly PrefillField[]): PrefillValues {
  const fields: PrefillValues = {};
  for (const { field, traitPath } of mapping) {
    const value = traitAt(traits, traitPath);
    if (typeof value === 'string' ? value.trim() !== '' : typeof value === 'number' || typeof value === 'boolean') {
      fields[field] = value as string | number | boolean;
    }
  }
  return fields;
}
