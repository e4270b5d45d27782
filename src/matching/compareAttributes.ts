import type { TraitMapping } from '../config.js';
import { traitAt } from '../kratos/traits.js';
import type { VerifiedAttribute, VerifiedDocument } from '../persona/verifiedDocument.js';
import { RULES, type AttributeKind, type RuleSet } from './ruleSets.js';

/** How one attribute compared: never the values themselves. */
export type AttributeResult = 'match' | 'mismatch' | 'missing';

export interface AttributeComparison {
  /** `match` when every attribute matched; `mismatch` when one did not; `missing` otherwise. */
  outcome: AttributeResult;
  attributes: Partial<Record<VerifiedAttribute, AttributeResult>>;
}

const KINDS: Record<VerifiedAttribute, AttributeKind> = {
  'name-first': 'given_names',
  'name-middle': 'given_names',
  'name-last': 'family_name',
  birthdate: 'date',
};

/** A value with a letter or a digit: `-` or `'` in a field says nothing, so it proves nothing. */
const present = (value: unknown): value is string => typeof value === 'string' && /[\p{L}\p{N}]/u.test(value);

/** A mismatch outweighs what is missing, which outweighs a match. */
const WEIGHT: Record<AttributeResult, number> = { match: 0, missing: 1, mismatch: 2 };
const worst = (results: AttributeResult[]) =>
  results.reduce<AttributeResult>((found, result) => (WEIGHT[result] > WEIGHT[found] ? result : found), 'match');

/**
 * Compares what the verified documents say with what the traits hold, attribute by attribute
 * (ATTRIBUTE_MATCH). An attribute missing on either side is `missing`, never a match: a document
 * without a birthdate, or an identity without one, proves nothing about it. Every passed document
 * of the inquiry must match: an inquiry may hold several (a capture retried, a second document),
 * and someone else's must not hide behind the person's own.
 */
export function compareAttributes(
  documents: readonly VerifiedDocument[],
  traits: unknown,
  mappings: readonly (TraitMapping & { field: VerifiedAttribute })[],
  ruleSet: RuleSet,
): AttributeComparison {
  const attributes: AttributeComparison['attributes'] = {};
  for (const { field, traitPath } of mappings) {
    const registered = traitAt(traits, traitPath);
    const agrees = RULES[ruleSet][KINDS[field]];
    const results = documents.map((document): AttributeResult => {
      const verified = document[field];
      if (!present(verified) || !present(registered)) return 'missing';
      return agrees(verified, registered) ? 'match' : 'mismatch';
    });
    attributes[field] = results.length === 0 ? 'missing' : worst(results);
  }
  return { outcome: worst(Object.values(attributes)), attributes };
}
