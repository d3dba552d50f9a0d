/**
 * The Maglev lookup table exactly as IPVS builds it (`ip_vs_mh.c`: permutate, gcd/shift of the weights,
 * populate). Pure: dests in list order in, table of indexes into that list out (-1 = empty slot).
 */
import { hsiphash32, type SipKey, sipKey } from './siphash.js';

/** `generate_hash_secret`: fixed keys, so every director builds the same table from the same dests. */
export const MH_KEY1: SipKey = sipKey(2654435761n, 2654435761n);
export const MH_KEY2: SipKey = sipKey(2654446892n, 2654446892n);

export interface MaglevDest {
  /** Folded dest address (`addr_fold`, host order). */
  fold: number;
  port: number;
  /** The dest's last non-zero weight (`last_weight`): a quiesced dest keeps its slots. */
  weight: number;
}

/** `ip_vs_mh_hashkey`: hsiphash of (offset + port + address) as a u32. */
export function mhHash(fold: number, port: number, offset: number, key: SipKey): number {
  return hsiphash32((offset + port + fold) >>> 0, key);
}

export function isPrime(m: number): boolean {
  if (!Number.isInteger(m) || m < 2) return false;
  for (let f = 2; f * f <= m; f++) if (m % f === 0) return false;
  return true;
}

/**
 * `IP_VS_MH_TAB_BITS` = CONFIG_IP_VS_MH_TAB_INDEX / 2, where the kernel's primes sit just below
 * 2^index (251 -> 8, 4093 -> 12, 65521 -> 16); ceil(log2 m) gives the same index for them all.
 */
export function mhTabBits(m: number): number {
  return (32 - Math.clz32(m - 1)) >> 1;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export function maglevTable(dests: readonly MaglevDest[], m: number): Int32Array {
  if (!isPrime(m)) throw new RangeError(`Maglev table size ${m} is not a prime`);
  const table = new Int32Array(m).fill(-1);
  const n = dests.length;
  // ip_vs_mh_gcd_weight / ip_vs_mh_shift_weight: no positive weight leaves the table empty.
  let g = 0;
  let maxW = 0;
  for (const d of dests) {
    if (d.weight > 0) g = g > 0 ? gcd(d.weight, g) : d.weight;
    if (d.weight > maxW) maxW = d.weight;
  }
  if (g < 1) return table;
  const rshift = Math.max(0, 32 - Math.clz32(Math.floor(maxW / g)) - mhTabBits(m));

  // ip_vs_mh_permutate: each dest walks the slots from `offset` by `skip` (m prime: every slot visited).
  const perm = new Uint32Array(n);
  const skip = new Uint32Array(n);
  const turns = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = dests[i]!;
    perm[i] = mhHash(d.fold, d.port, 0, MH_KEY1) % m;
    skip[i] = (mhHash(d.fold, d.port, 0, MH_KEY2) % (m - 1)) + 1;
    turns[i] = Math.floor(d.weight / g) >> rshift || (d.weight !== 0 ? 1 : 0);
  }

  // ip_vs_mh_populate: round after round in list order, each dest claims `turns` slots, one at a time,
  // each at the next free position of its own permutation, until every slot is owned.
  const taken = new Uint8Array(m);
  let filled = 0;
  while (filled < m) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < turns[i]!; k++) {
        let c = perm[i]!;
        while (taken[c] === 1) {
          c += skip[i]!;
          if (c >= m) c -= m;
        }
        perm[i] = c;
        taken[c] = 1;
        table[c] = i;
        if (++filled === m) return table;
      }
    }
  }
  return table;
}
