/** IPv4 header (RFC 791 §3.1): view over the header + payload, and its Repr. */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { checksum, checksumOk, csumUpdate16, csumUpdate32, pseudoSumV4 } from './checksum.js';
import { Reason } from './reasons.js';
import { ByteView } from './view.js';

export const IPV4 = Object.freeze({
  VER_IHL: 0,
  TOS: 1,
  TOTAL_LEN: 2,
  IDENT: 4,
  FLAGS_FRAG: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
});
export const IPV4_HEADER_LEN: number = IPV4.OPTIONS;
export const IPV4_MAX_HEADER_LEN = 60;

export const IPV4_DF = 0x4000;
export const IPV4_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;

export const IpProto = Object.freeze({
  HOPOPTS: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  VRRP: 112,
});

/** IPv4 option types with no length byte. */
const OPT_EOL = 0;
const OPT_NOP = 1;

export class Ipv4Packet extends ByteView {
  /**
   * Version, IHL, total length (bytes past it, e.g. Ethernet padding, are not payload) and the option
   * list. Does not verify the header checksum: see verifyChecksum(). A total length of 0 (IPv4 BIG TCP
   * GSO frames) is rejected as BAD_TOTAL_LENGTH.
   */
  check(): Reason {
    const r = this.checkHeader();
    if (r !== Reason.OK) return r;
    const total = this.totalLen;
    if (total < this.headerLen) return Reason.BAD_TOTAL_LENGTH;
    if (total > this.len) return Reason.TRUNCATED_IPV4;
    return Reason.OK;
  }

  /**
   * For the header quoted inside an ICMP error: the original packet is cut short, so its total length
   * may exceed what is present. Only the header itself must be whole; payload accessors then describe
   * the bytes present (`quotedPayloadLen`).
   */
  checkQuoted(): Reason {
    const r = this.checkHeader();
    if (r !== Reason.OK) return r;
    if (this.totalLen < this.headerLen) return Reason.BAD_TOTAL_LENGTH;
    return Reason.OK;
  }

  private checkHeader(): Reason {
    if (this.len < IPV4_HEADER_LEN) return Reason.TRUNCATED_IPV4;
    const b = this.buf;
    const vi = b[this.off + IPV4.VER_IHL]!;
    if (vi >>> 4 !== 4) return Reason.BAD_IP_VERSION;
    const hl = (vi & 15) << 2;
    if (hl < IPV4_HEADER_LEN) return Reason.BAD_IHL;
    if (hl > this.len) return Reason.TRUNCATED_IPV4;
    return hl === IPV4_HEADER_LEN ? Reason.OK : this.checkOptions(hl);
  }

  private checkOptions(hl: number): Reason {
    const b = this.buf;
    const end = this.off + hl;
    let p = this.off + IPV4.OPTIONS;
    while (p < end) {
      const t = b[p]!;
      if (t === OPT_EOL) break;
      if (t === OPT_NOP) {
        p++;
        continue;
      }
      if (p + 1 >= end) return Reason.BAD_IPV4_OPTION;
      const l = b[p + 1]!;
      if (l < 2 || p + l > end) return Reason.BAD_IPV4_OPTION;
      p += l;
    }
    return Reason.OK;
  }

