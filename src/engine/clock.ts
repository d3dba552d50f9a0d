/**
 * Time in the engine is a number of milliseconds passed in by the caller (`now`), never read from a global
 * clock: tests drive a virtual clock, the proxy passes `Date.now()`-like values, the packet worker passes a
 * coarse per-batch time. `Clock` is the small interface the layers above hand around.
 */
export interface Clock {
  now(): number;
}

/** A clock tests advance by hand. */
export class ManualClock implements Clock {
  #t: number;
  constructor(start = 1_000_000) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  advance(ms: number): number {
    this.#t += ms;
    return this.#t;
  }
  set(ms: number): void {
    this.#t = ms;
  }
}
