/**
 * TCP options over a checked TcpPacket: an allocation-free iterator, lookups, and option insertion
 * (TOA for Full-NAT, inserted right after the base header as DPVS does).
 */
import { readU16, readU32 } from './bytes.js';
import { csumUpdate16, fold, onesSum, partialCsumUpdate16 } from './checksum.js';
import { TCP, TCP_HEADER_LEN, TcpOptKind, type TcpPacket } from './tcp.js';
import { TOA_LEN_V4, TOA_LEN_V6, writeToaV4, writeToaV6 } from './toa.js';

/**
 * Walks the options of a TcpPacket that passed check(). One instance per worker:
 * `for (it.reset(tcp); it.next(); ) switch (it.kind) ...`. NOPs are skipped; EOL ends the walk.
 */
export class TcpOptionIter {
  kind = 0;
  /** Absolute offset of the option's kind byte. */
  off = 0;
  /** Total option length including kind and length bytes. */
  len = 0;
  #buf: Uint8Array = new Uint8Array(0);
  #end = 0;
  #next = 0;

  reset(tcp: TcpPacket): this {
    this.#buf = tcp.buf;
    this.#next = tcp.off + TCP.OPTIONS;
    this.#end = tcp.off + tcp.headerLen;
    return this;
  }

  next(): boolean {
    const b = this.#buf;
    let p = this.#next;
    while (p < this.#end && b[p] === TcpOptKind.NOP) p++;
    if (p >= this.#end || b[p] === TcpOptKind.EOL) {
      this.#next = this.#end;
      return false;
    }
    const len = b[p + 1]!;
    // Only reachable without check(): stop rather than loop (or walk) on a length that cannot advance.
    if (!(len >= 2)) {
      this.#next = this.#end;
      return false;
    }
    this.kind = b[p]!;
    this.off = p;
    this.len = len;
    this.#next = p + len;
    return true;
  }
}

const scratchIter = new TcpOptionIter();

/** Absolute offset of the first option of `kind`, or -1 (tcp must have passed check()). */
export function findTcpOption(tcp: TcpPacket, kind: number): number {
  const it = scratchIter.reset(tcp);
  while (it.next()) if (it.kind === kind) return it.off;
  return -1;
}

/** The MSS option's value, or -1. */
export function tcpMss(tcp: TcpPacket): number {
  const p = findTcpOption(tcp, TcpOptKind.MSS);
  return p < 0 ? -1 : readU16(tcp.buf, p + 2);
}

/** The window scale shift, or -1. */
export function tcpWindowScale(tcp: TcpPacket): number {
  const p = findTcpOption(tcp, TcpOptKind.WSCALE);
  return p < 0 ? -1 : tcp.buf[p + 2]!;
}

/** TSval of the timestamps option, or -1. */
export function tcpTsVal(tcp: TcpPacket): number {
  const p = findTcpOption(tcp, TcpOptKind.TIMESTAMP);
  return p < 0 ? -1 : readU32(tcp.buf, p + 2);
}

/**
 * Makes `n` bytes (a multiple of 4) of option room right after the 20-byte base header by moving the
 * existing options and payload up, and raises the data offset. `bufEnd` is the absolute end of usable
 * memory in tcp.buf. Returns the absolute offset of the gap, or -1 when the header limit or the buffer
 * does not allow it. Checksums are NOT touched here; see insertToa for a complete operation.
 */
export function openTcpOptionSpace(tcp: TcpPacket, n: number, bufEnd: number): number {
  if ((n & 3) !== 0 || n > tcp.freeOptionSpace || tcp.off + tcp.len + n > bufEnd) return -1;
  const gap = tcp.off + TCP_HEADER_LEN;
  tcp.buf.copyWithin(gap + n, gap, tcp.off + tcp.len);
  tcp.headerLen = tcp.headerLen + n;
  tcp.len += n;
  return gap;
}

/**
 * Inserts a TOA option (IPv4 when `family` is 4, reading `words[idx]`; IPv6 reads 4 words) after the base
 * header and updates the TCP checksum for the new bytes, the data offset and the L4 length in the
 * pseudo-header (for a `partial` checksum, the length only). Returns the bytes inserted (8 or 20), or 0
 * when there is no room. The caller then grows the IP length (Ipv4Packet.rewriteTotalLen, or the IPv6
 * payload length) and the frame length, and makes sure the result still fits the MTU.
 */
export function insertToa(
  tcp: TcpPacket,
  bufEnd: number,
  kind: number,
  port: number,
  family: 4 | 6,
  words: ArrayLike<number>,
  idx: number,
  partial: boolean,
): number {
  // Both forms (8 and 20 bytes) are multiples of 4, so no padding is needed.
  const n = family === 4 ? TOA_LEN_V4 : TOA_LEN_V6;
  const oldLen = tcp.len;
  const oldDoffWord = readU16(tcp.buf, tcp.off + TCP.DATA_OFF);
  const gap = openTcpOptionSpace(tcp, n, bufEnd);
  if (gap < 0) return 0;
  const b = tcp.buf;
  if (family === 4) writeToaV4(b, gap, kind, port, words[idx]!);
  else writeToaV6(b, gap, kind, port, words, idx);
  let c = tcp.checksum;
  if (partial) {
    c = partialCsumUpdate16(c, oldLen, tcp.len);
  } else {
    c = csumUpdate16(c, oldDoffWord, readU16(b, tcp.off + TCP.DATA_OFF));
    c = csumUpdate16(c, oldLen, tcp.len);
    // The gap starts at an even offset and is a multiple of 4 long, so the bytes after it keep their
    // word alignment and the new bytes simply add their sum.
    c = ~fold((~c & 0xffff) + onesSum(b, gap, n)) & 0xffff;
  }
  tcp.checksum = c;
  return n;
}
