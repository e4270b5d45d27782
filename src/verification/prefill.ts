import type { TraitMapping } from '../config.js';
import { traitAt } from '../kratos/traits.js';
import type { PrefillValues } from '../persona/personaClient.js';

/**
 * Persona `fields` prefilled from Kratos traits per `PERSONA_PREFILL_FIELDS`. A trait the identity
 * schema lacks (no email on a phone-only schema) is simply left out.
 */
export function prefillFromTraits(traits: unknown, mapping: readonly TraitMapping[]): PrefillValues {
  const fields: PrefillValues = {};
  for (const { field, traitPath } of mapping) {
    const value = traitAt(traits, traitPath);
    if (typeof value === 'string' ? value.trim() !== '' : typeof value === 'number' || typeof value === 'boolean') {
      fields[field] = value as string | number | boolean;
    }
  }
  return fields;
}
