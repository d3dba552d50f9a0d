/**
 * The clock and timers the health layer runs on, as an interface so the rise/fall, jitter and timeout
 * logic can be driven by a virtual clock in tests (no sleeps). `now()` is wall-clock milliseconds: it
 * stamps transitions (`at`, `since`) that operators read next to log lines.
 */

/** Opaque: only ever handed back to the `clearTimeout` of the `Timers` that made it. */
export type TimerHandle = unknown;

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realTimers: Timers = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

interface FakeTimer {
  readonly seq: number;
  readonly at: number;
  readonly fn: () => void;
}

/** Lets every queued promise continuation run (setImmediate fires after the microtask queue drains). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A virtual clock. Time moves only through `advance`, which fires due timers in deadline order (ties in
 * creation order) with `now()` set to each timer's deadline, and lets promise continuations run after
 * each one, so a timer that starts async work which schedules another timer inside the window is seen.
 */
export class FakeTimers implements Timers {
  #now: number;
  #seq = 0;
  readonly #pending = new Map<number, FakeTimer>();

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const seq = ++this.#seq;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#pending.set(seq, { seq, at: this.#now + delay, fn });
    return seq;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#pending.delete(handle);
  }

  /** Number of timers not yet fired or cleared. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Deadlines of the pending timers, earliest first, relative to now. */
  pendingDelays(): number[] {
    return [...this.#pending.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + Math.max(0, ms);
    await flushMicrotasks();
    for (;;) {
      const next = this.#earliest();
      if (!next || next.at > until) break;
      this.#pending.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await flushMicrotasks();
    }
    this.#now = until;
  }

  /** Advances straight to the earliest pending timer and fires it (and anything due at that instant). */
  async advanceToNext(): Promise<number> {
    const next = this.#earliest();
    if (!next) return 0;
    const delta = Math.max(0, next.at - this.#now);
    await this.advance(delta);
    return delta;
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#pending.values()) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
