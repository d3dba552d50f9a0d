/**
 * Integer hashing for the engine's tables. Keys contain attacker-chosen values (client addresses and
 * ports), so every table hashes with a per-table random seed (as IPVS seeds jhash with
 * `ip_vs_conn_rnd`): a flood cannot aim at one bucket without knowing it.
 */

/** murmur3's 32-bit finaliser: full avalanche, five operations. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * `fmix32` with the same bits as an int32: V8 hands an int32 across a call that was not inlined as is, but
 * boxes an unsigned value above 2^31 into a heap number — an allocation per lookup on the packet path.
 */
export function fmix32i(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Mixes one 32-bit word into a running hash (murmur3 body step). */
export function mixWord(h: number, w: number): number {
  w = Math.imul(w, 0xcc9e2d51);
  w = (w << 15) | (w >>> 17);
  w = Math.imul(w, 0x1b873593);
  h ^= w;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** A seed from a caller-provided random source in [0, 1). */
export function seedFrom(random: () => number): number {
  return (random() * 0x100000000) >>> 0;
}
