/**
 * Builders for the ICMP errors a forwarder originates: IPv4 "fragmentation needed" (RFC 1191) when a
 * DF packet does not fit (e.g. after IPIP encapsulation) and ICMPv6 "packet too big" (RFC 4443 §3.2).
 * They write a complete IP packet (no Ethernet header) into a caller's buffer, quote as much of the
 * original as the RFC limits allow and fill every checksum. The original may live in the same buffer.
 */
import { copyBytes, readU32, writeU32 } from './bytes.js';
import { pseudoSumV6At } from './checksum.js';
import { ICMP_HEADER_LEN, Icmpv4Code, Icmpv4Packet, Icmpv4Type, Icmpv6Packet, Icmpv6Type } from './icmp.js';
import { IPV4, IPV4_HEADER_LEN, IpProto, Ipv4Packet } from './ipv4.js';
import { IPV6, IPV6_HEADER_LEN, IPV6_MIN_MTU, Ipv6Packet } from './ipv6.js';

/** RFC 1812 §4.3.2.3: an ICMPv4 error carries as much of the original as fits in 576 bytes. */
export const ICMPV4_ERROR_MAX = 576;
/** RFC 4443 §2.4 (c): an ICMPv6 error must not exceed the minimum IPv6 MTU. */
export const ICMPV6_ERROR_MAX: number = IPV6_MIN_MTU;

/** Linux icmp_send: errors go out with precedence "internetwork control" plus the original TOS bits. */
const IPTOS_PREC_INTERNETCONTROL = 0xc0;
const IPTOS_TOS_MASK = 0x1e;

const ip4 = new Ipv4Packet();
const ip6 = new Ipv6Packet();
const icmp4 = new Icmpv4Packet();
const icmp6 = new Icmpv6Packet();

/**
 * Writes IPv4 + ICMP error `type`/`code` with bytes 4-7 = `rest`, from `src` to the source of the IPv4
 * packet `orig[origOff..origOff+origLen)`, quoting it. Returns the packet length, or 0 when `cap` bytes
 * at `off` cannot hold the original IP header + 8 bytes (RFC 792) or the original is not IPv4.
 */
export function writeIcmpv4Error(
  out: Uint8Array,
  off: number,
  cap: number,
  type: number,
  code: number,
  rest: number,
  src: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
  ttl = 64,
): number {
  if (origLen < IPV4_HEADER_LEN || orig[origOff]! >>> 4 !== 4) return 0;
  const hdr = IPV4_HEADER_LEN + ICMP_HEADER_LEN;
  const need = Math.min(origLen, ((orig[origOff]! & 15) << 2) + 8);
  const quote = Math.min(origLen, ICMPV4_ERROR_MAX - hdr, cap - hdr);
  if (quote < need) return 0;
  const dst = readU32(orig, origOff + IPV4.SRC);
  const tos = (orig[origOff + IPV4.TOS]! & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL;
  copyBytes(orig, origOff, out, off + hdr, quote); // first: `out` may overlap the original
  const total = hdr + quote;
  const ip = ip4.reset(out, off, total);
  out[off] = 0x45;
  ip.tos = tos;
  ip.totalLen = total;
  ip.ident = 0;
  ip.flagsFrag = 0;
  ip.ttl = ttl;
  ip.protocol = IpProto.ICMP;
  ip.src = src;
  ip.dst = dst;
  ip.fillChecksum();
  const icmp = icmp4.reset(out, off + IPV4_HEADER_LEN, ICMP_HEADER_LEN + quote);
  icmp.type = type;
  icmp.code = code;
  icmp.rest = rest;
  icmp.fillChecksum(0);
  return total;
}

/** Destination unreachable, fragmentation needed and DF set, advertising `mtu` (RFC 1191 §4). */
export function writeFragNeeded(
  out: Uint8Array,
  off: number,
  cap: number,
  src: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
  mtu: number,
  ttl = 64,
): number {
  return writeIcmpv4Error(
    out,
    off,
    cap,
    Icmpv4Type.DEST_UNREACHABLE,
    Icmpv4Code.FRAG_NEEDED,
    mtu & 0xffff,
    src,
    orig,
    origOff,
    origLen,
    ttl,
  );
}

/**
 * Writes IPv6 + ICMPv6 error from `srcWords[si..si+3]` to the source of the IPv6 packet at `origOff`,
 * quoting it within 1280 bytes. Returns the packet length, or 0 when it cannot (see writeIcmpv4Error).
 */
export function writeIcmpv6Error(
  out: Uint8Array,
  off: number,
  cap: number,
  type: number,
  code: number,
  rest: number,
  srcWords: ArrayLike<number>,
  si: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
  hopLimit = 64,
): number {
  if (origLen < IPV6_HEADER_LEN || orig[origOff]! >>> 4 !== 6) return 0;
  const hdr = IPV6_HEADER_LEN + ICMP_HEADER_LEN;
  const quote = Math.min(origLen, ICMPV6_ERROR_MAX - hdr, cap - hdr);
  if (quote < IPV6_HEADER_LEN) return 0;
  // The original source becomes our destination: copy it before the quote may overwrite it.
  const d0 = readU32(orig, origOff + IPV6.SRC);
  const d1 = readU32(orig, origOff + IPV6.SRC + 4);
  const d2 = readU32(orig, origOff + IPV6.SRC + 8);
  const d3 = readU32(orig, origOff + IPV6.SRC + 12);
  copyBytes(orig, origOff, out, off + hdr, quote);
  const ip = ip6.reset(out, off, hdr + quote);
  writeU32(out, off, 0x60000000);
  ip.payloadLen = ICMP_HEADER_LEN + quote;
  ip.nextHeader = IpProto.ICMPV6;
  ip.hopLimit = hopLimit;
  ip.writeSrc(srcWords, si);
  const d = off + IPV6.DST;
  writeU32(out, d, d0);
  writeU32(out, d + 4, d1);
  writeU32(out, d + 8, d2);
  writeU32(out, d + 12, d3);
  const icmp = icmp6.reset(out, off + IPV6_HEADER_LEN, ICMP_HEADER_LEN + quote);
  icmp.type = type;
  icmp.code = code;
  icmp.rest = rest;
  icmp.fillChecksum(pseudoSumV6At(out, off, IpProto.ICMPV6, ICMP_HEADER_LEN + quote));
  return hdr + quote;
}

/** Packet Too Big advertising `mtu` (RFC 4443 §3.2). */
export function writePacketTooBig(
  out: Uint8Array,
  off: number,
  cap: number,
  srcWords: ArrayLike<number>,
  si: number,
  orig: Uint8Array,
  origOff: number,
  origLen: number,
  mtu: number,
  hopLimit = 64,
): number {
  return writeIcmpv6Error(
    out,
    off,
    cap,
    Icmpv6Type.PACKET_TOO_BIG,
    0,
    mtu,
    srcWords,
    si,
    orig,
    origOff,
    origLen,
    hopLimit,
  );
}
