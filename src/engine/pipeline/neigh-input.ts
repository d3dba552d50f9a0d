/**
 * ARP and Neighbor Discovery input: answer for the addresses the director owns (VIPs and Full-NAT local
 * addresses — unless a VRRP backup turned that off —, its interface addresses), and learn next hops.
 * Learning follows the kernel's rules: a request addressed to us and a solicited reply/advertisement
 * create an entry (for on-link addresses only); a gratuitous ARP or unsolicited advertisement only
 * refreshes an existing one. Anything else is passed to the kernel, which sees every frame anyway.
 */

import { ArpOp, ArpPacket } from '../../wire/arp.js';
import { writeU16 } from '../../wire/bytes.js';
import { checksumOk, pseudoSumV6At } from '../../wire/checksum.js';
import { EtherType } from '../../wire/ethernet.js';
import { Icmpv6Type } from '../../wire/icmp.js';
import { IpProto } from '../../wire/ipv4.js';
import { Reason } from '../../wire/reasons.js';
import type { LocalAddressPool } from '../local-addrs.js';
import type { NeighbourTable } from '../neighbours.js';
import type { ServiceTable } from '../service-table.js';
import type { ResolvedConfig } from './config.js';
import type { Egress } from './egress.js';
import {
  ALL_NODES,
  isNdMessage,
  NaFlag,
  ND,
  ND_HOP_LIMIT,
  NdOpt,
  ndFlags,
  ndLinkAddr,
  ndTargetIsMulticast,
  ndUnspecified,
  writeNdMessage,
} from './nd.js';
import type { Packet } from './packet.js';
import { Pass, Stat } from './reasons.js';
import { macHiAt, macLoAt, putMac, rd32, wr32 } from './words.js';

const PASS_ARP = -(Pass.ARP + 1);

type Address = { family: number; words: readonly number[] };

/** A short list of addresses, searched linearly (a few VRRP virtual addresses). */
class AddressList {
  readonly #af: Uint8Array;
  readonly #w: Uint32Array;

  /** From a list, or from parallel family / four-words-per-address arrays (the config's own addresses). */
  constructor(list: readonly Address[] = [], words?: { af: Uint8Array; w: Uint32Array }) {
    if (words) {
      this.#af = words.af;
      this.#w = words.w;
      return;
    }
    this.#af = Uint8Array.from(list, (a) => a.family);
    this.#w = new Uint32Array(list.length * 4);
    list.forEach((a, k) => {
      for (let i = 0; i < 4; i++) this.#w[k * 4 + i] = a.words[i]!;
    });
  }

  has(af: number, w: ArrayLike<number>, o: number): boolean {
    const v = this.#w;
    for (let k = 0; k < this.#af.length; k++) {
      const b = k * 4;
      if (
        this.#af[k] === af &&
        v[b] === w[o] &&
        v[b + 1] === w[o + 1] &&
        v[b + 2] === w[o + 2] &&
        v[b + 3] === w[o + 3]
      )
        return true;
    }
    return false;
  }
}
const PASS_ND = -(Pass.ND + 1);

export class NeighbourInput {
  readonly #cfg: ResolvedConfig;
  readonly #services: ServiceTable;
  readonly #lips: LocalAddressPool | null;
  readonly #neigh: NeighbourTable;
  readonly #eg: Egress;
  readonly #stats: Float64Array;
  readonly #arp = new ArpPacket();
  readonly #a = new Uint32Array(4);
  readonly #t = new Uint32Array(4);
  /**
   * Answer for the director-wide addresses: Full-NAT local addresses and VIPs no VRRP instance manages
   * (without VRRP: every VIP). VRRP-managed addresses are answered while in `#owned`, whatever this says.
   */
  answerVips: boolean;
  /**
   * The VRRP virtual addresses this director holds now (of every instance it is master of): VIPs, and
   * addresses that are no service's VIP, e.g. the real servers' gateway in LVS-NAT, which must move with
   * the master.
   */
  #owned = new AddressList();
  /** The interfaces' own addresses (config). */
  readonly #own: AddressList;
  /** Every address some VRRP instance manages: such a VIP is answered only while owned. */
  #managed = new AddressList();

