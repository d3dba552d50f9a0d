/**
 * Turns one packet the pipeline forwarded (its input frame and the frame it sent) into a fast-path session
 * entry, or says why that direction of the session cannot be offloaded. The entry is not derived from the
 * forwarding method: it is read off what the pipeline did, and accepted only when that was a pure header
 * rewrite the program reproduces exactly. Every byte other than the MACs, TTL, addresses, ports and the two
 * checksums must be equal, and the checksums the program would compute must be the ones the pipeline wrote
 * (RFC 1624 updates are linear, so what holds for this packet holds for every later one of the session).
 */

import { applyDelta, putU32le, same, u16, wordDelta } from './entry-bytes.js';
import { DEC_TTL, ENCAP, KEY, REWRITE, VAL } from './fastpath-prog.js';
import { readSeqShift, SeqShift } from './seq-shift.js';

export const NotOffloadable = Object.freeze({
  NOT_IPV4: 1,
  IP_OPTIONS_OR_FRAGMENT: 2,
  NOT_TCP_OR_UDP: 3,
  LENGTH_CHANGED: 4,
  HEADER_CHANGED: 5,
  PAYLOAD_CHANGED: 6,
  TTL_CHANGED: 7,
  CHECKSUM_MISMATCH: 8,
  TCP_CONTROL: 9,
});

const IP = 14;
const L4 = 34;

/**
 * The TCP or UDP segment of a forwarded packet against its input (L4 at `il4` / `ol4`, `len` bytes of L4
 * in both): lengths consistent; every byte but the ports, the checksum and a Full-NAT sequence shift
 * (read into SHIFT; `isn` as for offloadEntry) unchanged. Returns 0 or a NotOffloadable reason.
 */
export function compareL4(
  inp: Uint8Array,
  il4: number,
  out: Uint8Array,
  ol4: number,
  len: number,
  udp: boolean,
  isn: number,
): number {
  SHIFT.flag = 0;
  SHIFT.delta = 0;
  SHIFT.words = 0;
  let hl = 8;
  if (udp) {
    if (u16(inp, il4 + 4) !== len || u16(out, ol4 + 4) !== len) return NotOffloadable.LENGTH_CHANGED;
  } else {
    if (len < 20) return NotOffloadable.LENGTH_CHANGED;
    hl = (inp[il4 + 12]! >>> 4) << 2;
    if (hl < 20 || hl > len) return NotOffloadable.LENGTH_CHANGED;
    if (inp[il4 + 13]! & 0x07) return NotOffloadable.TCP_CONTROL;
    // Offset, flags, window, urgent pointer, options: unchanged; sequence and acknowledgment too, or
    // shifted as Full-NAT shifts them behind a PROXY header (fastpath-seq.ts).
    if (!same(inp, il4 + 12, out, ol4 + 12, 4) || !same(inp, il4 + 18, out, ol4 + 18, hl - 18))
      return NotOffloadable.HEADER_CHANGED;
    if (!readSeqShift(inp, il4, out, ol4, hl, isn, SHIFT)) return NotOffloadable.HEADER_CHANGED;
  }
  return same(inp, il4 + hl, out, ol4 + hl, len - hl) ? 0 : NotOffloadable.PAYLOAD_CHANGED;
}

/**
 * The output's L4 checksum is the program's: unchanged without a rewrite (or for a UDP datagram without
 * one), else the input's updated by `delta` (RFC 1624).
 */
export function l4ChecksumOk(
  inp: Uint8Array,
  il4: number,
  out: Uint8Array,
  ol4: number,
  udp: boolean,
  rewrite: boolean,
  delta: number,
): boolean {
  const off = udp ? 6 : 16;
  const old = u16(inp, il4 + off);
  const want = !rewrite || (udp && old === 0) ? old : applyDelta(old, delta, udp);
  return want === u16(out, ol4 + off);
}

/** Scratch for the entry builders (one install at a time). */
export const SHIFT = new SeqShift();

/** SEQ_DELTA and ISN of a shifting entry. */
export function putShift(value: Uint8Array, shift: SeqShift, isn: number): void {
  if (shift.flag === 0) return;
  putU32le(value, VAL.SEQ_DELTA, shift.delta);
  putU32le(value, VAL.ISN, isn >>> 0);
}

/**
 * The MTU the program holds a packet of this entry to (LE u16 at `at`). An entry that rewrites or
 * encapsulates gets the output MTU: a longer packet goes to the pipeline (path MTU rules; an aggregate the
 * generic hook sees after GRO is longer than one segment, and must not be rewritten). A DR entry gets no
 * limit: its packet leaves as it came, and a GSO aggregate is segmented on its way out as the pipeline
 * would (per segment).
 */
export function putMtu(value: Uint8Array, at: number, limited: boolean, mtu: number): void {
  const v = limited ? mtu : 0xffff;
  value[at] = v & 0xff;
  value[at + 1] = (v >>> 8) & 0xff;
}

/**
 * Fills `key` (KEY.LEN bytes) and `value` (VAL.LEN bytes, counters zero) for frames `inp`/`out` (Ethernet
 * at `io`/`oo`, untagged) sent out of interface `ifindex` (MTU `mtu`); `isn`: the Full-NAT session's first
 * client data sequence number when it injects a PROXY header (else 0). Returns 0, or a NotOffloadable
 * reason. An output that is the input (TTL and checksum aside) inside an outer IPv4 header (TUN) makes
 * an ENCAP entry.
 */
