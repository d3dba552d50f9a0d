/**
 * lblcr's per-entry dest sets as singly linked lists in one pool of typed-array nodes, so inserting on
 * the pick path allocates nothing once warm. New members go to the head (`ip_vs_dest_set_insert`). The
 * pool is bounded: when it is full an insertion is skipped, as IPVS skips one when kmalloc fails.
 */
import type { DestTable } from '../dest-table.js';
import { connOverhead, mulGreater } from './load.js';
import type { LocalityTable } from './locality-table.js';

export const DEST_SET_POOL_MAX = 65_536;

export class DestSets {
  #dest: Int32Array = new Int32Array(0);
  #next: Int32Array = new Int32Array(0);
  #free: Int32Array = new Int32Array(0);
  #freeTop = 0;
  readonly #max: number;
  readonly #table: LocalityTable;
  readonly #dests: DestTable;

  /** Sets live in `table`: value = head node, setSize, setLastMod. */
  constructor(table: LocalityTable, dests: DestTable, max = DEST_SET_POOL_MAX) {
    this.#table = table;
    this.#dests = dests;
    this.#max = max;
  }

  insert(e: number, dest: number, check: boolean, now: number): void {
    const t = this.#table;
    if (check) for (let x = t.value[e]!; x >= 0; x = this.#next[x]!) if (this.#dest[x] === dest) return;
    if (this.#freeTop === 0 && !this.#grow()) return;
    const node = this.#free[--this.#freeTop]!;
    this.#dest[node] = dest;
    this.#next[node] = t.value[e]!;
    t.value[e] = node;
    t.setSize[e]!++;
    t.setLastMod[e] = now;
  }

  /** Removes `dest` from the set; `now` < 0 leaves the modification time alone. */
  erase(e: number, dest: number, now: number): void {
    const t = this.#table;
    let prev = -1;
    for (let x = t.value[e]!; x >= 0; prev = x, x = this.#next[x]!) {
      if (this.#dest[x] !== dest) continue;
      if (prev < 0) t.value[e] = this.#next[x]!;
      else this.#next[prev] = this.#next[x]!;
      this.#free[this.#freeTop++] = x;
      t.setSize[e]!--;
      if (now >= 0) t.setLastMod[e] = now;
      return;
    }
  }

  eraseAll(e: number): void {
    const t = this.#table;
    for (let x = t.value[e]!; x >= 0; x = this.#next[x]!) this.#free[this.#freeTop++] = x;
    t.value[e] = -1;
    t.setSize[e] = 0;
  }

  /** `ip_vs_dest_set_min`: wlc over the set; the first candidate needs weight > 0, all need AVAILABLE. */
  min(e: number): number {
    const d = this.#dests;
    let x = this.#table.value[e]!;
    let least = -1;
    for (; x >= 0; x = this.#next[x]!) {
      const m = this.#dest[x]!;
      if (d.isOverloaded(m)) continue;
      if (d.weight[m]! > 0 && d.isAvailable(m)) {
        least = m;
        break;
      }
    }
    if (least < 0) return -1;
    let loh = connOverhead(d, least);
    for (x = this.#next[x]!; x >= 0; x = this.#next[x]!) {
      const m = this.#dest[x]!;
      if (d.isOverloaded(m)) continue;
      const doh = connOverhead(d, m);
      if (mulGreater(loh, d.weight[m]!, doh, d.weight[least]!) && d.isAvailable(m)) {
        least = m;
        loh = doh;
      }
    }
    return least;
  }

  /** `ip_vs_dest_set_max`: the most loaded member with weight > 0 (flags not consulted). */
  max(e: number): number {
    const d = this.#dests;
    let x = this.#table.value[e]!;
    let most = -1;
    for (; x >= 0; x = this.#next[x]!) {
      if (d.weight[this.#dest[x]!]! > 0) {
        most = this.#dest[x]!;
        break;
      }
    }
    if (most < 0) return -1;
    let moh = connOverhead(d, most);
    for (x = this.#next[x]!; x >= 0; x = this.#next[x]!) {
      const m = this.#dest[x]!;
      const doh = connOverhead(d, m);
      if (mulGreater(doh, d.weight[most]!, moh, d.weight[m]!) && d.weight[m]! > 0) {
        most = m;
        moh = doh;
      }
    }
    return most;
  }

  /** Member dest ids, head first (tests and diagnostics). */
  members(e: number): number[] {
    const out: number[] = [];
    for (let x = this.#table.value[e]!; x >= 0; x = this.#next[x]!) out.push(this.#dest[x]!);
    return out;
  }

  #grow(): boolean {
    const old = this.#dest.length;
    const cap = Math.min(Math.max(64, old * 2), this.#max);
    if (cap <= old) return false;
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.#dest = grow(this.#dest);
    this.#next = grow(this.#next);
    this.#free = grow(this.#free);
    for (let x = cap - 1; x >= old; x--) this.#free[this.#freeTop++] = x;
    return true;
  }
}