  constructor(
    cfg: ResolvedConfig,
    services: ServiceTable,
    lips: LocalAddressPool | null,
    neigh: NeighbourTable,
    eg: Egress,
    stats: Float64Array,
  ) {
    this.#cfg = cfg;
    this.#own = new AddressList([], { af: cfg.ownAf, w: cfg.ownAddr });
    this.#services = services;
    this.#lips = lips;
    this.#neigh = neigh;
    this.#eg = eg;
    this.#stats = stats;
    this.answerVips = cfg.answerVips;
  }

  /**
   * Whether `af` address `w[o..]` is the director's: its own, or (while answering for VIPs) a VIP or a
   * Full-NAT local address. Local addresses move with the VIPs: a VRRP backup holds copies of the
   * master's Full-NAT sessions, so real servers must send their replies to whichever director is master.
   */
  owns(af: number, w: ArrayLike<number>, o: number): boolean {
    return this.#own.has(af, w, o) || this.ownsVirtual(af, w, o);
  }

  /**
   * Whether the address is one tslvs holds in user space (the kernel does not own it): a VIP, a Full-NAT
   * local address or an extra VRRP virtual address, while answering for VIPs.
   */
  ownsVirtual(af: number, w: ArrayLike<number>, o: number): boolean {
    if (this.#owned.has(af, w, o)) return true;
    // Director-wide addresses: Full-NAT local addresses, and VIPs no VRRP instance manages.
    if (!this.answerVips) return false;
    if (this.#lips !== null && this.#lips.find(af, w, o) >= 0) return true;
    return this.#services.isVip(af, w, o) && !this.#managed.has(af, w, o);
  }

  /**
   * VRRP: `owned` = the virtual addresses of the instances this director is master of, `managed` = those
   * of every instance. With several instances each VIP follows its own (keepalived's model); see ownsVirtual.
   */
  setVirtualAddresses(owned: readonly Address[], managed: readonly Address[] = owned): void {
    this.#owned = new AddressList(owned);
    this.#managed = new AddressList(managed);
  }

  /** Learns the MAC at `b[mo..]` for `af` address `w`. */
  #learn(
    af: number,
    w: ArrayLike<number>,
    b: Uint8Array,
    mo: number,
    iface: number,
    create: boolean,
    now: number,
  ): void {
    if (this.owns(af, w, 0)) return; // never let the network tell us where our own addresses are
    if (create && !this.#cfg.routes.onLink(af, w, 0, iface)) return;
    if (this.#neigh.learnParts(af, w, 0, macHiAt(b, mo), macLoAt(b, mo), now, create)) {
      this.#stats[Stat.NEIGHBOURS_LEARNED]!++;
    }
  }

  /** An ARP frame: 0 = answered, < 0 pass, > 0 drop code. */
  arp(p: Packet, now: number): number {
    const a = this.#arp.reset(p.buf, p.l3Off, p.l3Len);
    const r = a.check();
    if (r !== Reason.OK) return r;
    const b = p.buf;
    const sha = p.l3Off + 8;
    const spa = this.#a;
    const tpa = this.#t;
    spa.fill(0);
    tpa.fill(0);
    spa[0] = rd32(b, p.l3Off + 14);
    tpa[0] = rd32(b, p.l3Off + 24);
    if (a.op === ArpOp.REQUEST) {
      if (!this.owns(4, tpa, 0)) {
        if (spa[0] === tpa[0]) this.#learn(4, spa, b, sha, p.iface, false, now); // gratuitous
        return PASS_ARP;
      }
      if (spa[0] !== 0) this.#learn(4, spa, b, sha, p.iface, true, now);
      return this.#arpReply(p.iface, b, sha, p.l3Off + 14, p.l3Off + 24) ? 0 : PASS_ARP;
    }
    this.#learn(4, spa, b, sha, p.iface, spa[0] !== tpa[0], now);
    return PASS_ARP;
  }

  /** Answers the request in `rb`: sender MAC at `sha`, sender IP at `spa`, the asked-for address at `tpa`. */
  #arpReply(iface: number, rb: Uint8Array, sha: number, spa: number, tpa: number): boolean {
    const eg = this.#eg;
    const hi = macHiAt(rb, sha);
    const lo = macLoAt(rb, sha);
    const l3 = eg.beginMac(iface, hi, lo, EtherType.ARP);
    if (l3 < 0) return false;
    const b = eg.buf;
    writeU16(b, l3, 1);
    writeU16(b, l3 + 2, EtherType.IPV4);
    b[l3 + 4] = 6;
    b[l3 + 5] = 4;
    writeU16(b, l3 + 6, ArpOp.REPLY);
    putMac(b, l3 + 8, this.#cfg.ifMacHi[iface]!, this.#cfg.ifMacLo[iface]!);
    wr32(b, l3 + 14, rd32(rb, tpa));
    putMac(b, l3 + 18, hi, lo);
    wr32(b, l3 + 24, rd32(rb, spa));
    eg.commit(28, null);
    this.#stats[Stat.ARP_REPLIES]!++;
    return true;
  }

  /** An ICMPv6 NS/NA (RFC 4861 §7.1 validation): 0 = answered, < 0 pass, > 0 drop code. */
  nd(p: Packet, now: number): number {
    const b = p.buf;
    const m = p.l4Off;
    const len = p.l4Len;
    if (p.ttl !== ND_HOP_LIMIT || !isNdMessage(b, m, len) || ndTargetIsMulticast(b, m)) return PASS_ND;
    if (!checksumOk(b, m, len, pseudoSumV6At(b, p.l3Off, IpProto.ICMPV6, len))) {
      return Reason.BAD_ICMP_CHECKSUM;
    }
    const t = this.#t;
    for (let i = 0; i < 4; i++) t[i] = rd32(b, m + ND.TARGET + 4 * i);
    const ethSrc = p.frameOff + 6;
    if (b[m] === Icmpv6Type.NEIGHBOR_SOLICIT) {
      const lla = ndLinkAddr(b, m, len, NdOpt.SOURCE_LL);
      if (lla === -2) return PASS_ND;
      const dad = ndUnspecified(b, p.l3Off + 8);
      if (!this.owns(6, t, 0)) return PASS_ND;
      if (!dad && lla >= 0) this.#learn(6, p.saddr, b, lla, p.iface, true, now);
      // Duplicate address detection (unspecified source): answer to all nodes, 33:33:00:00:00:01.
      if (dad) return this.#advertise(p.iface, true, 0x3333, 1, p.saddr) ? 0 : PASS_ND;
      const at = lla >= 0 ? lla : ethSrc;
      return this.#advertise(p.iface, false, macHiAt(b, at), macLoAt(b, at), p.saddr) ? 0 : PASS_ND;
    }
    const tla = ndLinkAddr(b, m, len, NdOpt.TARGET_LL);
    if (tla === -2) return PASS_ND;
    this.#learn(6, t, b, tla >= 0 ? tla : ethSrc, p.iface, (ndFlags(b, m) & NaFlag.SOLICITED) !== 0, now);
    return PASS_ND;
  }

  #advertise(iface: number, dad: boolean, hi: number, lo: number, to: Uint32Array): boolean {
    const eg = this.#eg;
    const l3 = eg.beginMac(iface, hi, lo, EtherType.IPV6);
    if (l3 < 0) return false;
    const flags = NaFlag.ROUTER | NaFlag.OVERRIDE | (dad ? 0 : NaFlag.SOLICITED);
    const n = writeNdMessage(
      eg.buf,
      l3,
      Icmpv6Type.NEIGHBOR_ADVERT,
      flags,
      this.#t,
      0,
      dad ? ALL_NODES : to,
      0,
      this.#t,
      0,
      this.#cfg.ifMacHi[iface]!,
      this.#cfg.ifMacLo[iface]!,
    );
    eg.commit(n, null);
    this.#stats[Stat.ND_ADVERTS]!++;
    return true;
  }
}
