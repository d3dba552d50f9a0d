/** TCP segment header as data, with its options as an ordered list (so emit reproduces the bytes). */

import type { WireAddress } from './bytes.js';
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { Reason } from './reasons.js';
import { TCP, TCP_HEADER_LEN, TcpOptKind, type TcpPacket } from './tcp.js';
import { readToa, TOA_KIND_DEFAULT, ToaValue, writeToaV4, writeToaV6 } from './toa.js';

export type TcpOption =
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'mss'; mss: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sack-permitted' }
  | { kind: 'sack'; blocks: Array<[left: number, right: number]> }
  | { kind: 'timestamp'; tsVal: number; tsEcr: number }
  | { kind: 'toa'; type: number; port: number; addr: WireAddress }
  | { kind: 'raw'; type: number; data: Uint8Array };

export interface TcpParseOptions {
  /** The IP layer's pseudoSum(): when given, the checksum is verified (BAD_TCP_CHECKSUM). */
  pseudoSum?: number;
  /** Option kind read as TOA (default 254). */
  toaKind?: number;
}

function optionLen(o: TcpOption): number {
  switch (o.kind) {
    case 'nop':
    case 'eol':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamp':
      return 10;
    case 'toa':
      return o.addr.family === 4 ? 8 : 20;
    case 'raw':
      return 2 + o.data.length;
  }
}

function parseOptions(v: TcpPacket, toaKind: number): TcpOption[] {
  const b = v.buf;
  const out: TcpOption[] = [];
  const end = v.off + v.headerLen;
  const toa = new ToaValue();
  let p = v.off + TCP.OPTIONS;
  while (p < end) {
    const k = b[p]!;
    if (k === TcpOptKind.NOP || k === TcpOptKind.EOL) {
      out.push({ kind: k === TcpOptKind.NOP ? 'nop' : 'eol' });
      if (k === TcpOptKind.EOL) break; // the rest is padding
      p++;
      continue;
    }
    const l = b[p + 1]!;
    if (k === TcpOptKind.MSS) out.push({ kind: 'mss', mss: readU16(b, p + 2) });
    else if (k === TcpOptKind.WSCALE) out.push({ kind: 'wscale', shift: b[p + 2]! });
    else if (k === TcpOptKind.SACK_PERMITTED) out.push({ kind: 'sack-permitted' });
    else if (k === TcpOptKind.TIMESTAMP)
      out.push({ kind: 'timestamp', tsVal: readU32(b, p + 2), tsEcr: readU32(b, p + 6) });
    else if (k === TcpOptKind.SACK) {
      const blocks: Array<[number, number]> = [];
      for (let q = p + 2; q < p + l; q += 8) blocks.push([readU32(b, q), readU32(b, q + 4)]);
      out.push({ kind: 'sack', blocks });
    } else if (readToa(b, p, l, toaKind, toa)) {
      const w = toa.words;
      out.push({
        kind: 'toa',
        type: k,
        port: toa.port,
        addr: { family: toa.family, words: [w[0]!, w[1]!, w[2]!, w[3]!] },
      });
    } else out.push({ kind: 'raw', type: k, data: b.slice(p + 2, p + l) });
    p += l;
  }
  return out;
}

