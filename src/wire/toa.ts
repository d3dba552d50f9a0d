/**
 * TOA ("TCP option address"): the client address carried to a Full-NAT real server in a TCP option
 * (Alibaba LVS `kernel/net/toa/toa.h`, DPVS `kmod/toa/toa.h`). IPv4 form: kind, len 8, port, address;
 * DPVS IPv6 form: len 20, port, 16-byte address. All network order. The kind is configurable: 254 is the
 * usual one (an RFC 4727 experimental value), some clouds document 200.
 */
import { readAddr6Words, readU16, readU32, writeAddr6Words, writeU16, writeU32 } from './bytes.js';

export const TOA = Object.freeze({ KIND: 0, LEN: 1, PORT: 2, ADDR: 4 });
export const TOA_KIND_DEFAULT = 254;
export const TOA_LEN_V4: number = TOA.ADDR + 4;
export const TOA_LEN_V6: number = TOA.ADDR + 16;

/** Writes an IPv4 TOA option at `off`; returns its length (8). */
export function writeToaV4(buf: Uint8Array, off: number, kind: number, port: number, addr: number): number {
  buf[off + TOA.KIND] = kind;
  buf[off + TOA.LEN] = TOA_LEN_V4;
  writeU16(buf, off + TOA.PORT, port);
  writeU32(buf, off + TOA.ADDR, addr);
  return TOA_LEN_V4;
}

/** Writes an IPv6 TOA option (DPVS layout) from `words[idx..idx+3]`; returns its length (20). */
export function writeToaV6(
  buf: Uint8Array,
  off: number,
  kind: number,
  port: number,
  words: ArrayLike<number>,
  idx = 0,
): number {
  buf[off + TOA.KIND] = kind;
  buf[off + TOA.LEN] = TOA_LEN_V6;
  writeU16(buf, off + TOA.PORT, port);
  writeAddr6Words(buf, off + TOA.ADDR, words, idx);
  return TOA_LEN_V6;
}

/** A decoded TOA option; reuse one instance. */
export class ToaValue {
  family: 4 | 6 = 4;
  port = 0;
  /** IPv4: words[0] only. */
  readonly words = new Uint32Array(4);
}

/**
 * Decodes the option at `off` (its kind byte) if it is a TOA of `kind` with a valid length and fits in
 * `avail` bytes; fills `out` and returns true.
 */
export function readToa(buf: Uint8Array, off: number, avail: number, kind: number, out: ToaValue): boolean {
  if (avail < 2 || buf[off + TOA.KIND] !== kind) return false;
  const len = buf[off + TOA.LEN]!;
  if ((len !== TOA_LEN_V4 && len !== TOA_LEN_V6) || len > avail) return false;
  out.port = readU16(buf, off + TOA.PORT);
  if (len === TOA_LEN_V4) {
    out.family = 4;
    out.words.fill(0);
    out.words[0] = readU32(buf, off + TOA.ADDR);
  } else {
    out.family = 6;
    readAddr6Words(buf, off + TOA.ADDR, out.words);
  }
  return true;
}
