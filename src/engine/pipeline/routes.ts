/**
 * A minimal route table for the director's output: connected prefixes of its interfaces plus configured
 * routes (a default gateway is prefix length 0), longest prefix first. Enough for an L4 balancer whose
 * real servers sit on connected subnets or behind a gateway; not a general FIB (a handful of entries,
 * scanned linearly, allocation-free).
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { type Family, formatIp, type IpAddress, maskIp } from '../addr.js';

export interface RouteSpec {
  prefix: IpAddress;
  prefixLen: number;
  /** Gateway; absent or null = on-link (the destination is the next hop). */
  via?: IpAddress | null;
  /** Interface index. */
  iface: number;
  /** Preferred source address for packets using this route (connected routes: the own address). */
  src?: IpAddress | null;
}

export const MAX_ROUTES = 256;

export class RouteTable {
  readonly size: number;
  readonly af: Uint8Array;
  readonly prefix: Uint32Array;
  readonly mask: Uint32Array;
  readonly prefixLen: Uint8Array;
  readonly iface: Uint8Array;
  /** 1 when the route has a gateway (`gw` words), 0 for on-link. */
  readonly hasGw: Uint8Array;
  readonly gw: Uint32Array;
  /** 1 when the route has a preferred source (`src` words). */
  readonly hasSrc: Uint8Array;
  readonly src: Uint32Array;

  constructor(routes: readonly RouteSpec[], interfaceCount: number) {
    if (routes.length > MAX_ROUTES) {
      throw new TslvsError(ErrorCodes.CONFIG, `too many routes (${routes.length}, limit ${MAX_ROUTES})`);
    }
    for (const r of routes) validate(r, interfaceCount);
    // Longest prefix first; a stable sort keeps configuration order among equals (first match wins).
    const sorted = routes
      .map((r, i) => ({ r, i }))
      .sort((a, b) => b.r.prefixLen - a.r.prefixLen || a.i - b.i);
    const n = sorted.length;
    this.size = n;
    this.af = new Uint8Array(n);
    this.prefix = new Uint32Array(n * 4);
    this.mask = new Uint32Array(n * 4);
    this.prefixLen = new Uint8Array(n);
    this.iface = new Uint8Array(n);
    this.hasGw = new Uint8Array(n);
    this.gw = new Uint32Array(n * 4);
    this.hasSrc = new Uint8Array(n);
    this.src = new Uint32Array(n * 4);
    sorted.forEach(({ r }, k) => {
      const masked = maskIp(r.prefix, r.prefixLen);
      this.af[k] = r.prefix.family;
      this.prefixLen[k] = r.prefixLen;
      this.iface[k] = r.iface;
      for (let w = 0; w < 4; w++) {
        this.prefix[k * 4 + w] = masked.words[w]!;
        const keep = Math.max(0, Math.min(32, r.prefixLen - 32 * w));
        this.mask[k * 4 + w] = keep === 0 ? 0 : (0xffffffff << (32 - keep)) >>> 0;
        this.gw[k * 4 + w] = r.via ? r.via.words[w]! : 0;
        this.src[k * 4 + w] = r.src ? r.src.words[w]! : 0;
      }
      this.hasGw[k] = r.via ? 1 : 0;
      this.hasSrc[k] = r.src ? 1 : 0;
    });
  }

  /** Index of the longest-prefix route for `af` address `w[o..]`, or -1. */
  lookup(af: number, w: ArrayLike<number>, o: number): number {
    const m = this.mask;
    const p = this.prefix;
    for (let k = 0; k < this.size; k++) {
      if (this.af[k] !== af) continue;
      const b = k * 4;
      if ((w[o]! & m[b]!) >>> 0 !== p[b]) continue;
      if (
        af === 6 &&
        ((w[o + 1]! & m[b + 1]!) >>> 0 !== p[b + 1] ||
          (w[o + 2]! & m[b + 2]!) >>> 0 !== p[b + 2] ||
          (w[o + 3]! & m[b + 3]!) >>> 0 !== p[b + 3])
      )
        continue;
      return k;
    }
    return -1;
  }

  /**
   * Offset in `src` of the preferred source for packets to `w[o..]`: the route's own, else (one gateway
   * hop) the one of the route to its gateway; -1 when neither has one.
   */
  sourceOf(af: number, w: ArrayLike<number>, o: number): number {
    const r = this.lookup(af, w, o);
    if (r < 0) return -1;
    if (this.hasSrc[r] === 1) return r * 4;
    if (this.hasGw[r] === 1) {
      const g = this.lookup(af, this.gw, r * 4);
      if (g >= 0 && this.hasSrc[g] === 1) return g * 4;
    }
    return -1;
  }

  /** Whether `af` address `w[o..]` is on a connected (gateway-less) route of interface `iface`. */
  onLink(af: number, w: ArrayLike<number>, o: number, iface: number): boolean {
    const k = this.lookup(af, w, o);
    return k >= 0 && this.hasGw[k] === 0 && this.iface[k] === iface;
  }
}

function validate(r: RouteSpec, interfaceCount: number): void {
  const where = `route ${formatIp(r.prefix)}/${r.prefixLen}`;
  const bits = r.prefix.family === 4 ? 32 : 128;
  if (!Number.isInteger(r.prefixLen) || r.prefixLen < 0 || r.prefixLen > bits) {
    throw new TslvsError(ErrorCodes.CONFIG, `${where}: prefix length must be 0-${bits}`);
  }
  if (!Number.isInteger(r.iface) || r.iface < 0 || r.iface >= interfaceCount) {
    throw new TslvsError(ErrorCodes.CONFIG, `${where}: interface ${r.iface} does not exist`);
  }
  if (r.via && r.via.family !== (r.prefix.family as Family)) {
    throw new TslvsError(ErrorCodes.CONFIG, `${where}: gateway ${formatIp(r.via)} is of another family`);
  }
  if (r.src && r.src.family !== (r.prefix.family as Family)) {
    throw new TslvsError(ErrorCodes.CONFIG, `${where}: source ${formatIp(r.src)} is of another family`);
  }
}
