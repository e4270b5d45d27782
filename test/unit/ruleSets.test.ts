import { describe, expect, it } from 'vitest';
import { RULES, type AttributeKind, type RuleSet } from '../../src/matching/ruleSets.js';

/**
 * Pairs of what a document says and what the traits hold, and whether each rule set takes them
 * for the same: [kind, document, trait, exact, relaxed, duo].
 */
const PAIRS: [AttributeKind, string, string, boolean, boolean, boolean][] = [
  // The same text, however Unicode spells it.
  ['given_names', 'Zoë', 'Zoe\u0308', true, true, true],
  ['family_name', 'Ｄｏｅ', 'Doe', true, true, true],
  ['family_name', '  Doe ', 'Doe', true, true, true],
  // Case: documents print capitals.
  ['given_names', 'JANE', 'Jane', false, true, true],
  ['family_name', 'DOE', 'Doe', false, true, true],
  ['family_name', 'STRASSER', 'Straßer', false, true, true],
  // Accents.
  ['given_names', 'JOSE', 'José', false, true, true],
  ['family_name', 'MULLER', 'Müller', false, true, false],
  ['family_name', 'Łukasiewicz', 'Lukasiewicz', false, true, false],
  ['family_name', 'SØRENSEN', 'Sorensen', false, true, false],
  // Transliterations are other spellings, not accents: no rule set takes them.
  ['family_name', 'MUELLER', 'Müller', false, false, false],
  ['given_names', 'Иван', 'Ivan', false, false, false],
  // Only Latin, Greek and Cyrillic diacritics: other scripts write letters with marks.
  ['given_names', 'ΕΛΕΝΗ', 'Ελένη', false, true, true],
  ['family_name', 'NGUYEN', 'Nguyễn', false, true, false],
  ['given_names', 'रीमा', 'राम', false, false, false],
  ['family_name', 'さとう', 'さどう', false, false, false],
  ['family_name', 'ごとう', 'ことう', false, false, false],
  ['family_name', 'さどう', 'さと\u3099う', true, true, true],
  // A name without a letter agrees with none.
  ['family_name', '-', "'", false, false, false],
  ['family_name', 'Schmidt', 'Schmitt', false, false, false],
  // Hyphenated and compound names, apostrophes.
  ['family_name', 'SMITH-JONES', 'Smith Jones', false, true, false],
  ['family_name', 'Smith-Jones', 'Smith–Jones', false, true, false],
  ['family_name', "O'BRIEN", 'OBrien', false, true, false],
  ['family_name', 'O’Brien', "O'Brien", false, true, false],
  ['family_name', 'van der Berg', 'Van Der Berg', false, true, true],
  ['family_name', 'VANDERBERG', 'van der Berg', false, true, false],
  ['family_name', 'GARCIA LOPEZ', 'Lopez Garcia', false, false, false],
  ['family_name', 'Smith', 'Smith-Jones', false, false, false],
  // Given names: their order, spacing, one or two edits.
  ['given_names', 'MARY ANN', 'Ann Mary', false, true, false],
  ['given_names', 'Jean-Luc', 'Jean Luc', false, true, true],
  ['given_names', 'Mary  Ann', 'Mary Ann', false, true, true],
  ['given_names', 'ANNA', 'Ann', false, false, true],
  ['given_names', 'JON', 'John', false, false, true],
  ['given_names', 'KATHERINE', 'Catherine', false, false, true],
  ['given_names', 'Jonathan', 'Jonathon', false, false, true],
  ['given_names', 'ANNIKA', 'Ann', false, false, false],
  ['given_names', 'ALEXANDER', 'Alex', false, false, false],
  ['given_names', 'KRISTOPHER', 'Christophe', false, false, false],
  ['given_names', 'Mary', 'Mary Ann', false, false, false],
  ['given_names', 'STEVEN', 'Stephen', false, false, true],
  // Short names: one edit at most, for two make most of them others (twins share the rest).
  ['given_names', 'AL', 'Ed', false, false, false],
  ['given_names', 'LI', 'Wu', false, false, false],
  ['given_names', 'ANN', 'Amy', false, false, false],
  ['given_names', 'MAX', 'Mia', false, false, false],
  ['given_names', 'EVA', 'Ada', false, false, false],
  // ...and one edit still joins some: duo's tolerance, which the README warns of.
  ['given_names', 'IAN', 'Dan', false, false, true],
  // Dates compare as dates whatever their format, under every rule set.
  ['date', '1987-03-14', '1987-03-14', true, true, true],
  ['date', '1987-03-14', '14.03.1987', true, true, true],
  ['date', '1987-03-14', '03/14/1987', true, true, true],
  ['date', '1987-03-14', '14/03/1987', true, true, true],
  ['date', '1987-03-14', '19870314', true, true, true],
  ['date', '1987-03-14', '14 March 1987', true, true, true],
  ['date', '1987-03-14', 'Mar 14, 1987', true, true, true],
  ['date', '1987-03-14', '1987-03-14T00:00:00Z', true, true, true],
  ['date', '1987-03-14', '1987-3-14', true, true, true],
  ['date', '1987-03-14', '1987-03-15', false, false, false],
  ['date', '1987-03-14', '1987-14-03', false, false, false],
  // A day and month either way round could be two dates: never a match.
  ['date', '1987-04-03', '03/04/1987', false, false, false],
  ['date', '1987-04-04', '04/04/1987', true, true, true],
  ['date', '1987-03-14', '14/03/87', false, false, false],
  ['date', '1987-03-14', 'mid-March 1987', false, false, false],
  ['date', '2023-02-29', '2023-02-29', false, false, false],
];

const RULE_SETS: RuleSet[] = ['exact', 'relaxed', 'duo'];

describe('the rule sets', () => {
  it.each(PAIRS)('%s: document %j, traits %j -> exact %s, relaxed %s, duo %s', (kind, document, trait, ...expected) => {
    const found = RULE_SETS.map((ruleSet) => RULES[ruleSet][kind](document, trait));
    expect(found).toEqual(expected);
  });

  it('compare symmetrically', () => {
    for (const [kind, document, trait] of PAIRS) {
      for (const ruleSet of RULE_SETS) {
        expect(RULES[ruleSet][kind](trait, document), `${ruleSet} ${kind} ${trait} ${document}`).toBe(
          RULES[ruleSet][kind](document, trait),
        );
      }
    }
  });
});
