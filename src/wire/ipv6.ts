/**
 * IPv6 header (RFC 8200 §3) and a bounded walk of its extension-header chain (§4): the view reports
 * where the upper-layer header starts, and whether there is one (non-first fragments, ESP and
 * "no next header" have none a load balancer can read).
 */

import type { Ip6Words } from './bytes.js';
import {
  readAddr6Words,
  readIp6Words,
  readU16,
  readU32,
  writeAddr6Words,
  writeU16,
  writeU32,
} from './bytes.js';
import { onesSum } from './checksum.js';
import { IpProto } from './ipv4.js';
import { Reason } from './reasons.js';
import { ByteView } from './view.js';

export const IPV6 = Object.freeze({
  VER_TC_FLOW: 0,
  PAYLOAD_LEN: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
  PAYLOAD: 40,
});
export const IPV6_HEADER_LEN: number = IPV6.PAYLOAD;
export const IPV6_MIN_MTU = 1280;

/** Generic extension header: next header, length in 8-octet units not counting the first 8. */
export const IPV6_EXT = Object.freeze({ NEXT_HEADER: 0, LEN: 1, MIN_END: 8 });
/** Fragment header (RFC 8200 §4.5). */
export const IPV6_FRAG = Object.freeze({ NEXT_HEADER: 0, RESERVED: 1, OFFSET_FLAGS: 2, IDENT: 4, END: 8 });
/** Routing header: type at byte 2, segments left at byte 3 (RFC 8200 §4.4). */
export const IPV6_ROUTING_TYPE = 2;
export const IPV6_ROUTING_SEGMENTS_LEFT = 3;

/** More than this many extension headers is treated as an attack (IPV6_EXT_CHAIN_TOO_LONG). */
export const IPV6_MAX_EXT_HEADERS = 8;

const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;

/** True for next-header values whose length is (HdrExtLen + 1) × 8. */
function isGenericExt(nh: number): boolean {
  return (
    nh === IpProto.HOPOPTS ||
    nh === IpProto.ROUTING ||
    nh === IpProto.DSTOPTS ||
    nh === MOBILITY ||
    nh === HIP ||
    nh === SHIM6
  );
}

export class Ipv6Packet extends ByteView {
  /** Set by check(): */
  /** Protocol after the extension chain (6, 17, 58, 50 ESP, 59 none...). */
  upperProto = 0;
  /** Absolute offset where `upperProto`'s header starts (end of the chain). */
  upperOff = 0;
  /** False for non-first fragments, ESP and no-next-header: nothing at upperOff to parse as L4. */
  hasL4Header = false;
  extCount = 0;
  /** Absolute offset of the Fragment header, or -1. */
  fragHeaderOff = -1;
  /** Segments left of the last Routing header (0 if none): > 0 means `dst` is not the final one. */
  routingSegmentsLeft = 0;
  /**
   * Absolute offset of the final destination address: `dst`, or with segments left the last address of
   * a type 0/2 Routing header or Segment List[0] of an SRH (type 4). Used by pseudoSum (RFC 8200 §8.1).
   */
  finalDstOff = 0;

  override reset(buf: Uint8Array, off: number, len: number): this {
    super.reset(buf, off, len);
    this.upperProto = 0;
    this.upperOff = off;
    this.hasL4Header = false;
    this.extCount = 0;
    this.fragHeaderOff = -1;
    this.routingSegmentsLeft = 0;
    this.finalDstOff = off + IPV6.DST;
    return this;
  }

  /** Header, payload length (bytes past it are padding) and the extension chain. */
  check(): Reason {
    const r = this.checkFixed();
    if (r !== Reason.OK) return r;
    if (IPV6_HEADER_LEN + this.payloadLen > this.len) return Reason.TRUNCATED_IPV6;
    return this.walkChain(this.off + IPV6_HEADER_LEN + this.payloadLen);
  }

  /**
   * For a packet quoted in an ICMPv6 error: cut short, so the chain is walked over the bytes present
   * and a chain running past them is TRUNCATED_IPV6_EXT.
   */
  checkQuoted(): Reason {
    const r = this.checkFixed();
    if (r !== Reason.OK) return r;
    const present = Math.min(IPV6_HEADER_LEN + this.payloadLen, this.len);
    return this.walkChain(this.off + present);
  }

  private checkFixed(): Reason {
    if (this.len < IPV6_HEADER_LEN) return Reason.TRUNCATED_IPV6;
    if (this.buf[this.off]! >>> 4 !== 6) return Reason.BAD_IP_VERSION;
    return Reason.OK;
  }

