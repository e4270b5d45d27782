/** Apostrophes and the letters used as apostrophes in names (O'Brien, O’Brien, Oʻahu). */
const APOSTROPHES = /['’‘ʼʻ`´′]/gu;
/** Whitespace and every dash (hyphen, non-breaking hyphen, en dash...). */
const SEPARATORS = /[\s\p{Pd}]+/u;
/**
 * The combining diacritics of Latin, Greek and Cyrillic (Combining Diacritical Marks and their
 * Extended, Supplement, for Symbols and Half Marks blocks), which NFKD splits off accented letters.
 * Only these: other scripts write letters with marks (Devanagari vowel signs, the kana voicing
 * mark), so that `रीमा` and `राम`, or `さとう` and `さどう`, stay different names.
 */
const DIACRITICS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/gu;
/** Latin letters whose diacritic is part of the letter, so decomposition leaves them whole. */
const WHOLE_LETTERS: Record<string, string> = {
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  ħ: 'h',
  ı: 'i',
  ŧ: 't',
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  þ: 'th',
};
const WHOLE_LETTER = new RegExp(`[${Object.keys(WHOLE_LETTERS).join('')}]`, 'gu');

/** Unicode's compatibility normal form, trimmed: `exact` compares names in this form. */
export const normalised = (text: string) => text.normalize('NFKC').trim();

/**
 * Upper then lower case, so that `ß` and `SS` meet (the capital `ẞ` comes back as `ß`, hence the
 * last step): close to Unicode's full case folding.
 */
const caseFolded = (text: string) => text.toUpperCase().toLowerCase().replaceAll('ß', 'ss');

/** Normalised, case folded, runs of whitespace made one space: `duo` compares names in this form. */
export const caseless = (text: string) => caseFolded(normalised(text)).replace(/\s+/gu, ' ');

/**
 * The words of a name without case, diacritics, apostrophes, hyphens and spacing: `relaxed`
 * compares names in this form. `Zoë-Ann O'Brien` gives `zoe`, `ann`, `obrien`.
 */
export function nameWords(text: string): string[] {
  const bare = caseFolded(text.normalize('NFKD').replace(DIACRITICS, ''))
    .replace(WHOLE_LETTER, (letter) => WHOLE_LETTERS[letter] ?? letter)
    .replace(APOSTROPHES, '');
  return bare.split(SEPARATORS).filter((word) => word !== '');
}

/**
 * Whether `a` becomes `b` with at most `limit` insertions, deletions or substitutions of
 * characters (Levenshtein distance, counted in code points, not UTF-16 units).
 */
export function withinEdits(a: string, b: string, limit: number): boolean {
  const from = Array.from(a);
  const to = Array.from(b);
  if (Math.abs(from.length - to.length) > limit) return false;
  let previous = Array.from({ length: to.length + 1 }, (_, index) => index);
  for (const [i, char] of from.entries()) {
    const current = [i + 1];
    for (const [j, other] of to.entries()) {
      current.push(
        Math.min(
          (previous[j + 1] as number) + 1,
          (current[j] as number) + 1,
          (previous[j] as number) + (char === other ? 0 : 1),
        ),
      );
    }
    if (Math.min(...current) > limit) return false;
    previous = current;
  }
  return (previous[to.length] as number) <= limit;
}
