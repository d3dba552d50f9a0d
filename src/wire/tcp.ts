/** TCP header (RFC 9293 §3.1) view and Repr. Options: see tcp-options.ts. */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import {
  checksum,
  checksumOk,
  csumUpdate16,
  csumUpdate32,
  csumUpdateWords,
  partialCsumUpdate16,
  partialCsumUpdate32,
  partialCsumUpdateWords,
} from './checksum.js';
import { Reason } from './reasons.js';
import { ByteView } from './view.js';

export const TCP = Object.freeze({
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  DATA_OFF: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
});
export const TCP_HEADER_LEN: number = TCP.OPTIONS;
export const TCP_MAX_HEADER_LEN = 60;
export const TCP_MAX_OPTIONS_LEN: number = TCP_MAX_HEADER_LEN - TCP_HEADER_LEN;

export const TcpFlag = Object.freeze({
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
});

export const TcpOptKind = Object.freeze({
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WSCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMP: 8,
});

/** Exact lengths of the fixed-size options we check (0 = not fixed / not checked). */
function fixedOptionLen(kind: number): number {
  switch (kind) {
    case TcpOptKind.MSS:
      return 4;
    case TcpOptKind.WSCALE:
      return 3;
    case TcpOptKind.SACK_PERMITTED:
      return 2;
    case TcpOptKind.TIMESTAMP:
      return 10;
    default:
      return 0;
  }
}

export class TcpPacket extends ByteView {
  /**
   * Data offset within the segment, and every option well formed: kind/length inside the header,
   * MSS/window scale/SACK-permitted/timestamps of their exact length, SACK 2 + 8n (n >= 1).
   */
  check(): Reason {
    if (this.len < TCP_HEADER_LEN) return Reason.TRUNCATED_TCP;
    const hl = this.headerLen;
    if (hl < TCP_HEADER_LEN) return Reason.BAD_TCP_DOFF;
    if (hl > this.len) return Reason.TRUNCATED_TCP;
    return hl === TCP_HEADER_LEN ? Reason.OK : this.checkOptions(hl);
  }

  private checkOptions(hl: number): Reason {
    const b = this.buf;
    const end = this.off + hl;
    let p = this.off + TCP.OPTIONS;
    while (p < end) {
      const kind = b[p]!;
      if (kind === TcpOptKind.EOL) break;
      if (kind === TcpOptKind.NOP) {
        p++;
        continue;
      }
      if (p + 1 >= end) return Reason.BAD_TCP_OPTION;
      const l = b[p + 1]!;
      if (l < 2 || p + l > end) return Reason.BAD_TCP_OPTION;
      const fixed = fixedOptionLen(kind);
      if (fixed !== 0 && l !== fixed) return Reason.BAD_TCP_OPTION;
      if (kind === TcpOptKind.SACK && (l < 10 || (l - 2) % 8 !== 0)) return Reason.BAD_TCP_OPTION;
      p += l;
    }
    return Reason.OK;
  }

