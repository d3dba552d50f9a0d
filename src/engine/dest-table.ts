/**
 * Real servers ("dests" in IPVS) of every service, stored column-wise in typed arrays indexed by a dest id,
 * so the schedulers and the session table read weights and connection counters without touching objects.
 *
 * Lifecycle follows IPVS: a deleted dest stays allocated ("trash", !AVAILABLE) while connections or
 * templates still count against it, and is freed when the last one unbinds; re-adding the same address to
 * the same service revives it with its counters (`ip_vs_trash_get_dest`).
 */
import type { Family, IpAddress } from './addr.js';
import { CounterBlock } from './counters.js';
import { Forwarding, type ForwardingMethod } from './forwarding.js';

export const DestFlag = Object.freeze({
  /** Not deleted (IP_VS_DEST_F_AVAILABLE). */
  AVAILABLE: 1,
  /** Upper threshold reached (IP_VS_DEST_F_OVERLOAD): schedulers skip it. */
  OVERLOAD: 2,
  /** Linked in its service's scheduling list. */
  LISTED: 4,
});

function grow<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(a: T, n: number): T {
  const C = a.constructor as new (n: number) => T;
  const b = new C(n);
  b.set(a);
  return b;
}

export class DestTable {
  af = new Uint8Array(0);
  /** Four words per dest, network order as unsigned ints (see addr.ts). */
  addr = new Uint32Array(0);
  port = new Uint16Array(0);
  weight = new Int32Array(0);
  /** Latest non-zero weight (mh uses it so a quiesced dest keeps its slots). */
  lastWeight = new Int32Array(0);
  flags = new Uint8Array(0);
  uThreshold = new Uint32Array(0);
  lThreshold = new Uint32Array(0);
  activeConns = new Int32Array(0);
  inactConns = new Int32Array(0);
  persistConns = new Int32Array(0);
  fwd = new Uint8Array(0);
  /** Owning service id. */
  svc = new Int32Array(0);
  readonly stats = new CounterBlock(0);
  #inUse = new Uint8Array(0);
  #free: number[] = [];
  #next = 0;

  get capacity(): number {
    return this.af.length;
  }

