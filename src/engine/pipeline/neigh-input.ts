/**
 * ARP and Neighbor Discovery input: answer for the addresses the director owns (VIPs — unless a VRRP
 * backup turned that off —, Full-NAT local addresses, its interface addresses), and learn next hops.
 * Learning follows the kernel's rules: a request addressed to us and a solicited reply/advertisement
 * create an entry (for on-link addresses only); a gratuitous ARP or unsolicited advertisement only
 * refreshes an existing one. Anything else is passed to the kernel, which sees every frame anyway.
 */

import { ArpOp, ArpPacket } from '../../wire/arp.js';
import { readMac, readU32, writeMac, writeU16, writeU32 } from '../../wire/bytes.js';
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

const PASS_ARP = -(Pass.ARP + 1);
const PASS_ND = -(Pass.ND + 1);
const ALL_NODES_MAC = 0x3333_0000_0001;

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
  /** Answer for VIPs (a VRRP backup must not). */
  answerVips: boolean;

  constructor(
    cfg: ResolvedConfig,
    services: ServiceTable,
    lips: LocalAddressPool | null,
    neigh: NeighbourTable,
    eg: Egress,
    stats: Float64Array,
  ) {
    this.#cfg = cfg;
    this.#services = services;
    this.#lips = lips;
    this.#neigh = neigh;
    this.#eg = eg;
    this.#stats = stats;
    this.answerVips = cfg.answerVips;
  }

  /** Whether `af` address `w[o..]` is the director's: its own, a local address, or (if answering) a VIP. */
  owns(af: number, w: ArrayLike<number>, o: number): boolean {
    const cfg = this.#cfg;
    const own = cfg.ownAddr;
    for (let k = 0; k < cfg.ownAf.length; k++) {
      const b = k * 4;
      if (
        cfg.ownAf[k] === af &&
        own[b] === w[o] &&
        own[b + 1] === w[o + 1] &&
        own[b + 2] === w[o + 2] &&
        own[b + 3] === w[o + 3]
      )
        return true;
    }
    if (this.#lips !== null && this.#lips.find(af, w, o) >= 0) return true;
    return this.answerVips && this.#services.isVip(af, w, o);
  }

  #learn(af: number, w: ArrayLike<number>, mac: number, iface: number, create: boolean, now: number): void {
    if (this.owns(af, w, 0)) return; // never let the network tell us where our own addresses are
    if (create && !this.#cfg.routes.onLink(af, w, 0, iface)) return;
    if (this.#neigh.learn(af, w, 0, mac, now, create)) this.#stats[Stat.NEIGHBOURS_LEARNED]!++;
  }

  /** An ARP frame: 0 = answered, < 0 pass, > 0 drop code. */
  arp(p: Packet, now: number): number {
    const a = this.#arp.reset(p.buf, p.l3Off, p.l3Len);
    const r = a.check();
    if (r !== Reason.OK) return r;
    const sha = a.senderMac;
    const spa = this.#a;
    const tpa = this.#t;
    spa.fill(0);
    tpa.fill(0);
    spa[0] = a.senderIp;
    tpa[0] = a.targetIp;
    if (a.op === ArpOp.REQUEST) {
      if (!this.owns(4, tpa, 0)) {
        if (spa[0] === tpa[0]) this.#learn(4, spa, sha, p.iface, false, now); // gratuitous
        return PASS_ARP;
      }
      if (spa[0] !== 0) this.#learn(4, spa, sha, p.iface, true, now);
      return this.#arpReply(p.iface, sha, spa[0]!, tpa[0]!) ? 0 : PASS_ARP;
    }
    this.#learn(4, spa, sha, p.iface, spa[0] !== tpa[0], now);
    return PASS_ARP;
  }

  #arpReply(iface: number, toMac: number, toIp: number, ourIp: number): boolean {
    const eg = this.#eg;
    const l3 = eg.begin(iface, toMac, EtherType.ARP);
    if (l3 < 0) return false;
    const b = eg.buf;
    writeU16(b, l3, 1);
    writeU16(b, l3 + 2, EtherType.IPV4);
    b[l3 + 4] = 6;
    b[l3 + 5] = 4;
    writeU16(b, l3 + 6, ArpOp.REPLY);
    writeMac(b, l3 + 8, this.#cfg.ifMac[iface]!);
    writeU32(b, l3 + 14, ourIp);
    writeMac(b, l3 + 18, toMac);
    writeU32(b, l3 + 24, toIp);
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
    if (!checksumOk(b, m, len, pseudoSumV6At(b, p.l3Off, IpProto.ICMPV6, len)))
      return Reason.BAD_ICMP_CHECKSUM;
    const t = this.#t;
    for (let i = 0; i < 4; i++) t[i] = readU32(b, m + ND.TARGET + 4 * i);
    const ethSrc = readMac(b, p.frameOff + 6);
    if (b[m] === Icmpv6Type.NEIGHBOR_SOLICIT) {
      const lla = ndLinkAddr(b, m, len, NdOpt.SOURCE_LL);
      if (lla === -2) return PASS_ND;
      const dad = ndUnspecified(b, p.l3Off + 8);
      if (!this.owns(6, t, 0)) return PASS_ND;
      if (!dad && lla >= 0) this.#learn(6, p.saddr, lla, p.iface, true, now);
      return this.#advertise(p.iface, dad, dad ? ALL_NODES_MAC : lla >= 0 ? lla : ethSrc, p.saddr)
        ? 0
        : PASS_ND;
    }
    const tla = ndLinkAddr(b, m, len, NdOpt.TARGET_LL);
    if (tla === -2) return PASS_ND;
    this.#learn(6, t, tla >= 0 ? tla : ethSrc, p.iface, (ndFlags(b, m) & NaFlag.SOLICITED) !== 0, now);
    return PASS_ND;
  }

  #advertise(iface: number, dad: boolean, toMac: number, to: Uint32Array): boolean {
    const eg = this.#eg;
    const l3 = eg.begin(iface, toMac, EtherType.IPV6);
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
      this.#cfg.ifMac[iface]!,
    );
    eg.commit(n, null);
    this.#stats[Stat.ND_ADVERTS]!++;
    return true;
  }
}
