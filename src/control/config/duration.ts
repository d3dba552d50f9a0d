/**
 * Durations as people write them in config files: "300s", "2s", "1m", "500ms", "1h", compounds like
 * "1m30s", or a plain number meaning seconds (ipvsadm and keepalived count in seconds).
 */

/** Timers in Node (setTimeout) overflow past 2^31-1 ms, so no duration may exceed that (~24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Milliseconds for `value`, or a reason it is not a duration. Fractions of a millisecond are rounded. */
export function parseDuration(value: unknown): { ms: number } | { error: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { error: 'must be a non-negative number of seconds' };
    return checkRange(value * 1000);
  }
  if (typeof value !== 'string')
    return { error: 'must be a duration like 300s, 1m, 500ms or a number of seconds' };
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return checkRange(Number(s) * 1000);
  if (s === '') return { error: 'must be a duration like 300s, 1m, 500ms or a number of seconds' };
  let total = 0;
  PART_RE.lastIndex = 0;
  while (PART_RE.lastIndex < s.length) {
    const m = PART_RE.exec(s);
    if (!m) return { error: 'must be a duration like 300s, 1m, 500ms, 1h30m or a number of seconds' };
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return checkRange(total);
}

function checkRange(ms: number): { ms: number } | { error: string } {
  const rounded = Math.round(ms);
  if (rounded > MAX_DURATION_MS) return { error: 'is too long (the maximum is 24d20h31m23s)' };
  return { ms: rounded };
}

/** The shortest exact text form of `ms` ("1m30s", "500ms", "0s"), as the importer and docs print it. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