  #ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(16, n, this.capacity * 2);
    this.af = grow(this.af, cap);
    this.addr = grow(this.addr, cap * 4);
    this.port = grow(this.port, cap);
    this.weight = grow(this.weight, cap);
    this.lastWeight = grow(this.lastWeight, cap);
    this.flags = grow(this.flags, cap);
    this.uThreshold = grow(this.uThreshold, cap);
    this.lThreshold = grow(this.lThreshold, cap);
    this.activeConns = grow(this.activeConns, cap);
    this.inactConns = grow(this.inactConns, cap);
    this.persistConns = grow(this.persistConns, cap);
    this.fwd = grow(this.fwd, cap);
    this.svc = grow(this.svc, cap);
    this.#inUse = grow(this.#inUse, cap);
    this.stats.ensure(cap);
  }

  alloc(svc: number, a: IpAddress, port: number, fwd: ForwardingMethod = Forwarding.DR): number {
    const id = this.#free.length > 0 ? this.#free.pop()! : this.#next++;
    this.#ensure(id + 1);
    this.#inUse[id] = 1;
    this.af[id] = a.family;
    for (let i = 0; i < 4; i++) this.addr[id * 4 + i] = a.words[i]!;
    this.port[id] = port;
    this.weight[id] = 0;
    this.lastWeight[id] = 0;
    this.flags[id] = DestFlag.AVAILABLE;
    this.uThreshold[id] = 0;
    this.lThreshold[id] = 0;
    this.activeConns[id] = 0;
    this.inactConns[id] = 0;
    this.persistConns[id] = 0;
    this.fwd[id] = fwd;
    this.svc[id] = svc;
    this.stats.reset(id);
    return id;
  }

  /** Deleted dests of `svc` still allocated because sessions count against them (IPVS's trash). */
  *trashOf(svc: number): IterableIterator<number> {
    for (let id = 0; id < this.capacity; id++) {
      if (this.#inUse[id] === 1 && this.svc[id] === svc && !(this.flags[id]! & DestFlag.AVAILABLE)) yield id;
    }
  }

  isAllocated(id: number): boolean {
    return id >= 0 && id < this.capacity && this.#inUse[id] === 1;
  }

  /** Frees a deleted dest once nothing counts against it; returns whether it was freed. */
  releaseIfUnused(id: number): boolean {
    if (!this.isAllocated(id) || this.flags[id]! & DestFlag.AVAILABLE) return false;
    if (this.activeConns[id]! + this.inactConns[id]! + this.persistConns[id]! !== 0) return false;
    this.#inUse[id] = 0;
    this.flags[id] = 0;
    this.#free.push(id);
    return true;
  }

  setWeight(id: number, w: number): void {
    this.weight[id] = w;
    if (w > 0) this.lastWeight[id] = w;
  }

  /** IPVS `__ip_vs_update_dest`: a raised or removed upper threshold clears OVERLOAD at once. */
  setThresholds(id: number, upper: number, lower: number): void {
    const old = this.uThreshold[id]!;
    this.uThreshold[id] = upper;
    this.lThreshold[id] = lower;
    if (upper === 0 || upper > old) this.flags[id]! &= ~DestFlag.OVERLOAD;
  }

  family(id: number): Family {
    return this.af[id] as Family;
  }

  address(id: number): IpAddress {
    const b = id * 4;
    return {
      family: this.af[id] as Family,
      words: [this.addr[b]!, this.addr[b + 1]!, this.addr[b + 2]!, this.addr[b + 3]!],
    };
  }

  matches(id: number, a: IpAddress, port: number): boolean {
    const b = id * 4;
    return (
      this.af[id] === a.family &&
      this.port[id] === port &&
      this.addr[b] === a.words[0] &&
      this.addr[b + 1] === a.words[1] &&
      this.addr[b + 2] === a.words[2] &&
      this.addr[b + 3] === a.words[3]
    );
  }

  /** Connections that count towards thresholds and lc/wlc overhead (persistent templates do not). */
  total(id: number): number {
    return this.activeConns[id]! + this.inactConns[id]!;
  }

  /** IPVS `ip_vs_dest_conn_overhead`: (active << 8) + inactive. */
  overhead(id: number): number {
    return (this.activeConns[id]! << 8) + this.inactConns[id]!;
  }

  /** After a connection bound to `id` (`ip_vs_bind_dest`): set OVERLOAD when the upper threshold is met. */
  checkOverloadOnBind(id: number): void {
    const u = this.uThreshold[id]!;
    if (u !== 0 && this.total(id) >= u) this.flags[id]! |= DestFlag.OVERLOAD;
  }

  /** After a connection unbound (`ip_vs_unbind_dest`): clear OVERLOAD per the lower threshold rule. */
  checkOverloadOnUnbind(id: number): void {
    if (!(this.flags[id]! & DestFlag.OVERLOAD)) return;
    const l = this.lThreshold[id]!;
    const u = this.uThreshold[id]!;
    const t = this.total(id);
    if (l !== 0) {
      if (t < l) this.flags[id]! &= ~DestFlag.OVERLOAD;
    } else if (u !== 0) {
      if (4 * t < 3 * u) this.flags[id]! &= ~DestFlag.OVERLOAD;
    } else {
      this.flags[id]! &= ~DestFlag.OVERLOAD;
    }
  }

  isOverloaded(id: number): boolean {
    return (this.flags[id]! & DestFlag.OVERLOAD) !== 0;
  }

  isAvailable(id: number): boolean {
    return (this.flags[id]! & DestFlag.AVAILABLE) !== 0;
  }
}