  get version(): number {
    return this.buf[this.off + IPV4.VER_IHL]! >>> 4;
  }
  /** Header length in bytes (IHL × 4). */
  get headerLen(): number {
    return (this.buf[this.off + IPV4.VER_IHL]! & 15) << 2;
  }
  /** Writing the IHL (with version 4) breaks check() unless the options are there: re-check. */
  set headerLen(bytes: number) {
    this.buf[this.off + IPV4.VER_IHL] = 0x40 | (bytes >>> 2);
  }
  get tos(): number {
    return this.buf[this.off + IPV4.TOS]!;
  }
  set tos(v: number) {
    this.buf[this.off + IPV4.TOS] = v;
  }
  get dscp(): number {
    return this.tos >>> 2;
  }
  get ecn(): number {
    return this.tos & 3;
  }
  get totalLen(): number {
    return readU16(this.buf, this.off + IPV4.TOTAL_LEN);
  }
  /** Breaks check() when made larger than `len` or smaller than the header. */
  set totalLen(v: number) {
    writeU16(this.buf, this.off + IPV4.TOTAL_LEN, v);
  }
  get ident(): number {
    return readU16(this.buf, this.off + IPV4.IDENT);
  }
  set ident(v: number) {
    writeU16(this.buf, this.off + IPV4.IDENT, v);
  }
  /** The 16-bit flags + fragment offset word. */
  get flagsFrag(): number {
    return readU16(this.buf, this.off + IPV4.FLAGS_FRAG);
  }
  set flagsFrag(v: number) {
    writeU16(this.buf, this.off + IPV4.FLAGS_FRAG, v);
  }
  get dontFrag(): boolean {
    return (this.flagsFrag & IPV4_DF) !== 0;
  }
  get moreFrags(): boolean {
    return (this.flagsFrag & IPV4_MF) !== 0;
  }
  /** Fragment offset in bytes. */
  get fragOffset(): number {
    return (this.flagsFrag & FRAG_OFFSET_MASK) << 3;
  }
  /** Part of a fragmented datagram (MF set or non-zero offset). */
  get isFragment(): boolean {
    return (this.flagsFrag & (IPV4_MF | FRAG_OFFSET_MASK)) !== 0;
  }
  /** A fragment other than the first carries no L4 header. */
  get hasL4Header(): boolean {
    return (this.flagsFrag & FRAG_OFFSET_MASK) === 0;
  }
  get ttl(): number {
    return this.buf[this.off + IPV4.TTL]!;
  }
  set ttl(v: number) {
    this.buf[this.off + IPV4.TTL] = v;
  }
  get protocol(): number {
    return this.buf[this.off + IPV4.PROTOCOL]!;
  }
  set protocol(v: number) {
    this.buf[this.off + IPV4.PROTOCOL] = v;
  }
  get checksum(): number {
    return readU16(this.buf, this.off + IPV4.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buf, this.off + IPV4.CHECKSUM, v);
  }
  get src(): number {
    return readU32(this.buf, this.off + IPV4.SRC);
  }
  set src(v: number) {
    writeU32(this.buf, this.off + IPV4.SRC, v);
  }
  get dst(): number {
    return readU32(this.buf, this.off + IPV4.DST);
  }
  set dst(v: number) {
    writeU32(this.buf, this.off + IPV4.DST, v);
  }
  get optionsLen(): number {
    return this.headerLen - IPV4_HEADER_LEN;
  }
  /** Absolute offset of the payload in `buf`. */
  get payloadOff(): number {
    return this.off + this.headerLen;
  }
  /** Payload bytes per the total length (after check()). */
  get payloadLen(): number {
    return this.totalLen - this.headerLen;
  }
  /** Payload bytes actually present: for a header quoted in an ICMP error (after checkQuoted()). */
  get quotedPayloadLen(): number {
    return Math.min(this.totalLen, this.len) - this.headerLen;
  }

  /** Absolute offset of the first option of `type`, or -1 (after check()). */
  findOption(type: number): number {
    const b = this.buf;
    const end = this.off + this.headerLen;
    let p = this.off + IPV4.OPTIONS;
    while (p < end) {
      const t = b[p]!;
      if (t === type) return p;
      if (t === OPT_EOL) break;
      const l = t === OPT_NOP ? 1 : b[p + 1]!;
      if (!(l >= 1)) break; // only without check(): never loop on a zero length
      p += l;
    }
    return -1;
  }

