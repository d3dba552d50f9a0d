/**
 * The director's neighbour table (IPv4 ARP / IPv6 ND cache): next-hop address -> MAC, bounded, in typed
 * arrays, aged by the `now` it is given. After the kernel's neighbour states, simplified: an entry is
 * REACHABLE for `reachableMs` after a confirmation, then STALE for `staleMs` (still used, but a fresh
 * request goes out, at most one per `retryMs`), then gone. A miss creates an INCOMPLETE entry so requests
 * for it are rate-limited the same way. Static entries never age.
 *
 * Storage is 4-way set associative: an address hashes (seeded) to a set of four slots; a full set evicts
 * its least useful slot (incomplete first, then the oldest confirmation; never a static entry). Lookups
 * touch one set and allocate nothing.
 */
import { ErrorCodes, TslvsError } from '../errors.js';
import { type Family, formatIp, type IpAddress } from './addr.js';
import { fmix32i, mixWord } from './hash.js';
import { macHiOf, macLoOf, macOf } from './pipeline/words.js';

export interface NeighbourOptions {
  /** Slots (rounded up to a multiple of 4, at least 16). Default 4096. */
  capacity?: number;
  /** How long a confirmed entry is used without question. Default 30 s (Linux base_reachable_time). */
  reachableMs?: number;
  /** How long a stale entry keeps being used while it is re-requested. Default 60 s. */
  staleMs?: number;
  /** Least time between two requests for one address. Default 1 s (Linux retrans_time). */
  retryMs?: number;
  /** Hash seed. */
  seed?: number;
}

export interface NeighbourEntry {
  address: IpAddress;
  /** 48-bit MAC, or -1 while unresolved. */
  mac: number;
  state: 'static' | 'reachable' | 'stale' | 'incomplete';
  /** Milliseconds since the last confirmation (NaN for static or incomplete entries). */
  ageMs: number;
}

const WAYS = 4;
const STATIC = Number.POSITIVE_INFINITY;

export class NeighbourTable {
  readonly slots: number;
  readonly reachableMs: number;
  readonly staleMs: number;
  readonly retryMs: number;
  /** Set by `lookup`: a request for the looked-up address should be sent now (it was recorded as sent). */
  wantRequest = false;
  /** Bumped whenever a slot changes address or MAC, so callers may cache slots between changes. */
  epoch = 0;
  readonly #sets: number;
  readonly #seed: number;
  /** Per slot: family (0 = empty), address words, MAC halves (high -1: unresolved), confirmation and request times. */
  readonly #af: Uint8Array;
  readonly #addr: Uint32Array;
  readonly #macHi: Int32Array;
  readonly #macLo: Int32Array;
  readonly #confirmed: Float64Array;
  readonly #requested: Float64Array;

