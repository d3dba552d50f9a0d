/**
 * The hash inputs of the hashing schedulers (sh, dh, mh), as IPVS derives them from a packet or a dest.
 */
import type { Family } from '../addr.js';
import type { DestTable } from '../dest-table.js';
import type { FlowKey } from './scheduler.js';

/** `addr_fold`: the IPv4 address, or the XOR of the four 32-bit words of an IPv6 address (host order). */
export function foldWords(words: Uint32Array, af: Family, base = 0): number {
  if (af === 4) return words[base]!;
  return (words[base]! ^ words[base + 1]! ^ words[base + 2]! ^ words[base + 3]!) >>> 0;
}

export function foldDest(dests: DestTable, id: number): number {
  return foldWords(dests.addr, dests.family(id), id * 4);
}

/** `ip_vs_sh_get_port` / `ip_vs_mh_get_port`: the client port for TCP, UDP and SCTP, else 0. */
export function flowPort(flow: FlowKey): number {
  const p = flow.proto;
  return p === 6 || p === 17 || p === 132 ? flow.sport : 0;
}

/** Knuth's multiplicative constant as older sh/dh used it: the low bits of the product survive. */
const LEGACY_MULTIPLIER = 2654435761;
/** `GOLDEN_RATIO_32` of `include/linux/hash.h`. */
const GOLDEN_RATIO_32 = 0x61c88647;

/**
 * The sh/dh bucket of a 32-bit key in a table of 2^bits. Current kernels: `hash_32(key, bits)`, the top
 * `bits` of `key * GOLDEN_RATIO_32`; legacy: `(key * 2654435761) & mask`.
 */
export function bucketHash(key: number, bits: number, legacy: boolean): number {
  if (legacy) return Math.imul(key, LEGACY_MULTIPLIER) & ((1 << bits) - 1);
  return Math.imul(key, GOLDEN_RATIO_32) >>> (32 - bits);
}

/**
 * Whether any listed dest could serve (weight > 0, not overloaded): when none can, the sh/mh fallback
 * walks are bound to fail, so they can be skipped.
 */
export function anyUsable(dests: DestTable, list: readonly number[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!;
    if (dests.weight[d]! > 0 && !dests.isOverloaded(d)) return true;
  }
  return false;
}
