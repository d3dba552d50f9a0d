/**
 * IP-in-IP for LVS TUN mode: the director wraps the client's packet in an outer IPv4 header to the real
 * server (RFC 2003 §3.1), written into headroom in front of the inner packet so nothing is copied.
 * IPv6-in-IPv4 (protocol 41, RFC 4213) is recognised and emitted the same way.
 */
import { IPV4, IPV4_DF, IPV4_HEADER_LEN, IpProto, Ipv4Packet } from './ipv4.js';

/** Bytes the outer header adds: the inner MTU is the path MTU minus this. */
export const IPIP_OVERHEAD: number = IPV4_HEADER_LEN;

/** Family of the packet carried by an outer IP protocol number: 4 (IPIP), 6 (41) or 0 (not a tunnel). */
export function tunnelInnerFamily(protocol: number): 0 | 4 | 6 {
  return protocol === IpProto.IPIP ? 4 : protocol === IpProto.IPV6 ? 6 : 0;
}

const outer = new Ipv4Packet();

/**
 * Writes an outer IPv4 header in the 20 bytes before `innerOff` and returns its offset, or -1 when the
 * headroom (down to `minOff`) is missing, the inner packet is not IPv4/IPv6, or the result would exceed
 * 65535 bytes. Outer TOS is copied from the inner TOS / traffic class; DF is set when the inner IPv4 packet
 * has DF (RFC 2003 §3.1) and left clear for IPv6 inner packets (RFC 4213 §3.2.1: IPv4 may fragment).
 * `innerLen` is the inner packet length (its IP total length, not the frame length).
 */
export function encapIpip(
  buf: Uint8Array,
  innerOff: number,
  innerLen: number,
  src: number,
  dst: number,
  ttl: number,
  ident: number,
  minOff = 0,
): number {
  const off = innerOff - IPIP_OVERHEAD;
  if (off < minOff || innerLen < 1 || innerLen + IPIP_OVERHEAD > 0xffff) return -1;
  const version = buf[innerOff]! >>> 4;
  let tos: number;
  let df: boolean;
  let proto: number;
  if (version === 4) {
    tos = buf[innerOff + IPV4.TOS]!;
    df = (buf[innerOff + IPV4.FLAGS_FRAG]! & (IPV4_DF >>> 8)) !== 0;
    proto = IpProto.IPIP;
  } else if (version === 6) {
    tos = ((buf[innerOff]! & 15) << 4) | (buf[innerOff + 1]! >>> 4);
    df = false;
    proto = IpProto.IPV6;
  } else {
    return -1;
  }
  const ip = outer.reset(buf, off, IPIP_OVERHEAD + innerLen);
  buf[off] = 0x45;
  ip.tos = tos;
  ip.totalLen = IPIP_OVERHEAD + innerLen;
  ip.ident = ident;
  ip.flagsFrag = df ? IPV4_DF : 0;
  ip.ttl = ttl;
  ip.protocol = proto;
  ip.src = src;
  ip.dst = dst;
  ip.fillChecksum();
  return off;
}