  private walkChain(end: number): Reason {
    const b = this.buf;
    let nh = b[this.off + IPV6.NEXT_HEADER]!;
    let p = this.off + IPV6_HEADER_LEN;
    let count = 0;
    this.fragHeaderOff = -1;
    this.routingSegmentsLeft = 0;
    this.finalDstOff = this.off + IPV6.DST;
    this.hasL4Header = true;
    for (;;) {
      let hlen: number;
      if (isGenericExt(nh)) {
        if (nh === IpProto.HOPOPTS && count !== 0) return Reason.BAD_IPV6_EXT_ORDER;
        if (p + IPV6_EXT.MIN_END > end) return Reason.TRUNCATED_IPV6_EXT;
        hlen = (b[p + IPV6_EXT.LEN]! + 1) << 3;
        if (nh === IpProto.ROUTING && p + hlen <= end) this.noteRouting(p, hlen);
      } else if (nh === IpProto.FRAGMENT) {
        if (p + IPV6_FRAG.END > end) return Reason.TRUNCATED_IPV6_EXT;
        hlen = IPV6_FRAG.END;
        this.fragHeaderOff = p;
      } else if (nh === IpProto.AH) {
        if (p + 2 > end) return Reason.TRUNCATED_IPV6_EXT;
        hlen = (b[p + 1]! + 2) << 2; // RFC 4302 §2.2: in 32-bit words, minus 2
      } else {
        break; // upper layer, ESP (50) or no next header (59)
      }
      if (p + hlen > end) return Reason.TRUNCATED_IPV6_EXT;
      if (++count > IPV6_MAX_EXT_HEADERS) return Reason.IPV6_EXT_CHAIN_TOO_LONG;
      const next = b[p]!;
      const isFrag = nh === IpProto.FRAGMENT;
      p += hlen;
      nh = next;
      // A non-first fragment carries the rest of the datagram, not headers: stop here.
      if (isFrag && (readU16(b, this.fragHeaderOff + IPV6_FRAG.OFFSET_FLAGS) & 0xfff8) !== 0) {
        this.hasL4Header = false;
        break;
      }
    }
    if (nh === IpProto.ESP || nh === IpProto.NONE) this.hasL4Header = false;
    this.extCount = count;
    this.upperProto = nh;
    this.upperOff = p;
    return Reason.OK;
  }

  private noteRouting(p: number, hlen: number): void {
    const left = this.buf[p + IPV6_ROUTING_SEGMENTS_LEFT]!;
    this.routingSegmentsLeft = left;
    if (left === 0 || hlen < 24) return;
    const type = this.buf[p + IPV6_ROUTING_TYPE]!;
    if (type === 0)
      this.finalDstOff = p + hlen - 16; // last address of the list
    else if (type === 2 || type === 4) this.finalDstOff = p + 8; // home address / Segment List[0]
  }

  get version(): number {
    return this.buf[this.off]! >>> 4;
  }
  get trafficClass(): number {
    return (readU16(this.buf, this.off) >>> 4) & 0xff;
  }
  set trafficClass(v: number) {
    const w = readU16(this.buf, this.off);
    writeU16(this.buf, this.off, (w & 0xf00f) | ((v & 0xff) << 4));
  }
  get flowLabel(): number {
    return readU32(this.buf, this.off) & 0xfffff;
  }
  set flowLabel(v: number) {
    const w = readU32(this.buf, this.off);
    writeU32(this.buf, this.off, ((w & 0xfff00000) | (v & 0xfffff)) >>> 0);
  }
  get payloadLen(): number {
    return readU16(this.buf, this.off + IPV6.PAYLOAD_LEN);
  }
  /** Breaks check() when it points past `len` or cuts the extension chain: re-check. */
  set payloadLen(v: number) {
    writeU16(this.buf, this.off + IPV6.PAYLOAD_LEN, v);
  }
  get nextHeader(): number {
    return this.buf[this.off + IPV6.NEXT_HEADER]!;
  }
  /** Breaks check()'s chain results: re-check. */
  set nextHeader(v: number) {
    this.buf[this.off + IPV6.NEXT_HEADER] = v;
  }
  get hopLimit(): number {
    return this.buf[this.off + IPV6.HOP_LIMIT]!;
  }
  set hopLimit(v: number) {
    this.buf[this.off + IPV6.HOP_LIMIT] = v;
  }
  /** Word `i` (0..3) of the source address, `ntohl` form. */
  srcWord(i: number): number {
    return readU32(this.buf, this.off + IPV6.SRC + 4 * i);
  }
  dstWord(i: number): number {
    return readU32(this.buf, this.off + IPV6.DST + 4 * i);
  }
  readSrc(out: { [i: number]: number }, idx = 0): void {
    readAddr6Words(this.buf, this.off + IPV6.SRC, out, idx);
  }
  readDst(out: { [i: number]: number }, idx = 0): void {
    readAddr6Words(this.buf, this.off + IPV6.DST, out, idx);
  }
  /** No IPv6 header checksum: the caller updates the L4 checksum (csumUpdateWords). */
  writeSrc(words: ArrayLike<number>, idx = 0): void {
    writeAddr6Words(this.buf, this.off + IPV6.SRC, words, idx);
  }
  writeDst(words: ArrayLike<number>, idx = 0): void {
    writeAddr6Words(this.buf, this.off + IPV6.DST, words, idx);
  }
  get srcOff(): number {
    return this.off + IPV6.SRC;
  }
  get dstOff(): number {
    return this.off + IPV6.DST;
  }
  /** Absolute end of the packet per the payload length. */
  get end(): number {
    return this.off + IPV6_HEADER_LEN + this.payloadLen;
  }
  /** Bytes from the upper-layer header to the end of the packet (after check()). */
  get upperLen(): number {
    return this.end - this.upperOff;
  }
  /**
   * Part of a fragmented datagram. An atomic fragment (Fragment header with offset 0 and M clear) is a
   * whole datagram and is processed as one (RFC 6946 §4): not a fragment here.
   */
  get isFragment(): boolean {
    return (
      this.fragHeaderOff >= 0 &&
      (readU16(this.buf, this.fragHeaderOff + IPV6_FRAG.OFFSET_FLAGS) & 0xfff9) !== 0
    );
  }
  /** Fragment offset in bytes, 0 when not fragmented. */
  get fragOffset(): number {
    return this.fragHeaderOff < 0
      ? 0
      : readU16(this.buf, this.fragHeaderOff + IPV6_FRAG.OFFSET_FLAGS) & 0xfff8;
  }
  get moreFrags(): boolean {
    return this.fragHeaderOff >= 0 && (this.buf[this.fragHeaderOff + IPV6_FRAG.OFFSET_FLAGS + 1]! & 1) === 1;
  }
  get fragIdent(): number {
    return this.fragHeaderOff < 0 ? 0 : readU32(this.buf, this.fragHeaderOff + IPV6_FRAG.IDENT);
  }
  /** Pseudo-header sum for the upper-layer checksum (RFC 8200 §8.1), with the final destination. */
  pseudoSum(): number {
    const len = this.upperLen;
    const s = onesSum(this.buf, this.off + IPV6.SRC, 16, this.upperProto + (len >>> 16) + (len & 0xffff));
    return onesSum(this.buf, this.finalDstOff, 16, s);
  }
}

