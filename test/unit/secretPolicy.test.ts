import { describe, expect, it } from 'vitest';
import { isPlaceholder, secretProblem, sharedSecrets } from '../../src/security/secretPolicy.js';

describe('secretProblem', () => {
  it.each([
    ['openssl rand -hex 32', '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a Persona webhook secret', 'wbhsec_4c8e2a9f1d7b3e6a0c5f9d2b8e1a7c3f'],
    ['16 random hex characters', 'c3a9e1f70b2d5846'],
  ])('accepts %s', (_name, value) => expect(secretProblem(value)).toBeUndefined());

  it.each([
    ['too short', 'abc123', 'too_short'],
    ['the placeholder of ory-actions.yaml', 'CHANGE-ME-ORY_WEBHOOK_SECRET', 'shipped_example'],
    ['a placeholder in another spelling', 'please_changeme_0123456789', 'shipped_example'],
    ['the old compose example', 'compose-ory-webhook-secret-0123456789', 'shipped_example'],
    ['an unfilled compose variable', '${ORY_WEBHOOK_SECRET}', 'shipped_example'],
    ['an elided example', 'wbhsec_0123...cdef', 'shipped_example'],
    ['one character', 'aaaaaaaaaaaaaaaaaaaa', 'too_little_variety'],
    ['five characters', 'abcdeabcdeeeddccbbaa', 'too_little_variety'],
    ['a repeated unit', 'Secret1!Secret1!Secret1!', 'too_little_variety'],
    ["a placeholder behind Persona's public prefix", 'wbhsec_xxxxxxxxxxxxxxxxxxxxxxxx', 'shipped_example'],
    ["one character behind Persona's public prefix", 'wbhsec_0000000000000000', 'too_little_variety'],
    ['the production check script of before', 'production-check-secret-0123456789', 'shipped_example'],
  ])('refuses %s', (_name, value, problem) => expect(secretProblem(value)).toBe(problem));
});

describe('isPlaceholder', () => {
  it.each([
    'CHANGE-ME',
    'itmpl_ReplaceWithYourTemplate',
    'replace_me',
    '<project-slug>',
    '${PERSONA_API_KEY}',
    'xxxxxxxx',
  ])('recognises %s', (value) => expect(isPlaceholder(value)).toBe(true));

  it.each(['itmpl_abc123', 'Blocked: please call us about the exchange meeting.', 'https://idv.example.com', '...'])(
    'leaves %s alone',
    (value) => expect(isPlaceholder(value)).toBe(false),
  );
});

describe('sharedSecrets', () => {
  it('reports every pair of variables sharing a value once, on the later one', () => {
    expect(
      sharedSecrets([
        ['A', ['one', 'two']],
        ['B', undefined],
        ['C', ['three', 'two']],
        ['D', ['two']],
      ]),
    ).toEqual([
      { variable: 'C', sharesWith: 'A' },
      { variable: 'D', sharesWith: 'A' },
      { variable: 'D', sharesWith: 'C' },
    ]);
    expect(
      sharedSecrets([
        ['A', ['one']],
        ['B', ['two']],
      ]),
    ).toEqual([]);
  });
});