export function offloadEntry(
  inp: Uint8Array,
  io: number,
  inLen: number,
  out: Uint8Array,
  frameOff: number,
  frameLen: number,
  ifindex: number,
  mtu: number,
  isn: number,
  key: Uint8Array,
  value: Uint8Array,
): number {
  if (inLen < L4 + 8 || frameLen < L4 + 8) return NotOffloadable.NOT_IPV4;
  if (u16(inp, io + 12) !== 0x0800 || u16(out, frameOff + 12) !== 0x0800) return NotOffloadable.NOT_IPV4;
  // With an outer header the comparisons below look at the inner packet, as if it began 20 bytes later.
  const encap = out[frameOff + IP + 9] === 4 && u16(out, frameOff + IP + 2) === u16(inp, io + IP + 2) + 20;
  if (encap && !outerOk(inp, io, out, frameOff)) return NotOffloadable.HEADER_CHANGED;
  const oo = encap ? frameOff + 20 : frameOff;
  const outLen = encap ? frameLen - 20 : frameLen;
  if (inp[io + IP] !== 0x45 || out[oo + IP] !== 0x45 || (u16(inp, io + IP + 6) & 0x3fff) !== 0)
    return NotOffloadable.IP_OPTIONS_OR_FRAGMENT;
  const proto = inp[io + IP + 9]!;
  if (proto !== 6 && proto !== 17) return NotOffloadable.NOT_TCP_OR_UDP;
  const total = u16(inp, io + IP + 2);
  if (total !== u16(out, oo + IP + 2) || total + IP > inLen || total + IP > outLen || total < 28)
    return NotOffloadable.LENGTH_CHANGED;
  // TOS, identification, flags/offset, protocol: unchanged.
  if (
    inp[io + IP + 1] !== out[oo + IP + 1] ||
    !same(inp, io + IP + 4, out, oo + IP + 4, 4) ||
    inp[io + IP + 9] !== out[oo + IP + 9]
  )
    return NotOffloadable.HEADER_CHANGED;
  const ttlIn = inp[io + IP + 8]!;
  const ttlOut = out[oo + IP + 8]!;
  if (ttlOut !== ttlIn && ttlOut !== ttlIn - 1) return NotOffloadable.TTL_CHANGED;
  const udp = proto === 17;
  const l4r = compareL4(inp, io + L4, out, oo + L4, total - 20, udp, isn);
  if (l4r !== 0) return l4r;
  const shift = SHIFT;
  // What changed: addresses (IP header and pseudo-header), ports (L4 only), TTL (IP header only).
  const addrDelta = wordDelta(inp, io + IP + 12, out, oo + IP + 12, 8);
  const portDelta = wordDelta(inp, io + L4, out, oo + L4, 4);
  const dec = ttlOut !== ttlIn;
  const ipDelta = addrDelta + (dec ? 0xfeff : 0);
  const l4Delta = addrDelta + portDelta;
  const ipCsum = applyDelta(u16(inp, io + IP + 10), ipDelta, false);
  if (ipCsum !== u16(out, oo + IP + 10)) return NotOffloadable.CHECKSUM_MISMATCH;
  const rewrite = addrDelta !== 0 || portDelta !== 0;
  if (!l4ChecksumOk(inp, io + L4, out, oo + L4, udp, rewrite, l4Delta + shift.words))
    return NotOffloadable.CHECKSUM_MISMATCH;
  if (encap && rewrite) return NotOffloadable.HEADER_CHANGED;
  key.fill(0);
  for (let i = 0; i < 8; i++) key[KEY.SADDR + i] = inp[io + IP + 12 + i]!;
  for (let i = 0; i < 4; i++) key[KEY.SPORT + i] = inp[io + L4 + i]!;
  key[KEY.PROTO] = proto;
  value.fill(0);
  if (shift.flag !== 0 && !rewrite) return NotOffloadable.HEADER_CHANGED;
  value[VAL.FLAGS] = (rewrite ? REWRITE : 0) | (dec ? DEC_TTL : 0) | (encap ? ENCAP : 0) | shift.flag;
  putShift(value, shift, isn);
  putU32le(value, VAL.IFINDEX, ifindex);
  for (let i = 0; i < 12; i++) value[VAL.DMAC + i] = out[frameOff + i]!;
  if (encap) {
    for (let i = 0; i < 8; i++) value[VAL.OUTER_SADDR + i] = out[frameOff + IP + 12 + i]!;
    // The outer TTL is the inner one (IPVS) unless it differs: then the director sets one (tunnelTtl).
    const outerTtl = out[frameOff + IP + 8]!;
    value[VAL.OUTER_TTL] = outerTtl === ttlOut ? 0 : outerTtl;
  }
  putMtu(value, VAL.MTU, rewrite || encap, mtu);
  for (let i = 0; i < 8; i++) value[VAL.SADDR + i] = out[oo + IP + 12 + i]!;
  for (let i = 0; i < 4; i++) value[VAL.SPORT + i] = out[oo + L4 + i]!;
  putU32le(value, VAL.IP_DELTA, ipDelta);
  putU32le(value, VAL.L4_DELTA, l4Delta);
  return 0;
}

/**
 * The outer header as tun.ts writes it around the input packet: version 4 without options, TOS and DF
 * copied, not fragmented, protocol 4, a valid checksum (the identification is free: the program picks its
 * own).
 */
function outerOk(inp: Uint8Array, io: number, out: Uint8Array, oo: number): boolean {
  const o = oo + IP;
  if (out[o] !== 0x45 || out[o + 1] !== inp[io + IP + 1]) return false;
  if ((out[o + 6]! & 0xbf) !== 0 || out[o + 7] !== 0) return false;
  if ((out[o + 6]! & 0x40) !== (inp[io + IP + 6]! & 0x40)) return false;
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += u16(out, o + i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}
