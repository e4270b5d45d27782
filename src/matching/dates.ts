const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** 1 to 12 for an English month name or an abbreviation of at least three letters (`Sep`, `Sept`). */
const monthNumber = (name: string) => {
  const lower = name.toLowerCase();
  return lower.length >= 3 ? MONTHS.findIndex((month) => month.startsWith(lower)) + 1 : 0;
};

/** `YYYY-MM-DD` when the numbers name a day of the calendar (no 31 April, no 29 February 2023). */
function isoDate(year: number, month: number, day: number): string | undefined {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1000 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    return undefined;
  return date.toISOString().slice(0, 10);
}

/** Day and month in an order the text does not say (`03/04/1990`): only one reading may be a date. */
function eitherOrder(first: number, second: number, year: number): string | undefined {
  const dayFirst = isoDate(year, second, first);
  const monthFirst = isoDate(year, first, second);
  if (dayFirst !== undefined && monthFirst !== undefined && dayFirst !== monthFirst) return undefined;
  return dayFirst ?? monthFirst;
}

const PATTERNS: [RegExp, (parts: string[]) => string | undefined][] = [
  // ISO 8601 (Persona's `birthdate`), also with a time, whose date is taken as written.
  [
    /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/,
    ([y, m, d]) => isoDate(+y!, +m!, +d!),
  ],
  [/^(\d{4})(\d{2})(\d{2})$/, ([y, m, d]) => isoDate(+y!, +m!, +d!)],
  // Dots put the day first (`14.03.1987`), as everywhere they are used.
  [/^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, ([d, m, y]) => isoDate(+y!, +m!, +d!)],
  [/^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$/, ([a, b, y]) => eitherOrder(+a!, +b!, +y!)],
  [/^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4})$/i, ([d, m, y]) => isoDate(+y!, monthNumber(m!), +d!)],
  [/^([a-z]+)\.?[\s-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s-]+(\d{4})$/i, ([m, d, y]) => isoDate(+y!, monthNumber(m!), +d!)],
];

/**
 * The calendar date a text names, as `YYYY-MM-DD`, so that dates are compared as dates whatever
 * their format: ISO 8601, `YYYYMMDD`, `DD.MM.YYYY`, `DD/MM/YYYY` or `MM/DD/YYYY` where only one
 * reading is a date, and English month names. Undefined when the text names no date, or two.
 * Two-digit years are refused: their century is a guess.
 */
export function calendarDate(text: string): string | undefined {
  const trimmed = text.normalize('NFKC').trim();
  for (const [pattern, read] of PATTERNS) {
    const parts = pattern.exec(trimmed);
    if (parts !== null) return read(parts.slice(1));
  }
  return undefined;
}
