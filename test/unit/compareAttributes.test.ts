import { describe, expect, it } from 'vitest';
import { compareAttributes } from '../../src/matching/compareAttributes.js';

const MAPPINGS = [
  { field: 'name-first' as const, traitPath: ['name', 'first'] },
  { field: 'name-last' as const, traitPath: ['name', 'last'] },
  { field: 'birthdate' as const, traitPath: ['birthdate'] },
];
const TRAITS = { name: { first: 'Zéphyrine', last: 'Okonkwo-Hale' }, birthdate: '14.03.1987' };
const DOCUMENT = { 'name-first': 'ZEPHYRINE', 'name-last': 'OKONKWO HALE', birthdate: '1987-03-14' };

describe('compareAttributes', () => {
  it('matches when every mapped attribute agrees', () => {
    expect(compareAttributes([DOCUMENT], TRAITS, MAPPINGS, 'relaxed')).toEqual({
      outcome: 'match',
      attributes: { 'name-first': 'match', 'name-last': 'match', birthdate: 'match' },
    });
  });

  it('names the attribute that does not agree, and a mismatch outweighs what is missing', () => {
    const comparison = compareAttributes(
      [{ ...DOCUMENT, birthdate: '1987-03-15' }],
      { ...TRAITS, name: { first: 'Zéphyrine' } },
      MAPPINGS,
      'relaxed',
    );
    expect(comparison).toEqual({
      outcome: 'mismatch',
      attributes: { 'name-first': 'match', 'name-last': 'missing', birthdate: 'mismatch' },
    });
  });

  it.each([
    ['a trait the identity lacks', [DOCUMENT], { name: { first: 'Zéphyrine', last: 'Okonkwo-Hale' } }],
    ['a blank trait', [DOCUMENT], { ...TRAITS, birthdate: '  ' }],
    ['a trait that is no text', [DOCUMENT], { ...TRAITS, birthdate: 19870314 }],
    ['traits that are no object', [DOCUMENT], 'Zéphyrine'],
    ['a document field the document lacks', [{ 'name-first': 'ZEPHYRINE', 'name-last': 'OKONKWO HALE' }], TRAITS],
    ['a field of one document of two', [DOCUMENT, { 'name-first': 'ZEPHYRINE', 'name-last': 'OKONKWO HALE' }], TRAITS],
    ['no passed document at all', [], TRAITS],
  ])('never counts %s as a match', (_name, document, traits) => {
    const comparison = compareAttributes(document, traits, MAPPINGS, 'relaxed');
    expect(comparison.outcome).toBe('missing');
    expect(comparison.attributes.birthdate).toBe('missing');
  });

  it.each([
    ['a dash', '-', '-'],
    ['an apostrophe against a dash', "'", '-'],
    ['filler characters', '<<<', '<<<'],
  ])(
    'counts a value without a letter or digit (%s) as missing, under every rule set',
    (_name, verified, registered) => {
      for (const ruleSet of ['exact', 'relaxed', 'duo'] as const) {
        const comparison = compareAttributes(
          [{ ...DOCUMENT, 'name-last': verified }],
          { ...TRAITS, name: { ...TRAITS.name, last: registered } },
          MAPPINGS,
          ruleSet,
        );
        expect(comparison.attributes['name-last'], ruleSet).toBe('missing');
      }
    },
  );

  it("holds every passed document of the inquiry to the traits: someone else's cannot hide behind the person's own", () => {
    const borrowed = { 'name-first': 'MARGUERITE', 'name-last': 'DUPONT', birthdate: '1990-11-02' };
    for (const documents of [
      [DOCUMENT, borrowed],
      [borrowed, DOCUMENT],
    ]) {
      expect(compareAttributes(documents, TRAITS, MAPPINGS, 'relaxed')).toEqual({
        outcome: 'mismatch',
        attributes: { 'name-first': 'mismatch', 'name-last': 'mismatch', birthdate: 'mismatch' },
      });
    }
    // Two captures of the person's own document, printed differently, match as one does.
    const again = { 'name-first': 'Zéphyrine', 'name-last': 'OKONKWO-HALE', birthdate: '14.03.1987' };
    expect(compareAttributes([DOCUMENT, again], TRAITS, MAPPINGS, 'relaxed').outcome).toBe('match');
  });

  it('compares only the mapped attributes, under the rule set asked for', () => {
    const mappings = [{ field: 'name-first' as const, traitPath: ['name', 'first'] }];
    expect(compareAttributes([DOCUMENT], TRAITS, mappings, 'relaxed').attributes).toEqual({ 'name-first': 'match' });
    expect(compareAttributes([DOCUMENT], TRAITS, mappings, 'exact')).toEqual({
      outcome: 'mismatch',
      attributes: { 'name-first': 'mismatch' },
    });
  });

  it('keeps no value in its result', () => {
    const serialised = JSON.stringify(compareAttributes([DOCUMENT], TRAITS, MAPPINGS, 'duo'));
    expect(serialised).not.toMatch(/ph|okonkwo|1987/i);
  });
});
