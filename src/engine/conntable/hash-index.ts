/**
 * The session table's two hash indexes over the entry array: "in" (client -> VIP, IPVS
 * `ip_vs_conn_in_get`) for every connection and template, "out" (RS -> client for NAT, RS -> local
 * address for FNAT, `ip_vs_conn_out_get`) for connections that see replies. Chains are singly linked
 * through the entries (words INEXT / ONEXT); one bucket word per entry per index.
 */
import type { DestTable } from '../dest-table.js';
import { Forwarding } from '../forwarding.js';
import { fmix32i, mixWord } from '../hash.js';
import type { LocalAddressPool } from '../local-addrs.js';
import type { ServiceTable } from '../service-table.js';
import { BATCH_MAX, type FlowBatch } from './flow-batch.js';
import { CF, STRIDE, W } from './layout.js';

const OUT_SALT = 0x5a5a5a5a;

export { BATCH_MAX, type FlowBatch, newFlowBatch } from './flow-batch.js';

function sameWords(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): boolean {
  return a[ao] === b[bo] && a[ao + 1] === b[bo + 1] && a[ao + 2] === b[bo + 2] && a[ao + 3] === b[bo + 3];
}

export class ConnIndex {
  readonly #e: Uint32Array;
  readonly #in: Uint32Array;
  readonly #out: Uint32Array;
  readonly #nb: number;
  readonly #seed: number;
  readonly #services: ServiceTable;
  readonly #dests: DestTable;
  readonly #lips: LocalAddressPool | null;
  /** Batch scratch: bucket, then the entry each key is at in its chain; the keys' port and flag words. */
  readonly #heads = new Uint32Array(BATCH_MAX);
  readonly #kPorts = new Uint32Array(BATCH_MAX);
  readonly #kFlags = new Uint32Array(BATCH_MAX);
  /** Keys of the batch whose chain walk has not ended. */
  readonly #active = new Uint8Array(BATCH_MAX);
  /** Keeps the JIT from discarding the warm-up loads of `findInBatch`. */
  readonly #sink = new Uint32Array(1);

  constructor(
    entries: Uint32Array,
    buckets: number,
    seed: number,
    services: ServiceTable,
    dests: DestTable,
    lips: LocalAddressPool | null,
  ) {
    this.#e = entries;
    this.#nb = buckets;
    this.#in = new Uint32Array(buckets);
    this.#out = new Uint32Array(buckets);
    this.#seed = seed;
    this.#services = services;
    this.#dests = dests;
    this.#lips = lips;
  }

  get byteLength(): number {
    return this.#in.byteLength + this.#out.byteLength;
  }

