/** Frame building for the pipeline benchmark: Ethernet + IPv4 + TCP written into an arena, checksums filled. */
import { writeMac, writeU16, writeU32 } from '../../src/wire/bytes.js';
import { checksum, pseudoSumV4 } from '../../src/wire/checksum.js';

export interface TcpSpec {
  srcMac: number;
  dstMac: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  payload: number;
  /** TCP options bytes (a multiple of 4). */
  options?: Uint8Array;
}

/** Writes the frame at `off`; returns its length. */
export function writeTcpFrame(b: Uint8Array, off: number, s: TcpSpec): number {
  const opt = s.options?.length ?? 0;
  const tcpLen = 20 + opt + s.payload;
  const ip = off + 14;
  const l4 = ip + 20;
  writeMac(b, off, s.dstMac);
  writeMac(b, off + 6, s.srcMac);
  writeU16(b, off + 12, 0x0800);
  b[ip] = 0x45;
  b[ip + 1] = 0;
  writeU16(b, ip + 2, 20 + tcpLen);
  writeU16(b, ip + 4, 1);
  writeU16(b, ip + 6, 0x4000);
  b[ip + 8] = 64;
  b[ip + 9] = 6;
  writeU16(b, ip + 10, 0);
  writeU32(b, ip + 12, s.src);
  writeU32(b, ip + 16, s.dst);
  writeU16(b, ip + 10, checksum(b, ip, 20));
  writeU16(b, l4, s.sport);
  writeU16(b, l4 + 2, s.dport);
  writeU32(b, l4 + 4, s.seq);
  writeU32(b, l4 + 8, s.ack);
  b[l4 + 12] = ((20 + opt) / 4) << 4;
  b[l4 + 13] = s.flags;
  writeU16(b, l4 + 14, 64240);
  writeU16(b, l4 + 16, 0);
  writeU16(b, l4 + 18, 0);
  if (s.options) b.set(s.options, l4 + 20);
  for (let i = 0; i < s.payload; i++) b[l4 + 20 + opt + i] = (i * 7) & 255;
  writeU16(b, l4 + 16, checksum(b, l4, tcpLen, pseudoSumV4(s.src, s.dst, 6, tcpLen)));
  return 14 + 20 + tcpLen;
}

/** SYN options as Linux sends them: MSS, SACK-permitted, timestamps, window scale (20 bytes). */
export const SYN_OPTIONS = Uint8Array.of(
  2,
  4,
  5,
  0xb4,
  4,
  2,
  8,
  10,
  0,
  1,
  0xe2,
  0x40,
  0,
  0,
  0,
  0,
  1,
  3,
  3,
  7,
);
/** NOP NOP timestamps, as on every established segment. */
export const TS_OPTIONS = Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2);