  verifyChecksum(): boolean {
    return checksumOk(this.buf, this.off, this.headerLen);
  }

  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.headerLen);
  }

  /** Pseudo-header sum for the L4 checksum of this packet's payload. */
  pseudoSum(): number {
    return pseudoSumV4(this.src, this.dst, this.protocol, this.payloadLen);
  }

  /** NAT: rewrite the source and update the header checksum (RFC 1624). The caller updates L4. */
  rewriteSrc(v: number): void {
    const o = this.src;
    this.src = v;
    this.checksum = csumUpdate32(this.checksum, o, v);
  }

  rewriteDst(v: number): void {
    const o = this.dst;
    this.dst = v;
    this.checksum = csumUpdate32(this.checksum, o, v);
  }

  /** Sets the total length and updates the header checksum (after inserting a TCP option, say). */
  rewriteTotalLen(v: number): void {
    const o = this.totalLen;
    this.totalLen = v;
    this.checksum = csumUpdate16(this.checksum, o, v);
  }

  /** Decrements TTL with an incremental checksum update; returns the new TTL (0: drop + ICMP). */
  decrementTtl(): number {
    const b = this.buf;
    const p = this.off + IPV4.TTL;
    const ttl = b[p]!;
    if (ttl === 0) return 0;
    const word = (ttl << 8) | b[p + 1]!;
    b[p] = ttl - 1;
    this.checksum = csumUpdate16(this.checksum, word, word - 0x100);
    return ttl - 1;
  }
}

export class Ipv4Repr {
  src: number;
  dst: number;
  protocol: number;
  payloadLen: number;
  ttl: number;
  tos: number;
  ident: number;
  dontFrag: boolean;
  moreFrags: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset: number;
  /** Raw option bytes, a multiple of 4 long (at most 40). */
  options: Uint8Array;

  constructor(f: {
    src: number;
    dst: number;
    protocol: number;
    payloadLen: number;
    ttl?: number;
    tos?: number;
    ident?: number;
    dontFrag?: boolean;
    moreFrags?: boolean;
    fragOffset?: number;
    options?: Uint8Array;
  }) {
    this.src = f.src >>> 0;
    this.dst = f.dst >>> 0;
    this.protocol = f.protocol;
    this.payloadLen = f.payloadLen;
    this.ttl = f.ttl ?? 64;
    this.tos = f.tos ?? 0;
    this.ident = f.ident ?? 0;
    this.dontFrag = f.dontFrag ?? false;
    this.moreFrags = f.moreFrags ?? false;
    this.fragOffset = f.fragOffset ?? 0;
    this.options = f.options ?? new Uint8Array(0);
  }

  static parse(v: Ipv4Packet, verifyChecksum = true): Ipv4Repr | Reason {
    const r = v.check();
    if (r !== Reason.OK) return r;
    if (verifyChecksum && !v.verifyChecksum()) return Reason.BAD_IP_CHECKSUM;
    return new Ipv4Repr({
      src: v.src,
      dst: v.dst,
      protocol: v.protocol,
      payloadLen: v.payloadLen,
      ttl: v.ttl,
      tos: v.tos,
      ident: v.ident,
      dontFrag: v.dontFrag,
      moreFrags: v.moreFrags,
      fragOffset: v.fragOffset,
      options: v.buf.slice(v.off + IPV4.OPTIONS, v.off + v.headerLen),
    });
  }

  headerLen(): number {
    return IPV4_HEADER_LEN + ((this.options.length + 3) & ~3);
  }

  /** Header + payload: the total length. */
  bufferLen(): number {
    return this.headerLen() + this.payloadLen;
  }

  /** Writes the header (options zero-padded to 4 bytes) and its checksum; the payload is the caller's. */
  emit(v: Ipv4Packet): void {
    const b = v.buf;
    const o = v.off;
    const hl = this.headerLen();
    v.headerLen = hl;
    v.tos = this.tos;
    v.totalLen = hl + this.payloadLen;
    v.ident = this.ident;
    v.flagsFrag = (this.dontFrag ? IPV4_DF : 0) | (this.moreFrags ? IPV4_MF : 0) | (this.fragOffset >>> 3);
    v.ttl = this.ttl;
    v.protocol = this.protocol;
    v.src = this.src;
    v.dst = this.dst;
    b.set(this.options, o + IPV4.OPTIONS);
    b.fill(0, o + IPV4.OPTIONS + this.options.length, o + hl);
    v.fillChecksum();
  }
}
