import { calendarDate } from './dates.js';
import { caseless, nameWords, normalised, withinEdits } from './names.js';

/** ATTRIBUTE_MATCH_RULES: how strictly a verified document must agree with the traits. */
export const RULE_SETS = ['exact', 'relaxed', 'duo'] as const;
export type RuleSet = (typeof RULE_SETS)[number];

/** What an attribute holds, which decides how it is compared. */
export type AttributeKind = 'given_names' | 'family_name' | 'date';

/** Whether two present values agree: the document's first, the traits' second. */
type Agreement = (document: string, trait: string) => boolean;

/** Dates agree when they name the same day, under every rule set; a text naming no date agrees with none. */
const sameDate: Agreement = (document, trait) => {
  const day = calendarDate(document);
  return day !== undefined && day === calendarDate(trait);
};

/** The same words in the same order, however they are spaced, hyphenated or joined. */
const sameWords: Agreement = (document, trait) => nameWords(document).join('') === nameWords(trait).join('');

/** The same given names in any order (`Mary Ann` and `Ann Mary`), or the same words joined. */
const sameGivenNames: Agreement = (document, trait) => {
  const sorted = (text: string) => nameWords(text).sort().join(' ');
  return sameWords(document, trait) || sorted(document) === sorted(trait);
};

const sameNormalised: Agreement = (document, trait) => normalised(document) === normalised(trait);
const sameCaseless: Agreement = (document, trait) => caseless(document) === caseless(trait);

/**
 * The rule sets, one pure function per kind of attribute:
 * - `exact`: equal after Unicode normalisation (NFKC) and trimming;
 * - `relaxed`: also regardless of case, diacritics, whitespace, hyphens and apostrophes, and of
 *   the order of given names;
 * - `duo` (after Cisco Duo's identity verification): given names within two edits, family name
 *   equal, both regardless of case (documents print names in capitals).
 */
export const RULES: Record<RuleSet, Record<AttributeKind, Agreement>> = {
  exact: { given_names: sameNormalised, family_name: sameNormalised, date: sameDate },
  relaxed: { given_names: sameGivenNames, family_name: sameWords, date: sameDate },
  duo: {
    given_names: (document, trait) => withinEdits(caseless(document), caseless(trait), 2),
    family_name: sameCaseless,
    date: sameDate,
  },
};