function emitOption(b: Uint8Array, p: number, o: TcpOption): void {
  switch (o.kind) {
    case 'nop':
      b[p] = TcpOptKind.NOP;
      return;
    case 'eol':
      b[p] = TcpOptKind.EOL;
      return;
    case 'mss':
      b[p] = TcpOptKind.MSS;
      b[p + 1] = 4;
      writeU16(b, p + 2, o.mss);
      return;
    case 'wscale':
      b[p] = TcpOptKind.WSCALE;
      b[p + 1] = 3;
      b[p + 2] = o.shift;
      return;
    case 'sack-permitted':
      b[p] = TcpOptKind.SACK_PERMITTED;
      b[p + 1] = 2;
      return;
    case 'sack':
      b[p] = TcpOptKind.SACK;
      b[p + 1] = 2 + 8 * o.blocks.length;
      o.blocks.forEach(([l, r], i) => {
        writeU32(b, p + 2 + 8 * i, l);
        writeU32(b, p + 6 + 8 * i, r);
      });
      return;
    case 'timestamp':
      b[p] = TcpOptKind.TIMESTAMP;
      b[p + 1] = 10;
      writeU32(b, p + 2, o.tsVal);
      writeU32(b, p + 6, o.tsEcr);
      return;
    case 'toa':
      if (o.addr.family === 4) writeToaV4(b, p, o.type, o.port, o.addr.words[0]);
      else writeToaV6(b, p, o.type, o.port, o.addr.words);
      return;
    case 'raw':
      b[p] = o.type;
      b[p + 1] = 2 + o.data.length;
      b.set(o.data, p + 2);
      return;
  }
}

export class TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  options: TcpOption[];
  payloadLen: number;

  constructor(f: {
    srcPort: number;
    dstPort: number;
    seq?: number;
    ack?: number;
    flags: number;
    window?: number;
    urgent?: number;
    options?: TcpOption[];
    payloadLen?: number;
  }) {
    this.srcPort = f.srcPort;
    this.dstPort = f.dstPort;
    this.seq = (f.seq ?? 0) >>> 0;
    this.ack = (f.ack ?? 0) >>> 0;
    this.flags = f.flags;
    this.window = f.window ?? 65535;
    this.urgent = f.urgent ?? 0;
    this.options = f.options ?? [];
    this.payloadLen = f.payloadLen ?? 0;
  }

  static parse(v: TcpPacket, opts: TcpParseOptions = {}): TcpRepr | Reason {
    const r = v.check();
    if (r !== Reason.OK) return r;
    if (opts.pseudoSum !== undefined && !v.verifyChecksum(opts.pseudoSum)) return Reason.BAD_TCP_CHECKSUM;
    return new TcpRepr({
      srcPort: v.srcPort,
      dstPort: v.dstPort,
      seq: v.seq,
      ack: v.ack,
      flags: v.flags,
      window: v.window,
      urgent: v.urgent,
      options: parseOptions(v, opts.toaKind ?? TOA_KIND_DEFAULT),
      payloadLen: v.payloadLen,
    });
  }

  /** Header length: options zero-padded (EOL) to a multiple of 4. */
  headerLen(): number {
    let n = 0;
    for (const o of this.options) n += optionLen(o);
    return TCP_HEADER_LEN + ((n + 3) & ~3);
  }

  bufferLen(): number {
    return this.headerLen() + this.payloadLen;
  }

  /**
   * Writes the header into a view spanning header + payload (bufferLen() bytes). With `pseudoSum` the
   * checksum is filled over the whole view, so put the payload in place first; without it the field is 0.
   */
  emit(v: TcpPacket, pseudoSum?: number): void {
    const b = v.buf;
    const o = v.off;
    const hl = this.headerLen();
    writeU16(b, o + TCP.SRC_PORT, this.srcPort);
    writeU16(b, o + TCP.DST_PORT, this.dstPort);
    writeU32(b, o + TCP.SEQ, this.seq);
    writeU32(b, o + TCP.ACK, this.ack);
    b[o + TCP.DATA_OFF] = (hl >>> 2) << 4;
    b[o + TCP.FLAGS] = this.flags;
    writeU16(b, o + TCP.WINDOW, this.window);
    writeU16(b, o + TCP.CHECKSUM, 0);
    writeU16(b, o + TCP.URGENT, this.urgent);
    let p = o + TCP.OPTIONS;
    for (const opt of this.options) {
      emitOption(b, p, opt);
      p += optionLen(opt);
    }
    b.fill(0, p, o + hl);
    if (pseudoSum !== undefined) v.fillChecksum(pseudoSum);
  }
}
