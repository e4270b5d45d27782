import { readdirSync, readFileSync } from 'node:fs';
import Negotiator from 'negotiator';
import { z } from 'zod';
import { ConfigError } from '../config.js';
import type english from './en.json';

/** Every text users see, by key; `en.json` holds them all. */
export type MessageKey = keyof typeof english;

/** The language every other file is checked against and falls back to, key by key. */
export const DEFAULT_LANGUAGE = 'en';

/** The texts of one language. */
export interface Messages {
  /** The file's language tag, for `<html lang>`. */
  language: string;
  text(key: MessageKey): string;
  /** For keys built from data, such as an error code. */
  has(key: string): key is MessageKey;
}

export interface MessageCatalogue {
  /** The languages there are files for, the default first. */
  languages: readonly string[];
  /** Keys a file lacks (shown in the default language) or has in vain, for the start-up log. */
  problems: readonly string[];
  /** The language an `Accept-Language` header prefers among those there are; the default when none fits. */
  negotiate(acceptLanguage: string | undefined): Messages;
}

/** Where the shipped files are: beside this module, in src/ and in dist/ alike (tsconfig.build.json). */
const SHIPPED_DIRECTORY = new URL('./', import.meta.url);

/** Negotiated Accept-Language headers remembered, and the longest one worth remembering. */
const NEGOTIATED_LIMIT = 1_000;
const NEGOTIATED_HEADER_MAX_LENGTH = 256;

const messageFile = z.record(z.string(), z.string().trim().min(1, 'has an empty text').max(2_000));

const isLanguageTag = (tag: string) => {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
};

function readMessageFile(directory: URL, name: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(new URL(name, directory), 'utf8'));
  } catch (error) {
    throw new ConfigError([`messages/${name}: is not a readable JSON file (${(error as Error).message})`]);
  }
  const result = messageFile.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError([
      `messages/${name}: must be one JSON object of texts by key (${issue?.path.join('.') || 'file'}: ${issue?.message})`,
    ]);
  }
  return result.data;
}

/**
 * One JSON file per language, named by its language tag (`en.json`, `de.json`, `pt-BR.json`): an
 * operator adds a language by adding a file. A file may leave keys out; those show in English.
 */
export function loadMessageCatalogue(directory: URL = SHIPPED_DIRECTORY): MessageCatalogue {
  let names: string[];
  try {
    names = readdirSync(directory).filter((name) => name.endsWith('.json'));
  } catch (error) {
    throw new ConfigError([`messages/: the directory cannot be read (${(error as Error).message})`]);
  }
  const badNames = names.filter((name) => !isLanguageTag(name.slice(0, -'.json'.length)));
  if (badNames.length > 0)
    throw new ConfigError(
      badNames.map((name) => `messages/${name}: the file name must be a language tag, e.g. fr.json`),
    );
  if (!names.includes(`${DEFAULT_LANGUAGE}.json`))
    throw new ConfigError([`messages/${DEFAULT_LANGUAGE}.json: is missing; every other language falls back to it`]);

  const fallback = readMessageFile(directory, `${DEFAULT_LANGUAGE}.json`);
  const keys = Object.keys(fallback);
  const problems: string[] = [];
  const dictionaries = new Map<string, Record<string, string>>([[DEFAULT_LANGUAGE, fallback]]);
  for (const name of names.filter((name) => name !== `${DEFAULT_LANGUAGE}.json`).sort()) {
    const texts = readMessageFile(directory, name);
    const missing = keys.filter((key) => !(key in texts));
    const unknown = Object.keys(texts).filter((key) => !(key in fallback));
    if (missing.length > 0) problems.push(`messages/${name}: shown in English for lack of ${missing.join(', ')}`);
    if (unknown.length > 0) problems.push(`messages/${name}: ignored unknown keys ${unknown.join(', ')}`);
    dictionaries.set(name.slice(0, -'.json'.length), { ...fallback, ...texts });
  }

  const catalogue = new Map(
    [...dictionaries].map(([language, texts]): [string, Messages] => [
      language,
      {
        language,
        text: (key) => texts[key] as string,
        has: (key): key is MessageKey => key in fallback,
      },
    ]),
  );
  const languages = [...catalogue.keys()];
  const byDefault = catalogue.get(DEFAULT_LANGUAGE) as Messages;
  // The login gate negotiates on every block; browsers send a handful of distinct headers.
  const negotiated = new Map<string, Messages>();

  return {
    languages,
    problems,
    negotiate(acceptLanguage) {
      if (!acceptLanguage) return byDefault;
      const known = negotiated.get(acceptLanguage);
      if (known !== undefined) return known;
      // negotiator ranks by quality, then by how exactly a tag matches (de-CH takes de).
      const language = new Negotiator({ headers: { 'accept-language': acceptLanguage } }).language(languages);
      const messages = (language === undefined ? undefined : catalogue.get(language)) ?? byDefault;
      if (acceptLanguage.length <= NEGOTIATED_HEADER_MAX_LENGTH) {
        if (negotiated.size >= NEGOTIATED_LIMIT) negotiated.clear();
        negotiated.set(acceptLanguage, messages);
      }
      return messages;
    },
  };
}
