/**
 * Echo replies for the addresses tslvs holds in user space (VIPs, Full-NAT local addresses, VRRP virtual
 * addresses — while it answers ARP for them). With IPVS the director's kernel owns the VIP and answers
 * ping itself; here the kernel must not own it, so a monitoring system's "is the VIP up?" ping would go
 * unanswered without this. ICMP echo (RFC 792) and ICMPv6 echo (RFC 4443 §4.2): the reply carries the
 * request's identifier, sequence number and data, from the address that was pinged, back to the MAC that
 * sent the request. Fragmented requests are left alone (as the kernel reassembles first, so would we have
 * to); requests with a bad checksum are dropped and counted.
 */

import { readU16, writeU16 } from '../../wire/bytes.js';
import { checksum, checksumOk, csumUpdate16, pseudoSumV6At } from '../../wire/checksum.js';
import { EtherType } from '../../wire/ethernet.js';
import { Icmpv4Type, Icmpv6Type } from '../../wire/icmp.js';
import { IpProto } from '../../wire/ipv4.js';
import { Reason } from '../../wire/reasons.js';
import { copyPacket } from '../forward/rewrite.js';
import type { ResolvedConfig } from './config.js';
import type { Egress } from './egress.js';
import type { NeighbourInput } from './neigh-input.js';
import type { Packet } from './packet.js';
import { Drop, Stat } from './reasons.js';
import { macHiAt, macLoAt, rd32, wr32 } from './words.js';

/** Not an echo request for an address we answer for: the caller goes on with the frame. */
export const NOT_ECHO = -1;

const ECHO_TTL = 64;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;

export class EchoResponder {
  readonly #cfg: ResolvedConfig;
  readonly #eg: Egress;
  readonly #neigh: NeighbourInput;
  readonly #stats: Float64Array;
  #ident = 0;
  #tokens = 0;
  #tokensAt = 0;

  constructor(cfg: ResolvedConfig, eg: Egress, neigh: NeighbourInput, stats: Float64Array) {
    this.#cfg = cfg;
    this.#eg = eg;
    this.#neigh = neigh;
    this.#stats = stats;
    this.#tokens = cfg.pingRatePerSec;
  }

  /** 0 = answered, a drop code (> 0), or NOT_ECHO (`answerPing` off: left to the kernel, which stays silent). */
  reply(p: Packet, now: number): number {
    // A routed IPv6 packet (segments left) is for a later hop; its checksum covers the final address.
    if (!this.#cfg.answerPing || p.frag || p.routed || p.l4Len < 8) return NOT_ECHO;
    const b = p.buf;
    const type = b[p.l4Off]!;
    const v4 = p.af === 4;
    if (type !== (v4 ? Icmpv4Type.ECHO_REQUEST : Icmpv6Type.ECHO_REQUEST) || b[p.l4Off + 1] !== 0)
      return NOT_ECHO;
    if (!this.#neigh.ownsVirtual(p.af, p.daddr, 0)) return NOT_ECHO;
    // No reply to a group MAC or to a source no host can have (Linux drops such martians before ICMP),
    // nor to one of our own addresses: a ping must not be turned into a broadcast or a loop.
    if ((b[p.frameOff + 6]! & 1) !== 0 || martian(p) || this.#neigh.owns(p.af, p.saddr, 0)) {
      return Drop.BAD_SOURCE;
    }
    const pseudo = v4 ? 0 : pseudoSumV6At(b, p.l3Off, IpProto.ICMPV6, p.l4Len);
    if (!p.csumValid && !checksumOk(b, p.l4Off, p.l4Len, pseudo)) return Reason.BAD_ICMP_CHECKSUM;
    if (!this.#rateOk(now)) return Drop.ECHO_RATE_LIMITED;
    const eg = this.#eg;
    const hlen = v4 ? IPV4_HLEN : IPV6_HLEN;
    if (hlen + p.l4Len > eg.l3Room(p.iface)) return Drop.FRAME_TOO_LARGE;
    const ethSrc = p.frameOff + 6;
    const l3 = eg.beginMac(
      p.iface,
      macHiAt(b, ethSrc),
      macLoAt(b, ethSrc),
      v4 ? EtherType.IPV4 : EtherType.IPV6,
    );
    if (l3 < 0) return Drop.TX_FULL;
    const o = eg.buf;
    const icmp = l3 + hlen;
    copyPacket(b, p.l4Off, o, icmp, p.l4Len);
    o[icmp] = v4 ? Icmpv4Type.ECHO_REPLY : Icmpv6Type.ECHO_REPLY;
    // Only the type changed; addresses swap places, which leaves the ICMPv6 pseudo-header sum as it was.
    const old = (type << 8) | 0;
    writeU16(o, icmp + 2, csumUpdate16(readU16(o, icmp + 2), old, o[icmp]! << 8));
    if (v4) this.#ipv4Header(p, o, l3);
    else this.#ipv6Header(p, o, l3);
    eg.commit(hlen + p.l4Len, null);
    this.#stats[Stat.ECHO_REPLIES]!++;
    return 0;
  }

  /** Token bucket of `pingRatePerSec` tokens a second, holding one second's worth; 0 = no limit. */
  #rateOk(now: number): boolean {
    const rate = this.#cfg.pingRatePerSec;
    if (rate === 0) return true;
    const t = Math.min(rate, this.#tokens + ((now - this.#tokensAt) * rate) / 1000);
    this.#tokensAt = now;
    if (!(t >= 1)) {
      this.#tokens = Number.isNaN(t) ? rate : t;
      return false;
    }
    this.#tokens = t - 1;
    return true;
  }

  #ipv4Header(p: Packet, o: Uint8Array, l3: number): void {
    const b = p.buf;
    o[l3] = 0x45;
    o[l3 + 1] = b[p.l3Off + 1]!; // the request's DSCP/ECN
    writeU16(o, l3 + 2, IPV4_HLEN + p.l4Len);
    this.#ident = (this.#ident + 1) & 0xffff;
    writeU16(o, l3 + 4, this.#ident);
    writeU16(o, l3 + 6, 0);
    o[l3 + 8] = ECHO_TTL;
    o[l3 + 9] = IpProto.ICMP;
    writeU16(o, l3 + 10, 0);
    wr32(o, l3 + 12, p.daddr[0]!);
    wr32(o, l3 + 16, p.saddr[0]!);
    writeU16(o, l3 + 10, checksum(o, l3, IPV4_HLEN));
  }

  #ipv6Header(p: Packet, o: Uint8Array, l3: number): void {
    wr32(o, l3, rd32(p.buf, p.l3Off)); // version, traffic class, flow label
    writeU16(o, l3 + 4, p.l4Len);
    o[l3 + 6] = IpProto.ICMPV6;
    o[l3 + 7] = ECHO_TTL;
    for (let i = 0; i < 4; i++) {
      wr32(o, l3 + 8 + 4 * i, p.daddr[i]!);
      wr32(o, l3 + 24 + 4 * i, p.saddr[i]!);
    }
  }
}

/** Sources no reply may go to: IPv4 0/8, 127/8, 224/4 and 240/4; IPv6 ::, ::1 and ff00::/8. */
function martian(p: Packet): boolean {
  const s = p.saddr;
  if (p.af === 4) {
    const top = s[0]! >>> 24;
    return top === 0 || top === 127 || top >= 224;
  }
  if (s[0]! >>> 24 === 0xff) return true;
  return s[0] === 0 && s[1] === 0 && s[2] === 0 && (s[3] === 0 || s[3] === 1);
}
