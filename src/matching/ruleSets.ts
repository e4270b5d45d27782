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

/**
 * Compares the words of two names with `same`; a name without a word (`-`, `'`) agrees with none:
 * what is left of it proves nothing.
 */
const byWords =
  (same: (document: string[], trait: string[]) => boolean): Agreement =>
  (document, trait) => {
    const [documentWords, traitWords] = [nameWords(document), nameWords(trait)];
    return documentWords.length > 0 && traitWords.length > 0 && same(documentWords, traitWords);
  };

const inOrder = (document: string[], trait: string[]) => document.join('') === trait.join('');
const inAnyOrder = (document: string[], trait: string[]) =>
  [...document].sort().join(' ') === [...trait].sort().join(' ');

/** The same words in the same order, however they are spaced, hyphenated or joined. */
const sameWords = byWords(inOrder);

/** The same given names in any order (`Mary Ann` and `Ann Mary`), or the same words joined. */
const sameGivenNames = byWords((document, trait) => inOrder(document, trait) || inAnyOrder(document, trait));

/** A given name this short is held to one edit. */
const SHORT_NAME_CHARACTERS = 4;

/**
 * Given names regardless of case, within two edits as Cisco Duo allows; within one where the
 * shorter has at most SHORT_NAME_CHARACTERS, for two edits turn most short names into others
 * (`Ann` and `Amy`, `Al` and `Ed`), and twins share the last name and birthdate.
 */
const closeGivenNames: Agreement = (document, trait) => {
  const [a, b] = [caseless(document), caseless(trait)];
  const shorter = Math.min(Array.from(a).length, Array.from(b).length);
  return withinEdits(a, b, shorter <= SHORT_NAME_CHARACTERS ? 1 : 2);
};

const sameNormalised: Agreement = (document, trait) => normalised(document) === normalised(trait);
const sameCaseless: Agreement = (document, trait) => caseless(document) === caseless(trait);

/**
 * The rule sets, one pure function per kind of attribute:
 * - `exact`: equal after Unicode normalisation (NFKC) and trimming;
 * - `relaxed`: also regardless of case, Latin, Greek and Cyrillic diacritics, whitespace, hyphens
 *   and apostrophes, and of the order of given names;
 * - `duo` (after Cisco Duo's identity verification): given names within two edits (one for names
 *   of four characters or fewer), family name equal, both regardless of case (documents print
 *   names in capitals).
 */
export const RULES: Record<RuleSet, Record<AttributeKind, Agreement>> = {
  exact: { given_names: sameNormalised, family_name: sameNormalised, date: sameDate },
  relaxed: { given_names: sameGivenNames, family_name: sameWords, date: sameDate },
  duo: {
    given_names: closeGivenNames,
    family_name: sameCaseless,
    date: sameDate,
  },
};
