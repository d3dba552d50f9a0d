/**
 * The output side shared by every forwarder: next-hop choice (route table + neighbour table, with ARP /
 * Neighbor Solicitation on a miss), the L2 header of each output frame (MAC addresses, the interface's
 * VLAN tag in band), the vnet header that carries offload state on, and the ICMP errors the director
 * originates (rate-limited like Linux's icmp_ratelimit).
 */
import { writeU16 } from '../../wire/bytes.js';
import { finishPartialChecksum } from '../../wire/checksum.js';
import { EtherType } from '../../wire/ethernet.js';
import { Icmpv6Type } from '../../wire/icmp.js';
import { writeIcmpv4Error, writeIcmpv6Error } from '../../wire/icmp-errors.js';
import { IpProto } from '../../wire/ipv4.js';
import type { DestTable } from '../dest-table.js';
import { Forwarding } from '../forwarding.js';
import type { NeighbourTable } from '../neighbours.js';
import type { ResolvedConfig } from './config.js';
import { type FrameSink, OutVnet, VnetFlag, type VnetState } from './frame.js';
import { solicitedNode, writeNdMessage } from './nd.js';
import type { Packet } from './packet.js';
import { Drop, Stat } from './reasons.js';
import { putMac, wr32 } from './words.js';

const ARP_OFF = Object.freeze({ OP: 6, SHA: 8, SPA: 14, THA: 18, TPA: 24, END: 28 });

export class Egress {
  readonly cfg: ResolvedConfig;
  readonly sinks: readonly FrameSink[];
  readonly neigh: NeighbourTable;
  readonly stats: Float64Array;
  readonly vnet = new OutVnet();
  /**
   * The current time, set by the pipeline once per frame. Read from here rather than passed along: a
   * large millisecond clock is not a small integer for V8, and handing it to a call that was not inlined
   * costs a heap-allocated number per packet.
   */
  now = 0;
  /** Set by `toward`: the interface the next hop is on. */
  outIface = 0;
  /** Set by `begin`: the buffer and frame offset being written. */
  buf: Uint8Array = new Uint8Array(0);
  frameOff = 0;
  l2Len = 0;
  /** The interface of the frame being written (`begin`); after `commit`, of the last frame sent. */
  frameIface = 0;
  /** Frames committed so far, and the length of the last (a forward observer's view of what was sent). */
  sent = 0;
  lastLen = 0;
  /** Set by `pickSource`: the chosen source address (four words; IPv4 in word 0). */
  readonly src = new Uint32Array(4);
  #sink: FrameSink | null = null;
  /** Next hop per real server (dest id): slot, interface, validity, the address it was for. */
  #cSlot = new Int32Array(0);
  #cIface = new Uint8Array(0);
  #cEpoch = new Float64Array(0);
  #cUntil = new Float64Array(0);
  #cAddr = new Uint32Array(0);
  /** Next hop per gateway route. */
  readonly #gSlot: Int32Array;
  readonly #gEpoch: Float64Array;
  readonly #gUntil: Float64Array;
  #tokens: number;
  #tokensAt = Number.NEGATIVE_INFINITY;
  readonly #scratch = new Uint32Array(4);

  constructor(cfg: ResolvedConfig, sinks: readonly FrameSink[], neigh: NeighbourTable, stats: Float64Array) {
    this.cfg = cfg;
    this.sinks = sinks;
    this.neigh = neigh;
    this.stats = stats;
    this.#tokens = cfg.icmpBurst;
    this.#gSlot = new Int32Array(cfg.routes.size);
    this.#gEpoch = new Float64Array(cfg.routes.size).fill(-1);
    this.#gUntil = new Float64Array(cfg.routes.size);
  }

  /** Bytes of L2 header on interface `i`. */
  l2LenOf(i: number): number {
    return this.cfg.ifVlan[i] !== 0 ? 18 : 14;
  }

  /** Largest L3 packet a frame on interface `i` can carry in its sink. */
  l3Room(i: number): number {
    return this.sinks[i]!.capacity - this.l2LenOf(i);
  }