  get arrays(): Uint32Array[] {
    return [this.#in, this.#out];
  }

  /**
   * (address a, port1, address v, port2, proto) -> bucket. IPv4 keys hash one word per address (the other
   * three are zero); multiply-high maps the hash onto any bucket count.
   */
  #hash(
    salt: number,
    proto: number,
    af: number,
    a: ArrayLike<number>,
    ao: number,
    port1: number,
    v: ArrayLike<number>,
    vo: number,
    port2: number,
  ): number {
    let h = mixWord(this.#seed ^ salt, a[ao]! | 0);
    if (af === 6) {
      h = mixWord(h, a[ao + 1]! | 0);
      h = mixWord(h, a[ao + 2]! | 0);
      h = mixWord(h, a[ao + 3]! | 0);
      h = mixWord(h, v[vo + 1]! | 0);
      h = mixWord(h, v[vo + 2]! | 0);
      h = mixWord(h, v[vo + 3]! | 0);
    }
    h = mixWord(h, v[vo]! | 0);
    const x = fmix32i(mixWord(h, ((port1 << 16) | port2) ^ (proto << 1))) >>> 0;
    return Math.floor((x * this.#nb) / 4294967296);
  }

  #inBucketOf(id: number): number {
    const e = this.#e;
    const b = id * STRIDE;
    const st = e[b + W.STATE]!;
    const tmpl = st & CF.TEMPLATE;
    const svc = e[b + W.SVC_LIP]! & 0xffff;
    const cport = tmpl ? 0 : e[b + W.PORTS]! & 0xffff;
    const addr = this.#services.addr;
    return this.#hash(
      tmpl,
      st & CF.UDP ? 17 : 6,
      st & CF.AF6 ? 6 : 4,
      e,
      b + W.CADDR,
      cport,
      addr,
      svc * 4,
      e[b + W.PORTS]! >>> 16,
    );
  }

  #outBucketOf(id: number): number {
    const e = this.#e;
    const b = id * STRIDE;
    const st = e[b + W.STATE]!;
    const isFnat = (st & CF.FWD_MASK) >>> CF.FWD_SHIFT === Forwarding.FNAT;
    const dst = isFnat ? this.#lips!.addr : e;
    const dof = isFnat ? (e[b + W.SVC_LIP]! >>> 16) * 4 : b + W.CADDR;
    const xport = isFnat ? e[b + W.RPORTS]! >>> 16 : e[b + W.PORTS]! & 0xffff;
    const proto = st & CF.UDP ? 17 : 6;
    return this.#hash(
      OUT_SALT,
      proto,
      st & CF.AF6 ? 6 : 4,
      this.#dests.addr,
      e[b + W.DEST]! * 4,
      e[b + W.RPORTS]! & 0xffff,
      dst,
      dof,
      xport,
    );
  }

  insertIn(id: number): void {
    const h = this.#inBucketOf(id);
    this.#e[id * STRIDE + W.INEXT] = this.#in[h]!;
    this.#in[h] = id;
  }

  insertOut(id: number): void {
    const h = this.#outBucketOf(id);
    this.#e[id * STRIDE + W.ONEXT] = this.#out[h]!;
    this.#out[h] = id;
    this.#e[id * STRIDE + W.STATE]! |= CF.OUT_HASHED;
  }

  #unchain(buckets: Uint32Array, h: number, id: number, word: number): void {
    const e = this.#e;
    let cur = buckets[h]!;
    if (cur === id) {
      buckets[h] = e[id * STRIDE + word]!;
      return;
    }
    while (cur !== 0) {
      const next = e[cur * STRIDE + word]!;
      if (next === id) {
        e[cur * STRIDE + word] = e[id * STRIDE + word]!;
        return;
      }
      cur = next;
    }
  }

  /** Unhashes from both indexes; call before the entry's key words change or it is freed. */
  remove(id: number): void {
    this.#unchain(this.#in, this.#inBucketOf(id), id, W.INEXT);
    if (this.#e[id * STRIDE + W.STATE]! & CF.OUT_HASHED) {
      this.#unchain(this.#out, this.#outBucketOf(id), id, W.ONEXT);
      this.#e[id * STRIDE + W.STATE]! &= ~CF.OUT_HASHED;
    }
  }

  /**
   * The live entry for client `ca:cport` -> VIP `va:vport` (templates: client net, port 0, `tmpl` =
   * CF.TEMPLATE), or 0. Dead templates never match.
   */
  findIn(
    proto: number,
    af: number,
    ca: ArrayLike<number>,
    co: number,
    cport: number,
    va: ArrayLike<number>,
    vo: number,
    vport: number,
    tmpl: number,
  ): number {
    let id = this.#in[this.#hash(tmpl, proto, af, ca, co, cport, va, vo, vport)]!;
    while (id !== 0) {
      if (this.#matchIn(id, proto, af, ca, co, cport, va, vo, vport, tmpl)) return id;
      id = this.#e[id * STRIDE + W.INEXT]!;
    }
    return 0;
  }

  #matchIn(
    id: number,
    proto: number,
    af: number,
    ca: ArrayLike<number>,
    co: number,
    cport: number,
    va: ArrayLike<number>,
    vo: number,
    vport: number,
    tmpl: number,
  ): boolean {
    const e = this.#e;
    const b = id * STRIDE;
    const st = e[b + W.STATE]!;
    return (
      e[b + W.PORTS] === (cport | (vport << 16)) >>> 0 &&
      (st & (CF.TEMPLATE | CF.DEAD)) === tmpl &&
      ((st & CF.UDP) !== 0) === (proto === 17) &&
      ((st & CF.AF6) !== 0) === (af === 6) &&
      sameWords(e, b + W.CADDR, ca, co) &&
      sameWords(this.#services.addr, (e[b + W.SVC_LIP]! & 0xffff) * 4, va, vo)
    );
  }

  /**
   * `findIn` for a batch of client -> VIP keys (see FlowBatch). Hashing every key first, then loading
   * every bucket head, then every first entry, issues the cache misses of a batch back to back so the CPU
   * overlaps them; a lookup one at a time waits for each miss in turn (DPDK's rte_hash_lookup_bulk idea).
   * Chains are walked the same way, one step per round for every key still unresolved: at the table's
   * load factor (one bucket per entry) a third of the hits are not first in their chain, and walking each
   * chain to its end in turn made their second misses wait one after another.
   */
  findInBatch(batch: FlowBatch, out: Uint32Array): void {
    const n = batch.count;
    const cur = this.#heads;
    const ports = this.#kPorts;
    const kf = this.#kFlags;
    for (let k = 0; k < n; k++) {
      const proto = batch.proto[k]!;
      const af = batch.af[k]!;
      const sport = batch.sport[k]!;
      const dport = batch.dport[k]!;
      cur[k] = this.#hash(0, proto, af, batch.saddr, k * 4, sport, batch.daddr, k * 4, dport);
      ports[k] = sport | (dport << 16);
      kf[k] = (proto === 17 ? CF.UDP : 0) | (af === 6 ? CF.AF6 : 0);
    }
    const buckets = this.#in;
    for (let k = 0; k < n; k++) cur[k] = buckets[cur[k]!]!;
    const e = this.#e;
    const act = this.#active;
    let touch = 0;
    for (let k = 0; k < n; k++) {
      touch ^= e[cur[k]! * STRIDE + W.PORTS]!;
      act[k] = k;
    }
    let active = n;
    const vaddr = this.#services.addr;
    const ca = batch.saddr;
    const va = batch.daddr;
    while (active > 0) {
      let m = 0;
      for (let j = 0; j < active; j++) {
        const k = act[j]!;
        const id = cur[k]!;
        const b = id * STRIDE;
        const o = k * 4;
        // Same test as #matchIn (template bit clear, not dead, protocol and family flags as the key's).
        if (
          id === 0 ||
          (e[b + W.PORTS]! === ports[k] &&
            (e[b + W.STATE]! & (CF.TEMPLATE | CF.DEAD | CF.UDP | CF.AF6)) === kf[k] &&
            sameWords(e, b + W.CADDR, ca, o) &&
            sameWords(vaddr, (e[b + W.SVC_LIP]! & 0xffff) * 4, va, o))
        ) {
          out[k] = id;
        } else {
          cur[k] = e[b + W.INEXT]!;
          act[m++] = k;
        }
      }
      for (let j = 0; j < m; j++) touch ^= e[cur[act[j]!]! * STRIDE + W.PORTS]!;
      active = m;
    }
    this.#sink[0] = touch;
  }

  /** The NAT/FNAT entry for a reply `src:sport` (RS) -> `dst:dport` (client or local address), or 0. */
  findOut(
    proto: number,
    af: number,
    src: ArrayLike<number>,
    so: number,
    sport: number,
    dst: ArrayLike<number>,
    dof: number,
    dport: number,
  ): number {
    const id = this.#out[this.#hash(OUT_SALT, proto, af, src, so, sport, dst, dof, dport)]!;
    return this.#walkOut(id, proto, af, src, so, sport, dst, dof, dport);
  }

  /** `findOut` for a batch of reply keys (saddr/sport = RS, daddr/dport = client or local address). */
  findOutBatch(batch: FlowBatch, out: Uint32Array): void {
    const n = batch.count;
    const cur = this.#heads;
    for (let k = 0; k < n; k++) {
      const b = batch;
      const o = k * 4;
      cur[k] = this.#hash(OUT_SALT, b.proto[k]!, b.af[k]!, b.saddr, o, b.sport[k]!, b.daddr, o, b.dport[k]!);
    }
    const buckets = this.#out;
    for (let k = 0; k < n; k++) cur[k] = buckets[cur[k]!]!;
    const e = this.#e;
    const act = this.#active;
    let touch = 0;
    for (let k = 0; k < n; k++) {
      touch ^= e[cur[k]! * STRIDE + W.RPORTS]!;
      act[k] = k;
    }
    // Chains walked a step per round for every unresolved key, as in findInBatch.
    let active = n;
    while (active > 0) {
      let m = 0;
      for (let j = 0; j < active; j++) {
        const k = act[j]!;
        const id = cur[k]!;
        const b = batch;
        const o = k * 4;
        if (
          id === 0 ||
          this.#outMatch(id, b.proto[k]!, b.af[k]!, b.saddr, o, b.sport[k]!, b.daddr, o, b.dport[k]!)
        ) {
          out[k] = id;
        } else {
          cur[k] = e[id * STRIDE + W.ONEXT]!;
          act[m++] = k;
        }
      }
      for (let j = 0; j < m; j++) touch ^= e[cur[act[j]!]! * STRIDE + W.RPORTS]!;
      active = m;
    }
    this.#sink[0] = touch;
  }

  #walkOut(
    id: number,
    proto: number,
    af: number,
    src: ArrayLike<number>,
    so: number,
    sport: number,
    dst: ArrayLike<number>,
    dof: number,
    dport: number,
  ): number {
    while (id !== 0 && !this.#outMatch(id, proto, af, src, so, sport, dst, dof, dport)) {
      id = this.#e[id * STRIDE + W.ONEXT]!;
    }
    return id;
  }

  /** Whether entry `id` is the NAT/FNAT session of reply `src:sport` -> `dst:dport`. */
  #outMatch(
    id: number,
    proto: number,
    af: number,
    src: ArrayLike<number>,
    so: number,
    sport: number,
    dst: ArrayLike<number>,
    dof: number,
    dport: number,
  ): boolean {
    const e = this.#e;
    const b = id * STRIDE;
    const st = e[b + W.STATE]!;
    if (
      (e[b + W.RPORTS]! & 0xffff) !== sport ||
      ((st & CF.UDP) !== 0) !== (proto === 17) ||
      ((st & CF.AF6) !== 0) !== (af === 6) ||
      !sameWords(this.#dests.addr, e[b + W.DEST]! * 4, src, so)
    ) {
      return false;
    }
    if ((st & CF.FWD_MASK) >>> CF.FWD_SHIFT === Forwarding.FNAT) {
      const lips = this.#lips;
      return (
        e[b + W.RPORTS]! >>> 16 === dport &&
        lips !== null &&
        sameWords(lips.addr, (e[b + W.SVC_LIP]! >>> 16) * 4, dst, dof)
      );
    }
    return (e[b + W.PORTS]! & 0xffff) === dport && sameWords(e, b + W.CADDR, dst, dof);
  }
}
