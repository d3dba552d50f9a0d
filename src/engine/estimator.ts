/**
 * Rate estimation as IPVS's `ip_vs_est.c`: every 2 s the counters' increase becomes an instantaneous
 * rate, smoothed by an exponentially weighted moving average with weight 1/4 (`avg += (rate - avg) / 4`).
 * Gives ipvsadm --rate's CPS, InPPS, OutPPS, InBPS, OutBPS for services and real servers.
 */
import { COUNTER_STRIDE, type CounterBlock } from './counters.js';

export const ESTIMATOR_INTERVAL_MS = 2000;

export interface Rates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

export class RateEstimator {
  readonly #block: CounterBlock;
  #last = new Float64Array(0);
  #avg = new Float64Array(0);
  #lastAt = -1;

  constructor(block: CounterBlock) {
    this.#block = block;
  }

  /** Call about every ESTIMATOR_INTERVAL_MS; uses the real elapsed time. */
  tick(now: number): void {
    const v = this.#block.values;
    if (this.#last.length < v.length) {
      const last = new Float64Array(v.length);
      last.set(this.#last);
      // New ids start from their current counts so they do not show a burst.
      for (let i = this.#last.length; i < v.length; i++) last[i] = v[i]!;
      const avg = new Float64Array(v.length);
      avg.set(this.#avg);
      this.#last = last;
      this.#avg = avg;
    }
    if (this.#lastAt < 0) {
      this.#last.set(v.subarray(0, this.#last.length));
      this.#lastAt = now;
      return;
    }
    const dt = (now - this.#lastAt) / 1000;
    if (dt <= 0) return;
    this.#lastAt = now;
    for (let i = 0; i < v.length; i++) {
      const delta = v[i]! - this.#last[i]!;
      this.#last[i] = v[i]!;
      // A counter reset (ipvsadm -Z) reads as a negative delta: treat as zero traffic.
      const rate = delta > 0 ? delta / dt : 0;
      this.#avg[i]! += (rate - this.#avg[i]!) / 4;
    }
  }

  /** Smoothed rates of one service or dest id; bytes per second for the byte rates. */
  rates(id: number): Rates {
    const b = id * COUNTER_STRIDE;
    const a = this.#avg;
    if (b + 4 >= a.length) return { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
    return {
      cps: Math.round(a[b]!),
      inpps: Math.round(a[b + 1]!),
      outpps: Math.round(a[b + 2]!),
      inbps: Math.round(a[b + 3]!),
      outbps: Math.round(a[b + 4]!),
    };
  }

  /** Forget an id's history (counters zeroed, id reused). */
  reset(id: number): void {
    const b = id * COUNTER_STRIDE;
    if (b + COUNTER_STRIDE > this.#avg.length) return;
    this.#avg.fill(0, b, b + COUNTER_STRIDE);
    this.#last.set(this.#block.values.subarray(b, b + COUNTER_STRIDE), b);
  }
}