  get srcPort(): number {
    return readU16(this.buf, this.off + TCP.SRC_PORT);
  }
  set srcPort(v: number) {
    writeU16(this.buf, this.off + TCP.SRC_PORT, v);
  }
  get dstPort(): number {
    return readU16(this.buf, this.off + TCP.DST_PORT);
  }
  set dstPort(v: number) {
    writeU16(this.buf, this.off + TCP.DST_PORT, v);
  }
  get seq(): number {
    return readU32(this.buf, this.off + TCP.SEQ);
  }
  set seq(v: number) {
    writeU32(this.buf, this.off + TCP.SEQ, v);
  }
  get ack(): number {
    return readU32(this.buf, this.off + TCP.ACK);
  }
  set ack(v: number) {
    writeU32(this.buf, this.off + TCP.ACK, v);
  }
  /** Header length in bytes (data offset × 4). */
  get headerLen(): number {
    return (this.buf[this.off + TCP.DATA_OFF]! >>> 4) << 2;
  }
  /** Breaks check() unless the options fit: re-check. Keeps the reserved/AE bits. */
  set headerLen(bytes: number) {
    const p = this.off + TCP.DATA_OFF;
    this.buf[p] = ((bytes >>> 2) << 4) | (this.buf[p]! & 15);
  }
  get flags(): number {
    return this.buf[this.off + TCP.FLAGS]!;
  }
  set flags(v: number) {
    this.buf[this.off + TCP.FLAGS] = v;
  }
  get syn(): boolean {
    return (this.flags & TcpFlag.SYN) !== 0;
  }
  get ackFlag(): boolean {
    return (this.flags & TcpFlag.ACK) !== 0;
  }
  get fin(): boolean {
    return (this.flags & TcpFlag.FIN) !== 0;
  }
  get rst(): boolean {
    return (this.flags & TcpFlag.RST) !== 0;
  }
  get window(): number {
    return readU16(this.buf, this.off + TCP.WINDOW);
  }
  set window(v: number) {
    writeU16(this.buf, this.off + TCP.WINDOW, v);
  }
  get checksum(): number {
    return readU16(this.buf, this.off + TCP.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buf, this.off + TCP.CHECKSUM, v);
  }
  get urgent(): number {
    return readU16(this.buf, this.off + TCP.URGENT);
  }
  set urgent(v: number) {
    writeU16(this.buf, this.off + TCP.URGENT, v);
  }
  get optionsLen(): number {
    return this.headerLen - TCP_HEADER_LEN;
  }
  /** Bytes of option room left before the 60-byte header limit. */
  get freeOptionSpace(): number {
    return TCP_MAX_HEADER_LEN - this.headerLen;
  }
  get payloadOff(): number {
    return this.off + this.headerLen;
  }
  get payloadLen(): number {
    return this.len - this.headerLen;
  }

  /** `pseudo`: the IP layer's pseudoSum() (Ipv4Packet/Ipv6Packet). */
  verifyChecksum(pseudo: number): boolean {
    return checksumOk(this.buf, this.off, this.len, pseudo);
  }

  fillChecksum(pseudo: number): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.len, pseudo);
  }

  // Checksum maintenance after NAT. `partial`: the frame is CHECKSUM_PARTIAL (the field holds the
  // uncomplemented pseudo-header sum), so only pseudo-header inputs count.

  /** A pseudo-header input (an IPv4 address) changed. */
  updateChecksumPseudo32(oldV: number, newV: number, partial: boolean): void {
    const c = this.checksum;
    this.checksum = partial ? partialCsumUpdate32(c, oldV, newV) : csumUpdate32(c, oldV, newV);
  }

  /** A pseudo-header 16-bit input (the L4 length) changed. */
  updateChecksumPseudo16(oldV: number, newV: number, partial: boolean): void {
    const c = this.checksum;
    this.checksum = partial ? partialCsumUpdate16(c, oldV, newV) : csumUpdate16(c, oldV, newV);
  }

  /** An IPv6 address changed (4 words each). */
  updateChecksumPseudoWords(
    oldW: ArrayLike<number>,
    oi: number,
    newW: ArrayLike<number>,
    ni: number,
    partial: boolean,
  ): void {
    const c = this.checksum;
    this.checksum = partial
      ? partialCsumUpdateWords(c, oldW, oi, newW, ni, 4)
      : csumUpdateWords(c, oldW, oi, newW, ni, 4);
  }

  /** A 16-bit header/payload word changed (a port): nothing to do for a partial checksum. */
  updateChecksum16(oldV: number, newV: number, partial: boolean): void {
    if (!partial) this.checksum = csumUpdate16(this.checksum, oldV, newV);
  }

  /** A 32-bit header word changed (seq/ack adjustment). */
  updateChecksum32(oldV: number, newV: number, partial: boolean): void {
    if (!partial) this.checksum = csumUpdate32(this.checksum, oldV, newV);
  }

  rewriteSrcPort(v: number, partial: boolean): void {
    const o = this.srcPort;
    this.srcPort = v;
    this.updateChecksum16(o, v, partial);
  }

  rewriteDstPort(v: number, partial: boolean): void {
    const o = this.dstPort;
    this.dstPort = v;
    this.updateChecksum16(o, v, partial);
  }
}