  /**
   * The neighbour slot of the next hop towards `af` address `w[o..]` (sets `outIface`; `begin` takes the
   * slot), or a negative drop code.
   * `direct`: the address itself is the next hop whatever the route says (DR: IPVS's KNOWN_NH).
   * A miss (or a stale entry) sends an ARP request / NS, at most one per retry interval.
   */
  toward(af: number, w: ArrayLike<number>, o: number, direct: boolean): number {
    const now = this.now;
    const rt = this.cfg.routes;
    const r = rt.lookup(af, w, o);
    if (r < 0) return -Drop.NO_ROUTE;
    const iface = rt.iface[r]!;
    const viaGw = !direct && rt.hasGw[r] === 1;
    const neigh = this.neigh;
    // A gateway is the next hop of every destination behind it: its slot is kept per route.
    if (viaGw && this.#gEpoch[r] === neigh.epoch && now < this.#gUntil[r]!) {
      this.outIface = iface;
      return this.#gSlot[r]!;
    }
    const nw = viaGw ? rt.gw : w;
    const no = viaGw ? r * 4 : o;
    const slot = neigh.lookup(af, nw, no, now);
    if (neigh.wantRequest) this.solicit(af, nw, no, iface);
    if (slot < 0) return -Drop.NO_NEIGHBOUR;
    if (viaGw) {
      this.#gSlot[r] = slot;
      this.#gEpoch[r] = neigh.epoch;
      this.#gUntil[r] = neigh.reachableUntil(slot);
    }
    this.outIface = iface;
    return slot;
  }

