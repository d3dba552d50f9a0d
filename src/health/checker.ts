/**
 * The one interface every health checker implements (after Seesaw `healthcheck/core.go`'s `Checker`),
 * plus the plumbing they share: a deadline that merges the caller's abort signal with the per-check
 * timeout, and the mapping of errors to short, human reasons. A checker never throws: every failure
 * becomes a `CheckResult` with a reason.
 */
import type { IpAddress } from '../engine/addr.js';
import { formatIp } from '../engine/addr.js';
import type { Timers } from './timers.js';

export interface HealthTarget {
  readonly address: IpAddress;
  readonly port: number;
}

export interface CheckResult {
  readonly ok: boolean;
  /** Short and human: 'connect ECONNREFUSED', 'http status 503 not in [200]', 'timeout after 1000ms'. */
  readonly reason: string;
  readonly durationMs: number;
  /** Longer context when there is some: the full error message, the tail of a script's output. */
  readonly detail?: string;
}

export interface Checker {
  check(target: HealthTarget, signal: AbortSignal): Promise<CheckResult>;
}

/** What a checker body reports on success or on a failure it recognised itself (wrong status, ...). */
export interface Outcome {
  readonly ok: boolean;
  readonly reason: string;
  readonly detail?: string;
}

const MAX_REASON = 160;

export function truncate(s: string, max = MAX_REASON): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}

export function timeoutReason(timeoutMs: number): string {
  return `timeout after ${timeoutMs}ms`;
}

export const ABORTED_REASON = 'aborted';

/** The port a check talks to: the spec's override (keepalived `connect_port`) or the RS port. */
export function checkPort(target: HealthTarget, override: number | undefined): number {
  return override ?? target.port;
}

/** The address as a URL/Host-header authority part: IPv6 in brackets. */
export function hostLiteral(target: HealthTarget): string {
  const text = formatIp(target.address);
  return target.address.family === 6 ? `[${text}]` : text;
}

/**
 * 'connect ECONNREFUSED' for system errors, 'CODE: message' for coded library errors (TLS, HTTP parser),
 * the message otherwise. The full message goes to `detail`.
 */
export function describeError(err: unknown): Outcome {
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    const code = typeof e.code === 'string' ? e.code : undefined;
    let reason: string;
    if (code && e.syscall) reason = `${e.syscall} ${code}`;
    else if (code) reason = `${code}: ${e.message}`;
    else reason = e.message || e.name;
    return { ok: false, reason: truncate(reason), detail: err.message };
  }
  return { ok: false, reason: truncate(`failed: ${String(err)}`) };
}

/**
 * Runs one check body under a deadline. The body gets a signal that aborts on the caller's abort or when
 * `timeoutMs` passes; it must then release its socket/child and settle (any way) promptly. The result is
 * built here, once: timing, the timeout/abort reason, and errors turned into reasons.
 */
export async function runWithDeadline(
  timers: Timers,
  timeoutMs: number,
  outer: AbortSignal,
  body: (signal: AbortSignal) => Promise<Outcome>,
): Promise<CheckResult> {
  const started = timers.now();
  const result = (o: Outcome): CheckResult => ({ ...o, durationMs: Math.max(0, timers.now() - started) });
  if (outer.aborted) return result({ ok: false, reason: ABORTED_REASON });

  const inner = new AbortController();
  let timedOut = false;
  const onOuterAbort = () => inner.abort(outer.reason);
  outer.addEventListener('abort', onOuterAbort, { once: true });
  const timer = timers.setTimeout(() => {
    timedOut = true;
    inner.abort(new Error(timeoutReason(timeoutMs)));
  }, timeoutMs);

  let outcome: Outcome;
  try {
    outcome = await body(inner.signal);
  } catch (err) {
    outcome = describeError(err);
  } finally {
    timers.clearTimeout(timer);
    outer.removeEventListener('abort', onOuterAbort);
  }
  // Whatever the body reported after its signal fired is a consequence of the abort, not the RS state,
  // but keep what it said (e.g. a script's last output) as detail.
  if (timedOut) return result({ ok: false, reason: timeoutReason(timeoutMs), detail: outcome.detail });
  if (inner.signal.aborted) return result({ ok: false, reason: ABORTED_REASON, detail: outcome.detail });
  return result(outcome);
}

/** Settles a body's promise once and runs its cleanup exactly once, whichever event comes first. */
export function settleOnce<T>(
  resolve: (v: T) => void,
  reject: (e: unknown) => void,
  cleanup: () => void,
): { ok(v: T): void; fail(e: unknown): void; readonly done: boolean } {
  let done = false;
  return {
    ok(v: T) {
      if (done) return;
      done = true;
      cleanup();
      resolve(v);
    },
    fail(e: unknown) {
      if (done) return;
      done = true;
      cleanup();
      reject(e);
    },
    get done() {
      return done;
    },
  };
}