  constructor(opts: NeighbourOptions = {}) {
    const cap = opts.capacity ?? 4096;
    if (!Number.isInteger(cap) || cap < 1 || cap > 1 << 24) {
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `neighbour table capacity ${cap} out of range`);
    }
    let sets = 4;
    while (sets * WAYS < cap) sets *= 2;
    this.#sets = sets;
    this.slots = sets * WAYS;
    this.reachableMs = positive(opts.reachableMs ?? 30_000, 'reachableMs');
    this.staleMs = positive(opts.staleMs ?? 60_000, 'staleMs');
    this.retryMs = positive(opts.retryMs ?? 1000, 'retryMs');
    this.#seed = (opts.seed ?? 0x6e656967) >>> 0;
    this.#af = new Uint8Array(this.slots);
    this.#addr = new Uint32Array(this.slots * 4);
    this.#macHi = new Int32Array(this.slots).fill(-1);
    this.#macLo = new Int32Array(this.slots);
    this.#confirmed = new Float64Array(this.slots);
    this.#requested = new Float64Array(this.slots).fill(Number.NEGATIVE_INFINITY);
  }

  #set(af: number, w: ArrayLike<number>, o: number): number {
    let h = mixWord(this.#seed ^ af, w[o]! | 0);
    if (af === 6) {
      h = mixWord(h, w[o + 1]! | 0);
      h = mixWord(h, w[o + 2]! | 0);
      h = mixWord(h, w[o + 3]! | 0);
    }
    return (fmix32i(h) & (this.#sets - 1)) * WAYS;
  }

  #find(af: number, w: ArrayLike<number>, o: number, base: number): number {
    const a = this.#addr;
    for (let s = base; s < base + WAYS; s++) {
      const b = s * 4;
      if (
        this.#af[s] === af &&
        a[b] === w[o] &&
        (af === 4 || (a[b + 1] === w[o + 1] && a[b + 2] === w[o + 2] && a[b + 3] === w[o + 3]))
      )
        return s;
    }
    return -1;
  }

  /** The slot to reuse in a full set: empty, else unresolved, else the oldest confirmation; -1 if all static. */
  #victim(base: number): number {
    let best = -1;
    let bestScore = STATIC;
    for (let s = base; s < base + WAYS; s++) {
      if (this.#af[s] === 0) return s;
      const score = this.#macHi[s]! < 0 ? Number.NEGATIVE_INFINITY : this.#confirmed[s]!;
      if (score < bestScore) {
        bestScore = score;
        best = s;
      }
    }
    return best;
  }

  #claim(s: number, af: number, w: ArrayLike<number>, o: number): void {
    this.epoch++;
    this.#af[s] = af;
    const b = s * 4;
    for (let i = 0; i < 4; i++) this.#addr[b + i] = af === 4 && i > 0 ? 0 : w[o + i]!;
    this.#macHi[s] = -1;
    this.#confirmed[s] = 0;
    this.#requested[s] = Number.NEGATIVE_INFINITY;
  }

  /** High 16 bits of the MAC in slot `s` (a `lookup` result). */
  macHi(s: number): number {
    return this.#macHi[s]!;
  }

  /** Low 32 bits (int32) of the MAC in slot `s`. */
  macLo(s: number): number {
    return this.#macLo[s]!;
  }

  /** Until when slot `s` may be used without asking again (Infinity for static entries). */
  reachableUntil(s: number): number {
    return this.#confirmed[s]! + this.reachableMs;
  }

  /** The MAC in slot `s` as a 48-bit number (control plane). */
  mac(s: number): number {
    return macOf(this.#macHi[s]!, this.#macLo[s]!);
  }

  /**
   * The slot holding the MAC for `af` address `w[o..]` (read it with macHi/macLo/mac), or -1. Sets
   * `wantRequest` when a request should go out now (a miss, or a stale entry) and records it as sent, so
   * the next one waits `retryMs`.
   */
  lookup(af: number, w: ArrayLike<number>, o: number, now: number): number {
    this.wantRequest = false;
    const base = this.#set(af, w, o);
    let s = this.#find(af, w, o, base);
    if (s >= 0) {
      if (this.#macHi[s]! >= 0) {
        const age = now - this.#confirmed[s]!;
        if (age < this.reachableMs) return s;
        if (age < this.reachableMs + this.staleMs) {
          this.#maybeRequest(s, now);
          return s;
        }
        this.#macHi[s] = -1;
        this.epoch++;
      }
    } else {
      s = this.#victim(base);
      if (s < 0) return -1;
      this.#claim(s, af, w, o);
    }
    this.#maybeRequest(s, now);
    return -1;
  }

  #maybeRequest(s: number, now: number): void {
    if (now - this.#requested[s]! >= this.retryMs) {
      this.#requested[s] = now;
      this.wantRequest = true;
    }
  }

  /**
   * Records `mac` for the address (an ARP reply, a neighbour advertisement, a request addressed to us).
   * `create`: add the address if it is not in the table (else only existing entries are refreshed, the
   * kernel's rule for unsolicited announcements). Static entries are never overwritten. Returns whether
   * the table changed.
   */
  learn(af: number, w: ArrayLike<number>, o: number, mac: number, now: number, create = true): boolean {
    return this.learnParts(af, w, o, macHiOf(mac), macLoOf(mac), now, create);
  }

  /** `learn` with the MAC as its high 16 and low 32 bits (the packet path). */
  learnParts(
    af: number,
    w: ArrayLike<number>,
    o: number,
    hi: number,
    lo: number,
    now: number,
    create = true,
  ): boolean {
    const base = this.#set(af, w, o);
    let s = this.#find(af, w, o, base);
    if (s < 0) {
      if (!create) return false;
      s = this.#victim(base);
      if (s < 0) return false;
      this.#claim(s, af, w, o);
    } else if (this.#confirmed[s] === STATIC) {
      return false;
    }
    if (this.#macHi[s] !== hi || this.#macLo[s] !== lo) this.epoch++;
    this.#macHi[s] = hi;
    this.#macLo[s] = lo;
    this.#confirmed[s] = now;
    return true;
  }

  /** A permanent entry (configuration, or the kernel's table fed in by the control plane). */
  setStatic(address: IpAddress, mac: number): void {
    if (!(mac >= 0 && mac <= 0xffff_ffff_ffff && Number.isInteger(mac))) {
      throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `neighbour ${formatIp(address)}: bad MAC ${mac}`);
    }
    const w = address.words;
    const base = this.#set(address.family, w, 0);
    let s = this.#find(address.family, w, 0, base);
    if (s < 0) s = this.#victim(base);
    if (s < 0) {
      throw new TslvsError(
        ErrorCodes.CAPACITY,
        `neighbour table: no room for static entry ${formatIp(address)} (set full of static entries)`,
      );
    }
    this.#claim(s, address.family, w, 0);
    this.#macHi[s] = macHiOf(mac);
    this.#macLo[s] = macLoOf(mac);
    this.#confirmed[s] = STATIC;
  }

  /** Forgets an address (static or not); returns whether it was there. */
  remove(address: IpAddress): boolean {
    const s = this.#find(address.family, address.words, 0, this.#set(address.family, address.words, 0));
    if (s < 0) return false;
    this.#af[s] = 0;
    this.#macHi[s] = -1;
    this.epoch++;
    return true;
  }

  /** Every entry (control plane; allocates). */
  entries(now: number): NeighbourEntry[] {
    const out: NeighbourEntry[] = [];
    for (let s = 0; s < this.slots; s++) {
      const af = this.#af[s]!;
      if (af === 0) continue;
      const b = s * 4;
      const address: IpAddress = {
        family: af as Family,
        words: [this.#addr[b]!, this.#addr[b + 1]!, this.#addr[b + 2]!, this.#addr[b + 3]!],
      };
      const mac = this.#macHi[s]! < 0 ? -1 : this.mac(s);
      const confirmed = this.#confirmed[s]!;
      const age = now - confirmed;
      let state: NeighbourEntry['state'];
      if (confirmed === STATIC) state = 'static';
      else if (mac < 0) state = 'incomplete';
      else if (age < this.reachableMs) state = 'reachable';
      else if (age < this.reachableMs + this.staleMs) state = 'stale';
      else continue;
      out.push({ address, mac, state, ageMs: state === 'static' || mac < 0 ? Number.NaN : age });
    }
    return out;
  }
}

function positive(v: number, name: string): number {
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `neighbour ${name} must be a positive number (got ${v})`,
    );
  }
  return v;
}
