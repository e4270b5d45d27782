import { describe, expect, it } from 'vitest';
import { caseless, nameWords, normalised, withinEdits } from '../../src/matching/names.js';

describe('name forms', () => {
  it('normalises Unicode and trims for exact', () => {
    expect(normalised(' Zoe\u0308 ')).toBe('Zoë');
    expect(normalised('ﬁnn')).toBe('finn');
  });

  it('folds case and spacing for duo, keeping diacritics', () => {
    expect(caseless(' STRAẞER  Müller ')).toBe('strasser müller');
  });

  it('reduces a name to bare words for relaxed', () => {
    expect(nameWords("Zoë-Ann  O'Brien")).toEqual(['zoe', 'ann', 'obrien']);
    expect(nameWords('ŁUKASZ Ørsted—Þórsdóttir')).toEqual(['lukasz', 'orsted', 'thorsdottir']);
    expect(nameWords(" - ' ")).toEqual([]);
  });
});

describe('withinEdits', () => {
  it.each([
    ['john', 'john', 0, true],
    ['jon', 'john', 1, true],
    ['jon', 'john', 0, false],
    ['katherine', 'catherine', 1, true],
    ['ann', 'annika', 2, false],
    ['ann', 'annika', 3, true],
    ['', 'ab', 2, true],
    // Counted in characters: an astral character is one.
    ['𝒜nn', 'Ann', 1, true],
  ])('%j to %j within %i edits: %s', (a, b, limit, expected) => {
    expect(withinEdits(a, b, limit)).toBe(expected);
    expect(withinEdits(b, a, limit)).toBe(expected);
  });

  it('gives up early on very different lengths', () => {
    expect(withinEdits('a'.repeat(100_000), 'a', 2)).toBe(false);
  });
});
