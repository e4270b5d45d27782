const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d|w))+$/;
const PART_PATTERN = /(\d+)(ms|s|m|h|d|w)/g;

/**
 * The longest delay `setTimeout` and `setInterval` hold: Node runs a longer one after 1 ms
 * (a warning, then a timer storm), so every duration a timer consumes stays at or below it.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** Parses durations such as `90s`, `24h`, `365d` or `1h30m` into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION_PATTERN.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART_PATTERN)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

/** Writes milliseconds in the largest unit that divides them, as `parseDuration` reads it: `7d`, `90s`. */
export function formatDuration(ms: number): string {
  const units = Object.entries(UNIT_MS).reverse() as [keyof typeof UNIT_MS, number][];
  const [unit, size] = units.find(([, unitMs]) => ms % unitMs === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}
