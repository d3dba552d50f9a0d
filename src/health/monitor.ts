/**
 * The one place that turns check results into an up/down state (Seesaw `healthcheck/core.go`'s
 * `Check.run`/`healthcheck`, HAProxy's rise/fall). A monitor runs its checker every `intervalMs`
 * (+-10% jitter, so many monitors started together spread out), never two checks at once, and:
 *   up   -> down after `fall` consecutive failures,
 *   down -> up   after `rise` consecutive successes,
 *   while no check has completed yet, one failure takes an 'up' monitor down (HAProxy "up, going down"):
 *   a dead RS at start-up is out after its first check, not after `fall` intervals.
 * A watchdog fails a check that outlives `timeoutMs` even if the checker ignores its signal.
 */
import type { Checker, CheckResult, HealthTarget } from './checker.js';
import { ABORTED_REASON, describeError, timeoutReason } from './checker.js';
import { assertValidTiming, createChecker as defaultCreateChecker } from './registry.js';
import type { HealthCheckSpec } from './spec.js';
import type { TimerHandle, Timers } from './timers.js';
import { realTimers } from './timers.js';

export type HealthState = 'up' | 'down';

export interface TransitionEvent {
  readonly state: HealthState;
  readonly previous: HealthState;
  /** The check that caused the transition; its `reason` says why. */
  readonly result: CheckResult;
  readonly at: number;
}

export interface MonitorStatus {
  readonly state: HealthState;
  readonly lastResult: CheckResult | null;
  readonly consecutiveOk: number;
  readonly consecutiveFail: number;
  /** Checks completed and counted (aborted ones are not). */
  readonly checks: number;
  /** When the state last changed (or the monitor was created). */
  readonly since: number;
}

export type CheckerFactoryFn = (spec: HealthCheckSpec, timers: Timers) => Checker;

export interface HealthMonitorOptions {
  target: HealthTarget;
  spec: HealthCheckSpec;
  /** 'up' by default; 'down' makes a new RS earn `rise` successes first (keepalived `alpha`). */
  initialState?: HealthState;
  onTransition?: (event: TransitionEvent) => void;
  timers?: Timers;
  /** Uniform in [0, 1); drives the jitter. */
  random?: () => number;
  createChecker?: CheckerFactoryFn;
}

/** Each wait is the interval times a factor uniform in [1 - JITTER, 1 + JITTER). */
export const JITTER = 0.1;
/** The watchdog leaves the checker this long past `timeoutMs` to report its own timeout (with detail). */
export const WATCHDOG_GRACE_MS = 50;

interface InFlight {
  readonly controller: AbortController;
  readonly promise: Promise<CheckResult>;
  /** Settles the check now (stop, watchdog); later reports from the checker are ignored. */
  readonly cancel: (result: CheckResult, counted: boolean) => void;
}

export class HealthMonitor {
  readonly #target: HealthTarget;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #createChecker: CheckerFactoryFn;
  readonly #onTransition: ((event: TransitionEvent) => void) | undefined;
  #spec: HealthCheckSpec;
  #checker: Checker;
  #state: HealthState;
  #since: number;
  #lastResult: CheckResult | null = null;
  #okRun = 0;
  #failRun = 0;
  #checks = 0;
  /** No check completed since creation or the last change of kind. */
  #fresh = true;
  /** Bumped when the kind changes: results of checks started before are not counted. */
  #epoch = 0;
  #running = false;
  #wait: TimerHandle | undefined;
  #nextAt = 0;
  #inFlight: InFlight | undefined;

  constructor(options: HealthMonitorOptions) {
    this.#target = options.target;
    this.#timers = options.timers ?? realTimers;
    this.#random = options.random ?? Math.random;
    this.#createChecker = options.createChecker ?? defaultCreateChecker;
    this.#onTransition = options.onTransition;
    assertValidTiming(options.spec);
    this.#spec = options.spec;
    this.#checker = this.#createChecker(options.spec, this.#timers);
    this.#state = options.initialState ?? 'up';
    this.#since = this.#timers.now();
  }

  get target(): HealthTarget {
    return this.#target;
  }

  get spec(): HealthCheckSpec {
    return this.#spec;
  }

  get running(): boolean {
    return this.#running;
  }

  status(): MonitorStatus {
    return {
      state: this.#state,
      lastResult: this.#lastResult,
      consecutiveOk: this.#okRun,
      consecutiveFail: this.#failRun,
      checks: this.#checks,
      since: this.#since,
    };
  }

  /** Starts checking; the first check runs within the first 10% of an interval. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (!this.#inFlight) this.#schedule(Math.floor(this.#unitRandom() * JITTER * this.#spec.intervalMs));
  }

  /** Stops checking and aborts a check in flight (its result is not counted). Idempotent. */
  stop(): void {
    this.#running = false;
    this.#clearWait();
    this.#inFlight?.cancel({ ok: false, reason: ABORTED_REASON, durationMs: 0 }, false);
  }

