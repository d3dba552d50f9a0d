/**
 * Where the engine lives, seen from the control plane. In proxy mode the Balancer is in this thread
 * (`LocalEngineHost`); in packet mode it lives in the packet worker and the same operations travel as
 * messages. Either way the control plane only sends `EngineOp` batches and reads snapshots.
 */
import { adviseHugePages } from '../dataplane/hugepages.js';
import { Balancer, type BalancerOptions } from '../engine/balancer.js';
import type { Clock } from '../engine/clock.js';
import { RateEstimator } from '../engine/estimator.js';
import { applyEngineOps, type EngineOp } from '../engine/ops.js';
import {
  type ConnFilter,
  type ConnSnapshot,
  type EngineSnapshot,
  listConns,
  snapshotEngine,
} from '../engine/snapshot.js';

export interface EngineHost {
  /** Applies a batch atomically (all or nothing); rejects with a TslvsError. */
  apply(ops: readonly EngineOp[]): Promise<void>;
  snapshot(): Promise<EngineSnapshot>;
  conns(filter: ConnFilter, offset: number, limit: number): Promise<{ total: number; items: ConnSnapshot[] }>;
  close(): Promise<void>;
}

/** A monotonic millisecond clock for the engine (wall-clock jumps must not expire sessions). */
export const monotonicClock: Clock = { now: () => performance.now() };

export class LocalEngineHost implements EngineHost {
  readonly balancer: Balancer;
  readonly clock: Clock;
  readonly #rates: { services: RateEstimator; dests: RateEstimator };
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(opts: BalancerOptions, clock: Clock = monotonicClock) {
    this.balancer = new Balancer(opts);
    adviseHugePages(this.balancer.conns.largeArrays);
    this.clock = clock;
    this.#rates = {
      services: new RateEstimator(this.balancer.services.stats),
      dests: new RateEstimator(this.balancer.dests.stats),
    };
  }

  /** Starts housekeeping: session expiry every 100 ms (bounded work) and rate estimation every 2 s. */
  start(): void {
    const expire = setInterval(() => this.balancer.tick(this.clock.now(), 200_000), 100);
    const estimate = setInterval(() => {
      const now = this.clock.now();
      this.#rates.services.tick(now);
      this.#rates.dests.tick(now);
    }, 2000);
    expire.unref();
    estimate.unref();
    this.#timers.push(expire, estimate);
    this.#rates.services.tick(this.clock.now());
    this.#rates.dests.tick(this.clock.now());
  }

  async apply(ops: readonly EngineOp[]): Promise<void> {
    applyEngineOps(this.balancer, ops);
  }

  async snapshot(): Promise<EngineSnapshot> {
    return snapshotEngine(this.balancer, this.#rates);
  }

  async conns(filter: ConnFilter, offset: number, limit: number) {
    return listConns(this.balancer, filter, offset, limit, this.clock.now());
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
  }
}
