/**
 * ICMPv4 (RFC 792) and ICMPv6 (RFC 4443): one layout (type, code, checksum, 4 bytes, body), two views
 * that differ in which types are errors and what the checksum covers. Errors quote the original IP
 * packet at `quoteOff`: reset an Ipv4Packet/Ipv6Packet there and use its checkQuoted(). The quote
 * holds at least 8 bytes of the original L4 header by RFC 792 (ports, and the TCP sequence number):
 * once `quotedPayloadLen >= 8` (IPv4) those fields of a Tcp/UdpPacket reset there are safe to read and
 * rewrite, though its check() would fail on the cut segment (UdpPacket.checkHeader() suits it).
 */
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { checksum, checksumOk } from './checksum.js';
import { IPV4_HEADER_LEN } from './ipv4.js';
import { IPV6_HEADER_LEN } from './ipv6.js';
import { Reason } from './reasons.js';
import { ByteView } from './view.js';

export const ICMP = Object.freeze({
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  /** The 4 "rest of header" bytes: echo id/seq, v4 next-hop MTU (6-7), v6 MTU (4-7), pointer... */
  REST: 4,
  ECHO_ID: 4,
  ECHO_SEQ: 6,
  NEXT_HOP_MTU: 6,
  MTU6: 4,
  BODY: 8,
});
export const ICMP_HEADER_LEN: number = ICMP.BODY;

export const Icmpv4Type = Object.freeze({
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
});
export const Icmpv4Code = Object.freeze({ PORT_UNREACHABLE: 3, FRAG_NEEDED: 4 });

export const Icmpv6Type = Object.freeze({
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
});

export function isIcmpv4Error(type: number): boolean {
  return (
    type === Icmpv4Type.DEST_UNREACHABLE ||
    type === Icmpv4Type.SOURCE_QUENCH ||
    type === Icmpv4Type.REDIRECT ||
    type === Icmpv4Type.TIME_EXCEEDED ||
    type === Icmpv4Type.PARAMETER_PROBLEM
  );
}

/** RFC 4443 §2.1: types 0-127 are errors. */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

abstract class IcmpPacketBase extends ByteView {
  abstract get isError(): boolean;
  protected abstract get minQuote(): number;

  /** The 8-byte header; an error must quote at least a whole fixed IP header. */
  check(): Reason {
    if (this.len < ICMP_HEADER_LEN) return Reason.TRUNCATED_ICMP;
    if (this.isError && this.len < ICMP_HEADER_LEN + this.minQuote) return Reason.TRUNCATED_ICMP_QUOTE;
    return Reason.OK;
  }

  get type(): number {
    return this.buf[this.off + ICMP.TYPE]!;
  }
  set type(v: number) {
    this.buf[this.off + ICMP.TYPE] = v;
  }
  get code(): number {
    return this.buf[this.off + ICMP.CODE]!;
  }
  set code(v: number) {
    this.buf[this.off + ICMP.CODE] = v;
  }
  get checksum(): number {
    return readU16(this.buf, this.off + ICMP.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buf, this.off + ICMP.CHECKSUM, v);
  }
  /** Bytes 4-7 as one 32-bit number. */
  get rest(): number {
    return readU32(this.buf, this.off + ICMP.REST);
  }
  set rest(v: number) {
    writeU32(this.buf, this.off + ICMP.REST, v);
  }
  get echoId(): number {
    return readU16(this.buf, this.off + ICMP.ECHO_ID);
  }
  set echoId(v: number) {
    writeU16(this.buf, this.off + ICMP.ECHO_ID, v);
  }
  get echoSeq(): number {
    return readU16(this.buf, this.off + ICMP.ECHO_SEQ);
  }
  /** Absolute offset of the body: the quoted IP packet for errors. */
  get quoteOff(): number {
    return this.off + ICMP_HEADER_LEN;
  }
  get quoteLen(): number {
    return this.len - ICMP_HEADER_LEN;
  }

  /** `pseudo`: 0 for ICMPv4; the IPv6 pseudoSum() for ICMPv6. */
  verifyChecksum(pseudo: number): boolean {
    return checksumOk(this.buf, this.off, this.len, pseudo);
  }

  fillChecksum(pseudo: number): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.len, pseudo);
  }
}

export class Icmpv4Packet extends IcmpPacketBase {
  get isError(): boolean {
    return isIcmpv4Error(this.type);
  }
  protected get minQuote(): number {
    return IPV4_HEADER_LEN;
  }
  /** Type 3 code 4: the next-hop MTU in bytes 6-7 (RFC 1191 §4). */
  get nextHopMtu(): number {
    return readU16(this.buf, this.off + ICMP.NEXT_HOP_MTU);
  }
}

export class Icmpv6Packet extends IcmpPacketBase {
  get isError(): boolean {
    return isIcmpv6Error(this.type);
  }
  protected get minQuote(): number {
    return IPV6_HEADER_LEN;
  }
  /** Packet Too Big: the MTU (RFC 4443 §3.2). */
  get mtu(): number {
    return readU32(this.buf, this.off + ICMP.MTU6);
  }
}

/**
 * The generic ICMP message as data: `rest` holds bytes 4-7 (echo id << 16 | seq, the v4 next-hop MTU,
 * the v6 MTU...), `body` the bytes after the header (echo data, or the quoted packet of an error).
 */
export class IcmpRepr {
  type: number;
  code: number;
  rest: number;
  body: Uint8Array;

  constructor(f: { type: number; code: number; rest?: number; body?: Uint8Array }) {
    this.type = f.type;
    this.code = f.code;
    this.rest = (f.rest ?? 0) >>> 0;
    this.body = f.body ?? new Uint8Array(0);
  }

  /** `pseudoSum`: when given (0 for ICMPv4), the checksum is verified (BAD_ICMP_CHECKSUM). */
  static parse(v: Icmpv4Packet | Icmpv6Packet, pseudoSum?: number): IcmpRepr | Reason {
    const r = v.check();
    if (r !== Reason.OK) return r;
    if (pseudoSum !== undefined && !v.verifyChecksum(pseudoSum)) return Reason.BAD_ICMP_CHECKSUM;
    return new IcmpRepr({
      type: v.type,
      code: v.code,
      rest: v.rest,
      body: v.buf.slice(v.quoteOff, v.off + v.len),
    });
  }

  bufferLen(): number {
    return ICMP_HEADER_LEN + this.body.length;
  }

  /** Writes header + body and fills the checksum (`pseudoSum` 0 for ICMPv4). */
  emit(v: Icmpv4Packet | Icmpv6Packet, pseudoSum: number): void {
    v.type = this.type;
    v.code = this.code;
    v.rest = this.rest;
    v.buf.set(this.body, v.quoteOff);
    v.fillChecksum(pseudoSum);
  }
}
