import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { loadMessageCatalogue } from '../../src/messages/catalogue.js';

const SHIPPED = new URL('../../src/messages/', import.meta.url);
const readTexts = (name: string) => JSON.parse(readFileSync(new URL(name, SHIPPED), 'utf8')) as Record<string, unknown>;
const shippedFiles = readdirSync(SHIPPED).filter((name) => name.endsWith('.json'));

describe('the shipped message files', () => {
  const english = readTexts('en.json');

  it('ship English and German at least', () => {
    expect(shippedFiles).toEqual(expect.arrayContaining(['en.json', 'de.json']));
  });

  it.each(shippedFiles)('%s has every key of en.json, no other, each a text of its own', (name) => {
    const texts = readTexts(name);
    expect(Object.keys(texts).sort()).toEqual(Object.keys(english).sort());
    for (const [key, text] of Object.entries(texts)) {
      expect(typeof text, key).toBe('string');
      expect((text as string).trim(), key).not.toBe('');
      if (name !== 'en.json') expect(text, `${name} ${key} is untranslated`).not.toBe(english[key]);
    }
  });

  it('never show a raw parameter or code name to a person', () => {
    for (const name of shippedFiles) {
      for (const [key, text] of Object.entries(readTexts(name))) {
        expect(text, `${name} ${key}`).not.toMatch(/return_to|[a-z]+_[a-z]+|\{|\}|<|>/);
      }
    }
  });

  it('load without problems, English first', () => {
    const catalogue = loadMessageCatalogue();
    expect(catalogue.problems).toEqual([]);
    expect(catalogue.languages[0]).toBe('en');
    expect(catalogue.languages).toEqual(expect.arrayContaining(['de']));
  });
});

describe('choosing the language by Accept-Language', () => {
  const catalogue = loadMessageCatalogue();
  const chosen = (header: string | undefined) => catalogue.negotiate(header).language;

  it.each([
    ['de-DE,de;q=0.9,en;q=0.8', 'de'],
    ['de-CH', 'de'],
    ['fr-FR,fr;q=0.9,de;q=0.5', 'de'],
    ['en-US,en;q=0.9', 'en'],
    ['en;q=0.8,de;q=0.9', 'de'],
    ['fr', 'en'],
    ['de;q=0', 'en'],
    ['*', 'en'],
    ['', 'en'],
    [undefined, 'en'],
    ['%%%;;;,,q=x', 'en'],
  ])('%j: %s', (header, language) => {
    expect(chosen(header)).toBe(language);
  });

  it('gives the texts of the chosen language', () => {
    expect(catalogue.negotiate('de').text('error.unauthenticated.title')).toBe('Bitte melden Sie sich an');
    expect(catalogue.negotiate('en').text('error.unauthenticated.title')).toBe('Please sign in');
  });

  it('tells keys it has from keys it has not', () => {
    const messages = catalogue.negotiate(undefined);
    expect(messages.has('error.unauthenticated.title')).toBe(true);
    expect(messages.has('error.no_such_code.title')).toBe(false);
  });
});

describe('a language an operator adds', () => {
  let directory: string;
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  /** A directory with the shipped English file and `files` beside it. */
  function withFiles(files: Record<string, string>) {
    directory = mkdtempSync(join(tmpdir(), 'messages-'));
    copyFileSync(new URL('en.json', SHIPPED), join(directory, 'en.json'));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(directory, name), content);
    return pathToFileURL(`${directory}/`);
  }

  it('is chosen by its file name; keys it lacks show in English, and both are reported', () => {
    const catalogue = loadMessageCatalogue(
      withFiles({
        'fr.json': JSON.stringify({ 'error.unauthenticated.title': 'Veuillez vous connecter', 'page.typo': 'x' }),
      }),
    );
    const french = catalogue.negotiate('fr-CA,en;q=0.5');
    expect(french.language).toBe('fr');
    expect(french.text('error.unauthenticated.title')).toBe('Veuillez vous connecter');
    expect(french.text('link.sign_in')).toBe('Sign in');
    expect(catalogue.problems).toEqual([
      expect.stringMatching(/^messages\/fr\.json: shown in English for lack of .*link\.sign_in/),
      'messages/fr.json: ignored unknown keys page.typo',
    ]);
  });

  it.each([
    ['fr.json', '{"link.sign_in": "Se connecter",}', /messages\/fr\.json: is not a readable JSON file/],
    ['fr.json', '{"link.sign_in": 42}', /messages\/fr\.json: must be one JSON object of texts by key \(link\.sign_in/],
    ['fr.json', '["Se connecter"]', /messages\/fr\.json: must be one JSON object/],
    ['fr.json', '{"link.sign_in": "  "}', /messages\/fr\.json: .*has an empty text/],
    ['fr_FR.json', '{}', /messages\/fr_FR\.json: the file name must be a language tag/],
  ])('refuses %s holding %s, naming the file', (name, content, problem) => {
    const load = () => loadMessageCatalogue(withFiles({ [name]: content }));
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(problem);
  });

  it('refuses a directory it cannot read, naming it', () => {
    const url = withFiles({});
    rmSync(directory, { recursive: true });
    expect(() => loadMessageCatalogue(url)).toThrow(/messages\/: the directory cannot be read/);
  });

  it('refuses a directory without English, which every language falls back to', () => {
    const url = withFiles({ 'de.json': '{}' });
    rmSync(join(directory, 'en.json'));
    expect(() => loadMessageCatalogue(url)).toThrow(/messages\/en\.json: is missing/);
  });
});
