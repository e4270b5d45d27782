import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['365d', 31_536_000_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
  ])('reads %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '24', 'h', '1 day', '-1h', '0s', '1.5h', '24H'])('refuses %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});