/**
 * The fixed header as data. Extension headers are kept as raw bytes (`extHeaders`, between the fixed
 * header and the upper layer) with `nextHeader` naming the first of them, so a parse/emit round trip is
 * exact; `upperProto` is what the chain ends in.
 */
export class Ipv6Repr {
  src: Ip6Words;
  dst: Ip6Words;
  nextHeader: number;
  payloadLen: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
  extHeaders: Uint8Array;
  upperProto: number;

  constructor(f: {
    src: Ip6Words;
    dst: Ip6Words;
    nextHeader: number;
    payloadLen: number;
    hopLimit?: number;
    trafficClass?: number;
    flowLabel?: number;
    extHeaders?: Uint8Array;
    upperProto?: number;
  }) {
    this.src = f.src;
    this.dst = f.dst;
    this.nextHeader = f.nextHeader;
    this.payloadLen = f.payloadLen;
    this.hopLimit = f.hopLimit ?? 64;
    this.trafficClass = f.trafficClass ?? 0;
    this.flowLabel = f.flowLabel ?? 0;
    this.extHeaders = f.extHeaders ?? new Uint8Array(0);
    this.upperProto = f.upperProto ?? f.nextHeader;
  }

  static parse(v: Ipv6Packet): Ipv6Repr | Reason {
    const r = v.check();
    if (r !== Reason.OK) return r;
    return new Ipv6Repr({
      src: readIp6Words(v.buf, v.off + IPV6.SRC),
      dst: readIp6Words(v.buf, v.off + IPV6.DST),
      nextHeader: v.nextHeader,
      payloadLen: v.payloadLen,
      hopLimit: v.hopLimit,
      trafficClass: v.trafficClass,
      flowLabel: v.flowLabel,
      extHeaders: v.buf.slice(v.off + IPV6_HEADER_LEN, v.upperOff),
      upperProto: v.upperProto,
    });
  }

  /** Fixed header + payload (which includes the extension headers). */
  bufferLen(): number {
    return IPV6_HEADER_LEN + this.payloadLen;
  }

  /** Writes the fixed header and the raw extension headers; the upper layer is the caller's. */
  emit(v: Ipv6Packet): void {
    const b = v.buf;
    const o = v.off;
    writeU32(b, o, (0x60000000 | ((this.trafficClass & 0xff) << 20) | (this.flowLabel & 0xfffff)) >>> 0);
    v.payloadLen = this.payloadLen;
    v.nextHeader = this.nextHeader;
    v.hopLimit = this.hopLimit;
    writeAddr6Words(b, o + IPV6.SRC, this.src);
    writeAddr6Words(b, o + IPV6.DST, this.dst);
    b.set(this.extHeaders, o + IPV6_HEADER_LEN);
  }
}
