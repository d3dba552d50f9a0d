/**
 * VRRP deadlines run on a monotonic clock: a wall-clock step (NTP, an operator) must never fire or
 * postpone a Master_Down_Timer. Wall-clock time is used only to stamp transitions for people.
 */
import type { Timers } from '../health/timers.js';

export const monotonicTimers: Timers = Object.freeze({
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