  /**
   * Takes effect at the next check: interval, timeout, rise/fall and checker settings change without
   * touching the state or counters. A different kind resets the counters (evidence from another check
   * does not count towards this one) and the check in flight, if any, is not counted; the state is kept.
   */
  update(spec: HealthCheckSpec): void {
    assertValidTiming(spec);
    const checker = this.#createChecker(spec, this.#timers); // throws before anything changes
    const kindChanged = spec.kind !== this.#spec.kind;
    this.#spec = spec;
    this.#checker = checker;
    if (kindChanged) {
      this.#epoch++;
      this.#okRun = 0;
      this.#failRun = 0;
      this.#fresh = true;
    }
    // A long wait from the old interval should not delay the new, shorter one.
    const maxWait = Math.ceil(spec.intervalMs * (1 + JITTER));
    if (this.#wait !== undefined && this.#nextAt - this.#timers.now() > maxWait) {
      this.#clearWait();
      this.#schedule(this.#jitteredInterval());
    }
  }

  /**
   * Runs a check now (or joins the one in flight) and counts it; the regular schedule restarts from its
   * end. Works on a stopped monitor too (one check, no schedule).
   */
  checkNow(): Promise<CheckResult> {
    return this.#runCheck();
  }

  #runCheck(): Promise<CheckResult> {
    if (this.#inFlight) return this.#inFlight.promise;
    this.#clearWait();
    const timers = this.#timers;
    const spec = this.#spec;
    const epoch = this.#epoch;
    const controller = new AbortController();
    const started = timers.now();
    let settle!: (r: CheckResult) => void;
    const promise = new Promise<CheckResult>((resolve) => (settle = resolve));
    let done = false;
    const finish = (result: CheckResult, counted: boolean) => {
      if (done) return;
      done = true;
      timers.clearTimeout(watchdog);
      if (this.#inFlight === flight) this.#inFlight = undefined;
      if (counted && epoch === this.#epoch) this.#record(result);
      if (this.#running && this.#wait === undefined) this.#schedule(this.#jitteredInterval());
      settle(result);
    };
    const watchdog = timers.setTimeout(() => {
      controller.abort(new Error(timeoutReason(spec.timeoutMs)));
      finish({ ok: false, reason: timeoutReason(spec.timeoutMs), durationMs: timers.now() - started }, true);
    }, spec.timeoutMs + WATCHDOG_GRACE_MS);
    const flight: InFlight = {
      controller,
      promise,
      cancel: (result, counted) => {
        controller.abort(new Error(result.reason));
        finish(result, counted);
      },
    };
    this.#inFlight = flight;
    let pending: Promise<CheckResult>;
    try {
      pending = this.#checker.check(this.#target, controller.signal);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (result) => finish(result, true),
      (err) => {
        const d = describeError(err);
        finish({ ...d, reason: `checker error: ${d.reason}`, durationMs: timers.now() - started }, true);
      },
    );
    return promise;
  }

  #record(result: CheckResult): void {
    const wasFresh = this.#fresh;
    this.#fresh = false;
    this.#checks++;
    this.#lastResult = result;
    if (result.ok) {
      this.#okRun++;
      this.#failRun = 0;
      if (this.#state === 'down' && this.#okRun >= this.#spec.rise) this.#transition('up', result);
    } else {
      this.#failRun++;
      this.#okRun = 0;
      if (this.#state === 'up' && (wasFresh || this.#failRun >= this.#spec.fall))
        this.#transition('down', result);
    }
  }

  #transition(state: HealthState, result: CheckResult): void {
    const previous = this.#state;
    this.#state = state;
    this.#since = this.#timers.now();
    if (!this.#onTransition) return;
    try {
      this.#onTransition({ state, previous, result, at: this.#since });
    } catch (err) {
      // A broken listener must not stop the checks; make it visible without crashing the daemon.
      process.emitWarning(
        `health transition listener threw: ${describeError(err).reason}`,
        'TslvsHealthWarning',
      );
    }
  }

  #schedule(delay: number): void {
    this.#nextAt = this.#timers.now() + delay;
    this.#wait = this.#timers.setTimeout(() => {
      this.#wait = undefined;
      void this.#runCheck();
    }, delay);
  }

  #clearWait(): void {
    if (this.#wait === undefined) return;
    this.#timers.clearTimeout(this.#wait);
    this.#wait = undefined;
  }

  #unitRandom(): number {
    const r = this.#random();
    return Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0.5;
  }

  #jitteredInterval(): number {
    const factor = 1 + JITTER * (2 * this.#unitRandom() - 1);
    return Math.max(1, Math.round(this.#spec.intervalMs * factor));
  }
}
