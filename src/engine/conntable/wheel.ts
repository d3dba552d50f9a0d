/**
 * A hashed timer wheel over the session table's entries (links live in the entries themselves, words
 * WNEXT/WPREV), so expiry costs O(expired), not O(table).
 *
 * Re-arming on every packet would move the entry between lists and touch two neighbours' cache lines per
 * packet, so re-arming is lazy: a packet only moves the expiry time forward, and when the entry's slot
 * comes round the wheel finds it not yet due and links it where it now belongs. The table relinks at once
 * only when an expiry moves *earlier* (a state change to a shorter timeout).
 */
import { HEAD, STRIDE, W } from './layout.js';

export class TimerWheel {
  readonly tickMs: number;
  readonly slots: number;
  /** List heads; index `slots` is the list of entries being processed ("pending"). */
  readonly #heads: Uint32Array;
  readonly #pending: number;
  #e: Uint32Array;
  /** Last tick whose slot was moved to pending; -1 before the first advance. */
  #lastTick = -1;
  /** Earliest tick linked before the first advance, where the first sweep must start. */
  #firstTick = Number.POSITIVE_INFINITY;

  constructor(entries: Uint32Array, tickMs: number, slots: number) {
    this.#e = entries;
    this.tickMs = tickMs;
    this.slots = slots;
    this.#heads = new Uint32Array(slots + 1);
    this.#pending = slots;
  }

  get byteLength(): number {
    return this.#heads.byteLength;
  }

  /** Links `id` to the slot of absolute time `at` (ms). */
  link(id: number, at: number): void {
    let tick = Math.floor(at / this.tickMs);
    if (this.#lastTick < 0) this.#firstTick = Math.min(this.#firstTick, tick);
    else if (tick <= this.#lastTick) tick = this.#lastTick + 1;
    this.#push(id, tick % this.slots);
  }

  #push(id: number, slot: number): void {
    const e = this.#e;
    const head = this.#heads[slot]!;
    const b = id * STRIDE;
    e[b + W.WNEXT] = head;
    e[b + W.WPREV] = HEAD | slot;
    if (head !== 0) e[head * STRIDE + W.WPREV] = id;
    this.#heads[slot] = id;
  }

  unlink(id: number): void {
    const e = this.#e;
    const b = id * STRIDE;
    const prev = e[b + W.WPREV]!;
    const next = e[b + W.WNEXT]!;
    if (prev & HEAD) this.#heads[prev & ~HEAD] = next;
    else e[prev * STRIDE + W.WNEXT] = next;
    if (next !== 0) e[next * STRIDE + W.WPREV] = prev;
    e[b + W.WNEXT] = 0;
    e[b + W.WPREV] = 0;
  }

  /**
   * The next entry to look at for time `now`, unlinked from the wheel, or 0 when every slot before
   * `now`'s tick has been drained. The caller expires it or links it again.
   */
  nextCandidate(now: number): number {
    const nowTick = Math.floor(now / this.tickMs);
    if (this.#lastTick < 0) this.#lastTick = Math.min(nowTick, this.#firstTick) - 1;
    for (;;) {
      const id = this.#heads[this.#pending]!;
      if (id !== 0) {
        this.unlink(id);
        return id;
      }
      // Only slots of ticks that are wholly past: every entry in them is due unless it was re-armed.
      if (this.#lastTick + 1 >= nowTick) return 0;
      if (nowTick - this.#lastTick > this.slots) this.#lastTick = nowTick - this.slots - 1;
      this.#lastTick++;
      const slot = this.#lastTick % this.slots;
      const head = this.#heads[slot]!;
      if (head !== 0) {
        this.#heads[slot] = 0;
        this.#heads[this.#pending] = head;
        this.#e[head * STRIDE + W.WPREV] = HEAD | this.#pending;
      }
    }
  }

  /** Entries array was replaced (never happens today: capacity is fixed). */
  rebind(entries: Uint32Array): void {
    this.#e = entries;
  }
}
