/** No check: the RS is always up (keepalived without a checker; a weight-only or drained RS). */
import type { Checker } from './checker.js';
import type { NoneSpec } from './spec.js';

const ALWAYS_UP = Object.freeze({ ok: true, reason: 'no check configured', durationMs: 0 });

export function createNoneChecker(_spec?: NoneSpec): Checker {
  return { check: async () => ALWAYS_UP };
}
