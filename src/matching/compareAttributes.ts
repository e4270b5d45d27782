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

const present = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Compares what the verified document says with what the traits hold, attribute by attribute
 * (ATTRIBUTE_MATCH). An attribute missing on either side is `missing`, never a match: a document
 * without a birthdate, or an identity without one, proves nothing about it.
 */
export function compareAttributes(
  document: VerifiedDocument | null,
  traits: unknown,
  mappings: readonly (TraitMapping & { field: VerifiedAttribute })[],
  ruleSet: RuleSet,
): AttributeComparison {
  const attributes: AttributeComparison['attributes'] = {};
  for (const { field, traitPath } of mappings) {
    const verified = document?.[field];
    const registered = traitAt(traits, traitPath);
    attributes[field] =
      !present(verified) || !present(registered)
        ? 'missing'
        : RULES[ruleSet][KINDS[field]](verified, registered)
          ? 'match'
          : 'mismatch';
  }
  const results = Object.values(attributes);
  const outcome = results.includes('mismatch') ? 'mismatch' : results.includes('missing') ? 'missing' : 'match';
  return { outcome, attributes };
}
