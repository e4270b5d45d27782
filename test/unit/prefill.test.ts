import { describe, expect, it } from 'vitest';
import { prefillFromTraits } from '../../src/verification/prefill.js';

const mapping = [
  { field: 'name-first', traitPath: ['name', 'first'] },
  { field: 'email-address', traitPath: ['email'] },
  { field: 'birthdate', traitPath: ['birthdate'] },
];

describe('prefillFromTraits', () => {
  it('copies mapped traits that are present', () => {
    expect(prefillFromTraits({ name: { first: 'Jane' }, email: 'jane@example.com' }, mapping)).toEqual({
      'name-first': 'Jane',
      'email-address': 'jane@example.com',
    });
  });

  it.each([null, undefined, 'text', [], { name: 'Jane Doe' }, { name: { first: '  ' } }, { email: { value: 'x' } }])(
    'leaves out what is missing or not a value in %j',
    (traits) => expect(prefillFromTraits(traits, mapping)).toEqual({}),
  );

  it('never reads inherited properties', () => {
    expect(prefillFromTraits({}, [{ field: 'x', traitPath: ['constructor', 'name'] }])).toEqual({});
  });
});