  /**
   * `toward` the real server `d` (its address in `dests`), with the answer cached per dest until the
   * neighbour table changes or the entry needs refreshing: the per-packet route and neighbour lookups of
   * the in-direction become a few compares. Always the direct next hop (DR) or always via routes.
   */
  towardDest(dests: DestTable, d: number): number {
    const now = this.now;
    const a = dests.addr;
    const b = d * 4;
    if (
      d < this.#cSlot.length &&
      this.#cEpoch[d] === this.neigh.epoch &&
      now < this.#cUntil[d]! &&
      this.#cAddr[b] === a[b] &&
      this.#cAddr[b + 1] === a[b + 1] &&
      this.#cAddr[b + 2] === a[b + 2] &&
      this.#cAddr[b + 3] === a[b + 3]
    ) {
      this.outIface = this.#cIface[d]!;
      return this.#cSlot[d]!;
    }
    const direct = dests.fwd[d] === Forwarding.DR;
    const slot = this.toward(dests.af[d]!, a, b, direct);
    if (slot < 0) return slot;
    if (d >= this.#cSlot.length) this.#growCache(d + 1);
    this.#cSlot[d] = slot;
    this.#cIface[d] = this.outIface;
    this.#cEpoch[d] = this.neigh.epoch;
    this.#cUntil[d] = this.neigh.reachableUntil(slot);
    for (let i = 0; i < 4; i++) this.#cAddr[b + i] = a[b + i]!;
    return slot;
  }

  #growCache(n: number): void {
    const cap = Math.max(n, this.#cSlot.length * 2, 16);
    const g = <T extends Int32Array | Uint8Array | Float64Array | Uint32Array>(x: T, len: number): T => {
      const y = new (x.constructor as new (n: number) => T)(len);
      y.set(x);
      return y;
    };
    this.#cSlot = g(this.#cSlot, cap);
    this.#cIface = g(this.#cIface, cap);
    this.#cEpoch = g(this.#cEpoch, cap).fill(-1, this.#cEpoch.length);
    this.#cUntil = g(this.#cUntil, cap);
    this.#cAddr = g(this.#cAddr, cap * 4);
  }

  /**
   * Chooses the source address for a packet to `af` address `w[o..]` leaving by `iface` (the connected
   * route's own address, else the interface's first of the family) into `src`; false when there is none.
   */
  pickSource(af: number, w: ArrayLike<number>, o: number, iface: number): boolean {
    const cfg = this.cfg;
    const k = cfg.routes.sourceOf(af, w, o);
    const s = this.src;
    if (k >= 0) {
      const rs = cfg.routes.src;
      s[0] = rs[k]!;
      s[1] = rs[k + 1]!;
      s[2] = rs[k + 2]!;
      s[3] = rs[k + 3]!;
      return true;
    }
    if (af === 4) {
      s[0] = cfg.ifV4[iface]!;
      s[1] = s[2] = s[3] = 0;
      return cfg.ifHasV4[iface] === 1;
    }
    for (let i = 0; i < 4; i++) s[i] = cfg.ifV6[iface * 4 + i]!;
    return cfg.ifHasV6[iface] === 1;
  }

  /** `beginMac` to the MAC of neighbour slot `slot` (a `toward` result). */
  begin(iface: number, slot: number, etherType: number): number {
    return this.beginMac(iface, this.neigh.macHi(slot), this.neigh.macLo(slot), etherType);
  }

  /**
   * Starts a frame on interface `iface`: acquires a slot and writes Ethernet (+ VLAN tag) to the MAC
   * `hi`:`lo` (words.ts). Returns the offset of the L3 header in `buf`, or -1 when the ring is full.
   */
  beginMac(iface: number, hi: number, lo: number, etherType: number): number {
    const sink = this.sinks[iface]!;
    const off = sink.acquire();
    if (off < 0) return -1;
    const b = sink.buf;
    this.#sink = sink;
    this.buf = b;
    this.frameOff = off;
    this.frameIface = iface;
    putMac(b, off, hi, lo);
    putMac(b, off + 6, this.cfg.ifMacHi[iface]!, this.cfg.ifMacLo[iface]!);
    const vid = this.cfg.ifVlan[iface]!;
    if (vid !== 0) {
      writeU16(b, off + 12, EtherType.VLAN);
      writeU16(b, off + 14, vid);
      writeU16(b, off + 16, etherType);
      this.l2Len = 18;
    } else {
      writeU16(b, off + 12, etherType);
      this.l2Len = 14;
    }
    return off + this.l2Len;
  }

  /** Queues the frame started by `begin` with `l3Len` bytes of L3. */
  commit(l3Len: number, vnet: VnetState | null): boolean {
    const s = this.#sink!;
    this.#sink = null;
    this.sent++;
    this.lastLen = this.l2Len + l3Len;
    return s.send(this.lastLen, vnet);
  }

  /**
   * Offload state for the output frame of `p` whose L4 header now starts `l4Rel` bytes into the frame and
   * is `l4HdrLen` long: null for a finished frame; else the vnet header (NEEDS_CSUM at the new offset, GSO
   * kept), or — when sinks take no vnet header — the checksum finished here and null.
   */
  vnetFor(p: Packet, l4Rel: number, l4HdrLen: number, l4End: number): VnetState | null {
    if (!p.partial && !p.gso) return null;
    const csumOffset = p.proto === IpProto.TCP ? 16 : 6;
    if (!this.cfg.checksums.vnet) {
      const b = this.buf;
      const start = this.frameOff + l4Rel;
      finishPartialChecksum(b, start, csumOffset, this.frameOff + l4End, p.proto === IpProto.UDP);
      return null;
    }
    const v = this.vnet;
    v.vnetFlags = p.partial ? VnetFlag.NEEDS_CSUM : 0;
    v.gsoType = p.gsoType;
    v.gsoSize = p.gsoSize;
    v.csumStart = l4Rel;
    v.csumOffset = csumOffset;
    v.hdrLen = p.hdrLen !== 0 ? l4Rel + l4HdrLen : 0;
    return v;
  }

  /** Sends an ARP request (IPv4) or a Neighbor Solicitation (IPv6) for `w[o..]` out of `iface`. */
  solicit(af: number, w: ArrayLike<number>, o: number, iface: number): void {
    const cfg = this.cfg;
    const haveSrc = this.pickSource(af, w, o, iface);
    if (af === 4) {
      const l3 = this.beginMac(iface, 0xffff, -1, EtherType.ARP);
      if (l3 < 0) return;
      const b = this.buf;
      writeU16(b, l3, 1);
      writeU16(b, l3 + 2, EtherType.IPV4);
      b[l3 + 4] = 6;
      b[l3 + 5] = 4;
      writeU16(b, l3 + ARP_OFF.OP, 1);
      putMac(b, l3 + ARP_OFF.SHA, cfg.ifMacHi[iface]!, cfg.ifMacLo[iface]!);
      // Without an IPv4 address here the request is an RFC 5227 probe (sender 0.0.0.0): hosts still answer.
      wr32(b, l3 + ARP_OFF.SPA, haveSrc ? this.src[0]! | 0 : 0);
      putMac(b, l3 + ARP_OFF.THA, 0, 0);
      wr32(b, l3 + ARP_OFF.TPA, w[o]! | 0);
      this.commit(ARP_OFF.END, null);
      this.stats[Stat.ARP_REQUESTS]!++;
      return;
    }
    if (!haveSrc) {
      this.stats[Stat.SOLICIT_SKIPPED]!++;
      return;
    }
    const group = this.#scratch;
    solicitedNode(w[o + 3]!, group);
    const l3 = this.beginMac(iface, 0x3333, group[3]! | 0, EtherType.IPV6);
    if (l3 < 0) return;
    const n = writeNdMessage(
      this.buf,
      l3,
      Icmpv6Type.NEIGHBOR_SOLICIT,
      0,
      this.src,
      0,
      group,
      0,
      w,
      o,
      cfg.ifMacHi[iface]!,
      cfg.ifMacLo[iface]!,
    );
    this.commit(n, null);
    this.stats[Stat.ND_SOLICITS]!++;
  }

  /** Token bucket for originated ICMP errors. */
  #rateOk(now: number): boolean {
    const cfg = this.cfg;
    if (cfg.icmpRatePerSec === 0) return false;
    const t = Math.min(cfg.icmpBurst, this.#tokens + ((now - this.#tokensAt) * cfg.icmpRatePerSec) / 1000);
    this.#tokensAt = now;
    if (!(t >= 1)) {
      this.#tokens = Number.isNaN(t) ? cfg.icmpBurst : t;
      return false;
    }
    this.#tokens = t - 1;
    return true;
  }

  /**
   * Sends ICMP error `type`/`code` (bytes 4-7 = `rest`) about the received packet `p` back to its source,
   * from address `src[so..]`. Never about ICMP errors, fragments or non-unicast sources (RFC 1122
   * §3.2.2, RFC 4443 §2.4 e). Returns whether it went out.
   */
  icmpError(
    p: Packet,
    type: number,
    code: number,
    rest: number,
    src: ArrayLike<number>,
    so: number,
  ): boolean {
    const now = this.now;
    if (p.frag || p.proto === IpProto.ICMP || p.proto === IpProto.ICMPV6) return false;
    if (!unicastSource(p) || unspecified(p.af, src, so)) return false;
    if (!this.#rateOk(now)) {
      this.stats[Stat.ICMP_RATE_LIMITED]!++;
      return false;
    }
    const slot = this.toward(p.af, p.saddr, 0, false);
    if (slot < 0) return false;
    const iface = this.outIface;
    const l3 = this.begin(iface, slot, p.af === 4 ? EtherType.IPV4 : EtherType.IPV6);
    if (l3 < 0) return false;
    const cap = this.sinks[iface]!.capacity - this.l2Len;
    const n =
      p.af === 4
        ? writeIcmpv4Error(this.buf, l3, cap, type, code, rest, src[so]! | 0, p.buf, p.l3Off, p.l3Len)
        : writeIcmpv6Error(this.buf, l3, cap, type, code, rest, src, so, p.buf, p.l3Off, p.l3Len);
    if (n === 0) return false;
    this.commit(n, null);
    this.stats[Stat.ICMP_ERRORS_SENT]!++;
    return true;
  }
}

function unspecified(af: number, w: ArrayLike<number>, o: number): boolean {
  return af === 4 ? w[o] === 0 : (w[o]! | w[o + 1]! | w[o + 2]! | w[o + 3]!) === 0;
}

function unicastSource(p: Packet): boolean {
  const w = p.saddr[0]!;
  if (p.af === 4) return w !== 0 && w >>> 28 !== 0xe && w !== 0xffffffff;
  return w >>> 24 !== 0xff && (w | p.saddr[1]! | p.saddr[2]! | p.saddr[3]!) !== 0;
}
