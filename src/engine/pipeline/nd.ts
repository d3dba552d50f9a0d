/**
 * IPv6 Neighbor Discovery messages the director sends and answers (RFC 4861 §4.3, §4.4, §7): Neighbor
 * Solicitation to resolve a next hop, Neighbor Advertisement for addresses it owns. The wire layer has
 * the ICMPv6 view; the two message bodies are small enough to live here.
 */
import { readU16, writeU16, writeU32 } from '../../wire/bytes.js';
import { fold, onesSum, pseudoSumV6Words } from '../../wire/checksum.js';
import { ICMP_HEADER_LEN, Icmpv6Type } from '../../wire/icmp.js';
import { IpProto } from '../../wire/ipv4.js';
import { IPV6, IPV6_HEADER_LEN } from '../../wire/ipv6.js';
import { putMac } from './words.js';

/** NS/NA body: 4 bytes of flags/reserved, then the 16-byte target, then options. */
export const ND = Object.freeze({ FLAGS: 4, TARGET: 8, OPTIONS: 24 });
export const ND_LEN: number = ND.OPTIONS;
/** Link-layer address option (type 1 source, 2 target), 8 bytes on Ethernet. */
export const NdOpt = Object.freeze({ SOURCE_LL: 1, TARGET_LL: 2 });
const LL_OPT_LEN = 8;
export const NaFlag = Object.freeze({ ROUTER: 0x80, SOLICITED: 0x40, OVERRIDE: 0x20 });
/** RFC 4861 §7.1: ND messages must arrive with hop limit 255 (not forwarded by a router). */
export const ND_HOP_LIMIT = 255;

/** ICMPv6 length of an NS/NA with one link-layer address option. */
export const ND_MSG_LEN: number = ND_LEN + LL_OPT_LEN;

/** Solicited-node multicast group ff02::1:ffXX:XXXX of the address's low 24 bits (RFC 4291 §2.7.1). */
export function solicitedNode(low: number, out: Uint32Array): void {
  out[0] = 0xff020000;
  out[1] = 0;
  out[2] = 1;
  out[3] = (0xff000000 | (low & 0xffffff)) >>> 0;
}

export const ALL_NODES: readonly number[] = Object.freeze([0xff020000, 0, 0, 1]);

/**
 * Writes IPv6 + NS/NA at `off`: `type` 135 or 136, `flags` (NA), target, and one link-layer address option
 * (source for NS, target for NA) carrying `mac`. Returns the IP packet length.
 */
export function writeNdMessage(
  b: Uint8Array,
  off: number,
  type: number,
  flags: number,
  src: ArrayLike<number>,
  si: number,
  dst: ArrayLike<number>,
  di: number,
  target: ArrayLike<number>,
  ti: number,
  macHi: number,
  macLo: number,
): number {
  writeU32(b, off, 0x60000000);
  writeU16(b, off + IPV6.PAYLOAD_LEN, ND_MSG_LEN);
  b[off + IPV6.NEXT_HEADER] = IpProto.ICMPV6;
  b[off + IPV6.HOP_LIMIT] = ND_HOP_LIMIT;
  for (let i = 0; i < 4; i++) {
    writeU32(b, off + IPV6.SRC + 4 * i, src[si + i]!);
    writeU32(b, off + IPV6.DST + 4 * i, dst[di + i]!);
  }
  const m = off + IPV6_HEADER_LEN;
  b[m] = type;
  b[m + 1] = 0;
  writeU16(b, m + 2, 0);
  writeU32(b, m + ND.FLAGS, type === Icmpv6Type.NEIGHBOR_ADVERT ? (flags << 24) >>> 0 : 0);
  for (let i = 0; i < 4; i++) writeU32(b, m + ND.TARGET + 4 * i, target[ti + i]!);
  const o = m + ND.OPTIONS;
  b[o] = type === Icmpv6Type.NEIGHBOR_SOLICIT ? NdOpt.SOURCE_LL : NdOpt.TARGET_LL;
  b[o + 1] = 1; // in units of 8 bytes
  putMac(b, o + 2, macHi, macLo);
  const sum = onesSum(b, m, ND_MSG_LEN, pseudoSumV6Words(src, si, dst, di, IpProto.ICMPV6, ND_MSG_LEN));
  writeU16(b, m + 2, ~fold(sum) & 0xffff);
  return IPV6_HEADER_LEN + ND_MSG_LEN;
}

/**
 * Offset of the MAC in the first link-layer address option of `kind` in an NS/NA body at `m` of `len`
 * bytes, or -1 when there is none; -2 when the options are malformed (RFC 4861 §4.6: length > 0, inside
 * the message).
 */
export function ndLinkAddr(b: Uint8Array, m: number, len: number, kind: number): number {
  let p = m + ND.OPTIONS;
  const end = m + len;
  let found = -1;
  while (p + 2 <= end) {
    const l = b[p + 1]! * 8;
    if (l === 0 || p + l > end) return -2;
    if (b[p] === kind && l >= LL_OPT_LEN && found < 0) found = p + 2;
    p += l;
  }
  return p === end ? found : -2;
}

/** Whether the ICMPv6 message at `m` (length `len`) is an NS/NA of sound length and code. */
export function isNdMessage(b: Uint8Array, m: number, len: number): boolean {
  const t = b[m]!;
  return (
    (t === Icmpv6Type.NEIGHBOR_SOLICIT || t === Icmpv6Type.NEIGHBOR_ADVERT) &&
    b[m + 1] === 0 &&
    len >= ND_LEN &&
    len >= ICMP_HEADER_LEN
  );
}

export function ndFlags(b: Uint8Array, m: number): number {
  return b[m + ND.FLAGS]!;
}

export function ndTargetIsMulticast(b: Uint8Array, m: number): boolean {
  return b[m + ND.TARGET] === 0xff;
}

export function ndUnspecified(b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 16; i += 2) if (readU16(b, o + i) !== 0) return false;
  return true;
}
