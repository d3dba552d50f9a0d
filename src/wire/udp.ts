/** UDP header (RFC 768) view and Repr. */
import { readU16, writeU16 } from './bytes.js';
import {
  checksum,
  checksumOk,
  partialCsumUpdate16,
  partialCsumUpdate32,
  partialCsumUpdateWords,
  udpChecksumValue,
  udpCsumUpdate16,
  udpCsumUpdate32,
  udpCsumUpdateWords,
} from './checksum.js';
import { Reason } from './reasons.js';
import { ByteView } from './view.js';

export const UDP = Object.freeze({ SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6, PAYLOAD: 8 });
export const UDP_HEADER_LEN: number = UDP.PAYLOAD;

export class UdpPacket extends ByteView {
  /** The length field covers at least the header and at most the bytes the IP layer delivered. */
  check(): Reason {
    if (this.len < UDP_HEADER_LEN) return Reason.TRUNCATED_UDP;
    const l = this.length;
    if (l < UDP_HEADER_LEN) return Reason.BAD_UDP_LENGTH;
    if (l > this.len) return Reason.TRUNCATED_UDP;
    return Reason.OK;
  }

  /**
   * Only the 8 header bytes: for a first fragment or an ICMP quote, where the length field describes a
   * datagram that is not all here. Ports are then readable; length/payload/checksum are not checked.
   */
  checkHeader(): Reason {
    return this.len < UDP_HEADER_LEN ? Reason.TRUNCATED_UDP : Reason.OK;
  }

  get srcPort(): number {
    return readU16(this.buf, this.off + UDP.SRC_PORT);
  }
  set srcPort(v: number) {
    writeU16(this.buf, this.off + UDP.SRC_PORT, v);
  }
  get dstPort(): number {
    return readU16(this.buf, this.off + UDP.DST_PORT);
  }
  set dstPort(v: number) {
    writeU16(this.buf, this.off + UDP.DST_PORT, v);
  }
  /** The UDP length field (header + payload). */
  get length(): number {
    return readU16(this.buf, this.off + UDP.LENGTH);
  }
  /** Breaks check() when below 8 or above `len`. */
  set length(v: number) {
    writeU16(this.buf, this.off + UDP.LENGTH, v);
  }
  get checksum(): number {
    return readU16(this.buf, this.off + UDP.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buf, this.off + UDP.CHECKSUM, v);
  }
  get payloadOff(): number {
    return this.off + UDP_HEADER_LEN;
  }
  get payloadLen(): number {
    return this.length - UDP_HEADER_LEN;
  }

  /**
   * `pseudo`: the IP layer's pseudoSum() (which uses the IP payload length; for a well-formed datagram
   * that equals the UDP length). A zero checksum means "none" and verifies over IPv4 only (RFC 8200
   * §8.1 makes it mandatory over IPv6).
   */
  verifyChecksum(pseudo: number, ipv6: boolean): boolean {
    if (this.checksum === 0) return !ipv6;
    return checksumOk(this.buf, this.off, this.length, pseudo);
  }

  fillChecksum(pseudo: number): void {
    this.checksum = 0;
    this.checksum = udpChecksumValue(checksum(this.buf, this.off, this.length, pseudo));
  }

  // NAT maintenance, as TcpPacket; UDP rules: a zero (absent) checksum stays zero, 0 is sent as 0xFFFF.

  updateChecksumPseudo32(oldV: number, newV: number, partial: boolean): void {
    const c = this.checksum;
    this.checksum = partial ? partialCsumUpdate32(c, oldV, newV) : udpCsumUpdate32(c, oldV, newV);
  }

  updateChecksumPseudo16(oldV: number, newV: number, partial: boolean): void {
    const c = this.checksum;
    this.checksum = partial ? partialCsumUpdate16(c, oldV, newV) : udpCsumUpdate16(c, oldV, newV);
  }

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
      : udpCsumUpdateWords(c, oldW, oi, newW, ni, 4);
  }

  updateChecksum16(oldV: number, newV: number, partial: boolean): void {
    if (!partial) this.checksum = udpCsumUpdate16(this.checksum, oldV, newV);
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

export interface UdpParseOptions {
  /** When given, the checksum is verified (BAD_UDP_CHECKSUM); `ipv6` makes a zero checksum invalid. */
  pseudoSum?: number;
  ipv6?: boolean;
}

export class UdpRepr {
  srcPort: number;
  dstPort: number;
  payloadLen: number;

  constructor(f: { srcPort: number; dstPort: number; payloadLen: number }) {
    this.srcPort = f.srcPort;
    this.dstPort = f.dstPort;
    this.payloadLen = f.payloadLen;
  }

  static parse(v: UdpPacket, opts: UdpParseOptions = {}): UdpRepr | Reason {
    const r = v.check();
    if (r !== Reason.OK) return r;
    if (opts.pseudoSum !== undefined && !v.verifyChecksum(opts.pseudoSum, opts.ipv6 ?? false)) {
      return Reason.BAD_UDP_CHECKSUM;
    }
    return new UdpRepr({ srcPort: v.srcPort, dstPort: v.dstPort, payloadLen: v.payloadLen });
  }

  bufferLen(): number {
    return UDP_HEADER_LEN + this.payloadLen;
  }

  /** Writes the header; with `pseudoSum` fills the checksum over header + payload (put the payload first). */
  emit(v: UdpPacket, pseudoSum?: number): void {
    v.srcPort = this.srcPort;
    v.dstPort = this.dstPort;
    v.length = this.bufferLen();
    v.checksum = 0;
    if (pseudoSum !== undefined) v.fillChecksum(pseudoSum);
  }
}
