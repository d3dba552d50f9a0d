/**
 * In-place rewrites of an IP packet being forwarded (already copied into the output frame), family as a
 * parameter, with every affected checksum updated incrementally (RFC 1624 eqn. 3 via src/wire/checksum):
 * addresses touch the IPv4 header checksum and the L4 pseudo-header; ports and sequence numbers only the
 * L4 checksum, and nothing at all when the L4 checksum is CHECKSUM_PARTIAL (it holds only the
 * pseudo-header sum, linux-packet.md §1.7; IPVS tcp_partial_csum_update). A UDP checksum of 0 over IPv4
 * means "none" and stays 0.
 */
import { readU16, writeU16 } from '../../wire/bytes.js';
import {
  csumUpdate16,
  csumUpdate32,
  csumUpdateWords,
  eqn3Add16,
  eqn3Add32,
  eqn3Apply,
  fold,
  onesSum,
  partialCsumUpdate16,
  partialCsumUpdate32,
  partialCsumUpdateWords,
  udpCsumUpdate16,
  udpCsumUpdate32,
  udpCsumUpdateWords,
} from '../../wire/checksum.js';
import { IPV4 } from '../../wire/ipv4.js';
import { IPV6 } from '../../wire/ipv6.js';
import { rd32, wr32 } from '../pipeline/words.js';

/** Where the L4 checksum of a packet lives and how it is updated. */
export const L4Sum = Object.freeze({ NONE: 0, TCP: 1, UDP: 2 });

const oldWords = new Uint32Array(4);

/** Offset of the L4 checksum field for `kind`, or -1. */
export function l4CsumAt(l4: number, kind: number): number {
  return kind === L4Sum.TCP ? l4 + 16 : kind === L4Sum.UDP ? l4 + 6 : -1;
}

function update32(b: Uint8Array, at: number, kind: number, partial: boolean, o: number, n: number): void {
  if (at < 0) return;
  const c = readU16(b, at);
  if (partial) writeU16(b, at, partialCsumUpdate32(c, o, n));
  else if (kind === L4Sum.UDP) writeU16(b, at, udpCsumUpdate32(c, o, n));
  else writeU16(b, at, csumUpdate32(c, o, n));
}

/**
 * Sets the source (`dst` false) or destination address of the IP packet at `l3` to `w[wo..]`, updating the
 * IPv4 header checksum and the L4 checksum at `at` (-1: none; `kind` L4Sum) for the pseudo-header change.
 */
export function setAddr(
  b: Uint8Array,
  l3: number,
  af: number,
  dst: boolean,
  w: ArrayLike<number>,
  wo: number,
  at: number,
  kind: number,
  partial: boolean,
): void {
  if (af === 4) {
    const f = l3 + (dst ? IPV4.DST : IPV4.SRC);
    const o = rd32(b, f);
    const n = w[wo]! | 0;
    if (o === n) return;
    wr32(b, f, n);
    const hc = l3 + IPV4.CHECKSUM;
    writeU16(b, hc, csumUpdate32(readU16(b, hc), o, n));
    update32(b, at, kind, partial, o, n);
    return;
  }
  const f = l3 + (dst ? IPV6.DST : IPV6.SRC);
  for (let i = 0; i < 4; i++) oldWords[i] = rd32(b, f + 4 * i);
  for (let i = 0; i < 4; i++) wr32(b, f + 4 * i, w[wo + i]! | 0);
  if (at < 0) return;
  const c = readU16(b, at);
  if (partial) writeU16(b, at, partialCsumUpdateWords(c, oldWords, 0, w, wo, 4));
  else if (kind === L4Sum.UDP) writeU16(b, at, udpCsumUpdateWords(c, oldWords, 0, w, wo, 4));
  else writeU16(b, at, csumUpdateWords(c, oldWords, 0, w, wo, 4));
}

/**
 * The common case of setAddr + setPort: an IPv4 TCP segment with a full checksum gets addresses `src`,
 * `dst` (int32 words) and ports `sport`, `dport` (the current value for a field that stays) with one
 * update of the header checksum and one of the TCP checksum, the same bits as field by field.
 */
