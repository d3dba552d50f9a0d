/**
 * The cache behind lblc and lblcr: entries keyed by a packet's destination address, in typed arrays
 * chained from 1024 buckets (`IP_VS_LBLC_TAB_BITS` 10), at most 16 * 1024 + 1 of them (IPVS refuses a
 * new entry once the count is above `max_size`). Garbage collection follows `ip_vs_lblc_check_expire`.
 *
 * The bucket hash is seeded (IPVS uses plain `hash_32`): the keys are attacker-chosen and bucket order
 * never changes a pick, only which idle entries an over-full table drops first.
 */
import type { Family } from '../addr.js';
import { fmix32, mixWord } from '../hash.js';

const BUCKET_BITS = 10;
const BUCKETS = 1 << BUCKET_BITS;
export const LOCALITY_MAX_SIZE = BUCKETS * 16;
/** `CHECK_EXPIRE_INTERVAL`. */
export const CHECK_INTERVAL_MS = 60_000;
/** `ENTRY_TIMEOUT`: idle time after which an over-full table may drop an entry. */
export const ENTRY_TIMEOUT_MS = 6 * 60_000;
/** `DEFAULT_EXPIRATION` (sysctl lblc_expiration / lblcr_expiration): idle entries go at the full check. */
export const DEFAULT_EXPIRATION_MS = 24 * 3_600_000;
/** `COUNT_FOR_FULL_EXPIRATION`: every 30th check is a full one. */
const FULL_EVERY = 30;

export class LocalityTable {
  readonly maxSize: number;
  /** Per entry: the cached dest (lblc) or the head of its dest set (lblcr). */
  value = new Int32Array(0);
  /** Per entry, lblcr only: dest set size and last modification time. */
  setSize = new Int32Array(0);
  setLastMod = new Float64Array(0);
  lastUse = new Float64Array(0);
  #af = new Uint8Array(0);
  #addr = new Uint32Array(0);
  #next = new Int32Array(0);
  readonly #bucket = new Int32Array(BUCKETS).fill(-1);
  #free: Int32Array = new Int32Array(0);
  #freeTop = 0;
  #count = 0;
  #rover = 0;
  #counter = 1;
  #nextCheck = Number.NaN;
  readonly #seed: number;
  readonly #onFree: ((entry: number) => void) | undefined;

  constructor(seed: number, onFree?: (entry: number) => void, maxSize = LOCALITY_MAX_SIZE) {
    this.#seed = seed;
    this.#onFree = onFree;
    this.maxSize = maxSize;
  }

  get size(): number {
    return this.#count;
  }

  #hash(af: Family, words: Uint32Array, base: number): number {
    let h = mixWord(this.#seed, words[base]!);
    if (af === 6) for (let i = 1; i < 4; i++) h = mixWord(h, words[base + i]!);
    return fmix32(h ^ af) & (BUCKETS - 1);
  }

  #matches(e: number, af: Family, words: Uint32Array): boolean {
    if (this.#af[e] !== af) return false;
    const b = e * 4;
    if (this.#addr[b] !== words[0]) return false;
    return (
      af === 4 ||
      (this.#addr[b + 1] === words[1] && this.#addr[b + 2] === words[2] && this.#addr[b + 3] === words[3])
    );
  }

  /** The entry for this address, or -1. */
  find(af: Family, words: Uint32Array): number {
    for (let e = this.#bucket[this.#hash(af, words, 0)]!; e >= 0; e = this.#next[e]!) {
      if (this.#matches(e, af, words)) return e;
    }
    return -1;
  }

  /** A new entry (the caller checked there is none), or -1 when the table is full. */
  add(af: Family, words: Uint32Array, now: number): number {
    if (this.#count > this.maxSize) return -1;
    if (this.#freeTop === 0) this.#grow();
    const e = this.#free[--this.#freeTop]!;
    this.#af[e] = af;
    const b = e * 4;
    for (let i = 0; i < 4; i++) this.#addr[b + i] = af === 4 && i > 0 ? 0 : words[i]!;
    this.lastUse[e] = now;
    this.value[e] = -1;
    this.setSize[e] = 0;
    this.setLastMod[e] = now;
    const h = this.#hash(af, words, 0);
    this.#next[e] = this.#bucket[h]!;
    this.#bucket[h] = e;
    this.#count++;
    return e;
  }

  /** Unlinks and frees an entry. */
  delete(e: number): void {
    const h = this.#hash(this.#af[e] as Family, this.#addr, e * 4);
    let prev = -1;
    for (let x = this.#bucket[h]!; x >= 0; prev = x, x = this.#next[x]!) {
      if (x !== e) continue;
      if (prev < 0) this.#bucket[h] = this.#next[x]!;
      else this.#next[prev] = this.#next[x]!;
      this.#onFree?.(e);
      this.#af[e] = 0;
      this.#free[this.#freeTop++] = e;
      this.#count--;
      return;
    }
  }

  /** Calls `fn` for every live entry; `fn` may delete the entry it is given. */
  forEach(fn: (entry: number) => void): void {
    for (let e = 0; e < this.#af.length; e++) if (this.#af[e] !== 0) fn(e);
  }

  /** Periodic GC (`ip_vs_lblc_check_expire`), run at most once per CHECK_INTERVAL_MS of `now`. */
  tick(now: number, expirationMs: number): void {
    if (Number.isNaN(this.#nextCheck)) this.#nextCheck = now + CHECK_INTERVAL_MS;
    if (now < this.#nextCheck) return;
    this.#nextCheck = now + CHECK_INTERVAL_MS;
    if (this.#counter % FULL_EVERY === 0) {
      this.#sweep(now, expirationMs, Number.POSITIVE_INFINITY);
      this.#counter = 1;
      return;
    }
    if (this.#count <= this.maxSize) {
      this.#counter++;
      return;
    }
    const goal = Math.min(Math.trunc(((this.#count - this.maxSize) * 4) / 3), this.maxSize >> 1);
    this.#sweep(now, ENTRY_TIMEOUT_MS, goal);
  }

  /** Drops entries idle for `idleMs` or more, bucket by bucket from the rover, until `goal` are gone. */
  #sweep(now: number, idleMs: number, goal: number): void {
    let j = this.#rover;
    for (let i = 0; i < BUCKETS; i++) {
      j = (j + 1) & (BUCKETS - 1);
      for (let e = this.#bucket[j]!; e >= 0; ) {
        const next = this.#next[e]!;
        if (now >= this.lastUse[e]! + idleMs) {
          this.delete(e);
          goal--;
        }
        e = next;
      }
      if (goal <= 0) break;
    }
    this.#rover = j;
  }

  #grow(): void {
    const old = this.#af.length;
    const cap = Math.min(Math.max(64, old * 2), this.maxSize + 1);
    const grow = <T extends Int32Array | Uint32Array | Uint8Array | Float64Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.value = grow(this.value, cap);
    this.setSize = grow(this.setSize, cap);
    this.setLastMod = grow(this.setLastMod, cap);
    this.lastUse = grow(this.lastUse, cap);
    this.#af = grow(this.#af, cap);
    this.#addr = grow(this.#addr, cap * 4);
    this.#next = grow(this.#next, cap);
    this.#free = grow(this.#free, cap);
    // Hand out low ids first.
    for (let e = cap - 1; e >= old; e--) this.#free[this.#freeTop++] = e;
  }
}
