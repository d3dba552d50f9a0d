/**
 * VRRP timer maths in milliseconds. Exact binary fractions: every divisor is 256, so a value such as
 * 609.375 ms is represented exactly and tests can compare with `===`.
 */
import { PRIORITY_OWNER } from './types.js';

/** Adverts a backup may miss before it takes over (the 3 of RFC 5798 §6.1; keepalived's down_timer_adverts). */
export const DOWN_TIMER_ADVERTS = 3;

/**
 * Skew_Time. v2 (RFC 3768 §6.1): (256 - Priority) / 256 seconds, whatever the interval. v3 (RFC 5798
 * §6.1): ((256 - Priority) * Master_Adver_Interval) / 256. The address owner counts as 255 (keepalived
 * uses the base priority for it, which tracking never changes).
 */
export function skewMs(version: 2 | 3, priority: number, masterAdverIntervalMs: number): number {
  const p = Math.min(PRIORITY_OWNER, Math.max(0, priority));
  return version === 2 ? ((256 - p) * 1000) / 256 : ((256 - p) * masterAdverIntervalMs) / 256;
}

/** Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time (RFC 5798 §6.1, RFC 3768 §6.1). */
export function masterDownMs(version: 2 | 3, priority: number, masterAdverIntervalMs: number): number {
  return DOWN_TIMER_ADVERTS * masterAdverIntervalMs + skewMs(version, priority, masterAdverIntervalMs);
}

/**
 * Compares primary addresses as unsigned numbers in network order (RFC 5798 §6.4.3 "larger"):
 * negative, 0 or positive like a sort comparator. Different families compare as equal (never happens
 * within one instance: an instance serves one family).
 */
export function compareAddress(
  a: { family: number; words: readonly number[] },
  b: { family: number; words: readonly number[] },
): number {
  if (a.family !== b.family) return 0;
  for (let i = 0; i < 4; i++) {
    const d = (a.words[i] ?? 0) - (b.words[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