export function setTcp4Tuple(
  b: Uint8Array,
  l3: number,
  l4: number,
  src: number,
  dst: number,
  sport: number,
  dport: number,
): void {
  const fs = l3 + IPV4.SRC;
  const fd = l3 + IPV4.DST;
  const a = eqn3Add32(rd32(b, fs), src) + eqn3Add32(rd32(b, fd), dst);
  const t = a + eqn3Add16(readU16(b, l4), sport) + eqn3Add16(readU16(b, l4 + 2), dport);
  wr32(b, fs, src);
  wr32(b, fd, dst);
  writeU16(b, l4, sport);
  writeU16(b, l4 + 2, dport);
  const hc = l3 + IPV4.CHECKSUM;
  if (a !== 0) writeU16(b, hc, eqn3Apply(readU16(b, hc), a));
  if (t !== 0) writeU16(b, l4 + 16, eqn3Apply(readU16(b, l4 + 16), t));
}

/** Sets the 16-bit port at `f` (not a pseudo-header input: nothing to do for a partial checksum). */
export function setPort(
  b: Uint8Array,
  f: number,
  v: number,
  at: number,
  kind: number,
  partial: boolean,
): void {
  const o = readU16(b, f);
  if (o === v) return;
  writeU16(b, f, v);
  if (at < 0 || partial) return;
  const c = readU16(b, at);
  writeU16(b, at, kind === L4Sum.UDP ? udpCsumUpdate16(c, o, v) : csumUpdate16(c, o, v));
}

/** Sets a 32-bit TCP header word (sequence or acknowledgment number, a SACK edge). */
export function setWord32(b: Uint8Array, f: number, v: number, at: number, partial: boolean): void {
  const o = rd32(b, f);
  v |= 0;
  if (o === v) return;
  wr32(b, f, v);
  if (!partial) writeU16(b, at, csumUpdate32(readU16(b, at), o, v));
}

/** An L4 length change (pseudo-header input): for a partial checksum this is the only update needed. */
export function l4LengthChanged(
  b: Uint8Array,
  at: number,
  kind: number,
  partial: boolean,
  o: number,
  n: number,
): void {
  if (at < 0 || o === n) return;
  const c = readU16(b, at);
  if (partial) writeU16(b, at, partialCsumUpdate16(c, o, n));
  else if (kind === L4Sum.UDP) writeU16(b, at, udpCsumUpdate16(c, o, n));
  else writeU16(b, at, csumUpdate16(c, o, n));
}

/**
 * Adds `n` new bytes at `off` (an even count at an even offset of the L4 segment, so nothing after them
 * changes word position) to the full checksum at `at`; `udp`: a result of 0 is sent as 0xFFFF.
 */
export function addBytes(b: Uint8Array, at: number, off: number, n: number, udp: boolean): void {
  const c = ~fold((~readU16(b, at) & 0xffff) + onesSum(b, off, n)) & 0xffff;
  writeU16(b, at, udp && c === 0 ? 0xffff : c);
}

/** Decrements the IPv4 TTL (with its header checksum) or the IPv6 hop limit. Caller checked it is > 1. */
export function decTtl(b: Uint8Array, l3: number, af: number): void {
  if (af === 6) {
    b[l3 + IPV6.HOP_LIMIT]!--;
    return;
  }
  const p = l3 + IPV4.TTL;
  const word = (b[p]! << 8) | b[p + 1]!;
  b[p] = b[p]! - 1;
  const hc = l3 + IPV4.CHECKSUM;
  writeU16(b, hc, csumUpdate16(readU16(b, hc), word, word - 0x100));
}

/** Sets the IPv4 total length (with its header checksum) or the IPv6 payload length to match `l3Len`. */
export function setL3Len(b: Uint8Array, l3: number, af: number, l3Len: number): void {
  if (af === 6) {
    writeU16(b, l3 + IPV6.PAYLOAD_LEN, l3Len - 40);
    return;
  }
  const f = l3 + IPV4.TOTAL_LEN;
  const o = readU16(b, f);
  writeU16(b, f, l3Len);
  const hc = l3 + IPV4.CHECKSUM;
  writeU16(b, hc, csumUpdate16(readU16(b, hc), o, l3Len));
}

/** memmove between buffers without allocating when they are one buffer (the worker's ring mapping). */
export function copyPacket(src: Uint8Array, so: number, dst: Uint8Array, d: number, n: number): void {
  if (src === dst) {
    dst.copyWithin(d, so, so + n);
  } else if (n > 96) {
    dst.set(src.subarray(so, so + n), d);
  } else {
    for (let i = 0; i < n; i++) dst[d + i] = src[so + i]!;
  }
}
