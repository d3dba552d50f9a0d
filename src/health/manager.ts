/**
 * Owns the monitors of a running config, keyed by an opaque id (the daemon uses 'service/rs'). `sync`
 * moves from the running set to a desired one touching only what changed and says what it changed;
 * applying the same set twice changes nothing (after Katran `lib/Vip.h`). Transitions are forwarded to
 * one callback: the daemon, not this layer, maps them onto the engine's service model.
 */
import { ipEquals } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import type { CheckResult, HealthTarget } from './checker.js';
import type { CheckerFactoryFn, HealthState, MonitorStatus, TransitionEvent } from './monitor.js';
import { HealthMonitor } from './monitor.js';
import { assertValidTiming, createChecker as defaultCreateChecker } from './registry.js';
import type { HealthCheckSpec } from './spec.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';

export interface DesiredCheck {
  readonly id: string;
  readonly target: HealthTarget;
  readonly spec: HealthCheckSpec;
  /** Overrides the manager's default for a monitor this sync creates. */
  readonly initialState?: HealthState;
}

export interface SyncChanges {
  readonly added: string[];
  readonly removed: string[];
  /** Spec changed (state kept, see `HealthMonitor.update`) or target changed (monitor replaced). */
  readonly updated: string[];
}

export interface HealthManagerOptions {
  onTransition?: (id: string, event: TransitionEvent) => void;
  initialState?: HealthState;
  timers?: Timers;
  random?: () => number;
  createChecker?: CheckerFactoryFn;
}

export interface MonitorEntry {
  readonly id: string;
  readonly target: HealthTarget;
  readonly spec: HealthCheckSpec;
  readonly status: MonitorStatus;
}

export class HealthManager {
  readonly #monitors = new Map<string, HealthMonitor>();
  readonly #options: HealthManagerOptions;
  readonly #createChecker: CheckerFactoryFn;

  constructor(options: HealthManagerOptions = {}) {
    this.#options = options;
    this.#createChecker = options.createChecker ?? defaultCreateChecker;
  }

  /**
   * Validates the whole desired set first (unique ids, every spec buildable), so a bad entry changes
   * nothing; then starts new monitors, stops removed ones and updates changed ones.
   */
  sync(desired: readonly DesiredCheck[]): SyncChanges {
    const byId = new Map<string, DesiredCheck>();
    for (const [i, d] of desired.entries()) {
      if (typeof d.id !== 'string' || d.id === '') {
        throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `health check #${i} has no id`, { index: i });
      }
      if (byId.has(d.id)) {
        throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `health check id '${d.id}' appears twice`, {
          id: d.id,
        });
      }
      byId.set(d.id, d);
      const current = this.#monitors.get(d.id);
      if (current && sameTarget(current.target, d.target) && specEquals(current.spec, d.spec)) continue;
      try {
        assertValidTiming(d.spec);
        this.#createChecker(d.spec, this.#options.timers ?? realTimers);
      } catch (err) {
        if (err instanceof TslvsError) {
          throw new TslvsError(
            err.code,
            `health check '${d.id}': ${err.message}`,
            { id: d.id, ...err.details },
            {
              cause: err,
            },
          );
        }
        throw err;
      }
    }

    const changes: SyncChanges = { added: [], removed: [], updated: [] };
    for (const [id, monitor] of this.#monitors) {
      if (byId.has(id)) continue;
      monitor.stop();
      this.#monitors.delete(id);
      changes.removed.push(id);
    }
    for (const [id, d] of byId) {
      const current = this.#monitors.get(id);
      if (!current) {
        this.#startMonitor(d);
        changes.added.push(id);
      } else if (!sameTarget(current.target, d.target)) {
        current.stop();
        this.#startMonitor(d);
        changes.updated.push(id);
      } else if (!specEquals(current.spec, d.spec)) {
        current.update(d.spec);
        changes.updated.push(id);
      }
    }
    return changes;
  }

  status(id: string): MonitorStatus | undefined {
    return this.#monitors.get(id)?.status();
  }

  all(): MonitorEntry[] {
    return [...this.#monitors].map(([id, m]) => ({ id, target: m.target, spec: m.spec, status: m.status() }));
  }

  /** Runs one check of `id` now; undefined when there is no such monitor. */
  checkNow(id: string): Promise<CheckResult> | undefined {
    return this.#monitors.get(id)?.checkNow();
  }

  /** Stops every monitor (shutdown); a later `sync` starts from nothing. */
  stop(): void {
    for (const m of this.#monitors.values()) m.stop();
    this.#monitors.clear();
  }

  #startMonitor(d: DesiredCheck): void {
    const { onTransition, timers, random } = this.#options;
    const monitor = new HealthMonitor({
      target: d.target,
      spec: d.spec,
      initialState: d.initialState ?? this.#options.initialState ?? 'up',
      createChecker: this.#createChecker,
      ...(timers ? { timers } : {}),
      ...(random ? { random } : {}),
      ...(onTransition ? { onTransition: (event: TransitionEvent) => onTransition(d.id, event) } : {}),
    });
    this.#monitors.set(d.id, monitor);
    monitor.start();
  }
}

function sameTarget(a: HealthTarget, b: HealthTarget): boolean {
  return a.port === b.port && ipEquals(a.address, b.address);
}

/** Structural equality of plain spec data (numbers, strings, booleans, arrays, objects). */
export function specEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => specEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
