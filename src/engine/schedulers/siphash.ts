/**
 * SipHash (Aumasson & Bernstein) on 32-bit halves, since JS has no fast u64: every 64-bit word is a
 * (low, high) pair of uint32 and additions carry by hand. One state, one round function, used both by
 * `sipHash` (any message, any c/d, checked against the published SipHash-2-4 vectors) and by the
 * per-packet `hsiphash32`, which allocates nothing.
 *
 * `hsiphash32` is the kernel's `hsiphash()` of one u32 on 64-bit machines: SipHash-1-3 with 64-bit key
 * words, low 32 bits of the result (`lib/siphash.c`, HSIPROUND = SIPROUND when BITS_PER_LONG == 64). The
 * u32 is hashed as its four bytes in little-endian order, as x86 stores it.
 */

/** A 128-bit key as four uint32: k0 low, k0 high, k1 low, k1 high. */
export type SipKey = Uint32Array;

/** Builds a key from its two 64-bit words (control-plane time only: BigInt allocates). */
export function sipKey(k0: bigint, k1: bigint): SipKey {
  const m = 0xffffffffn;
  return Uint32Array.of(Number(k0 & m), Number((k0 >> 32n) & m), Number(k1 & m), Number((k1 >> 32n) & m));
}

// v0..v3 as (low, high) pairs.
const S = new Uint32Array(8);

function init(key: SipKey): void {
  S[0] = 0x70736575 ^ key[0]!; // "somepseu"
  S[1] = 0x736f6d65 ^ key[1]!;
  S[2] = 0x6e646f6d ^ key[2]!; // "dorandom"
  S[3] = 0x646f7261 ^ key[3]!;
  S[4] = 0x6e657261 ^ key[0]!; // "lygenera"
  S[5] = 0x6c796765 ^ key[1]!;
  S[6] = 0x79746573 ^ key[2]!; // "tedbytes"
  S[7] = 0x74656462 ^ key[3]!;
}

/** `n` SipRounds on the state. */
function rounds(n: number): void {
  let v0l = S[0]!;
  let v0h = S[1]!;
  let v1l = S[2]!;
  let v1h = S[3]!;
  let v2l = S[4]!;
  let v2h = S[5]!;
  let v3l = S[6]!;
  let v3h = S[7]!;
  let lo: number;
  let t: number;
  for (let r = 0; r < n; r++) {
    // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
    lo = v0l + v1l;
    v0h = (v0h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v0l = lo >>> 0;
    t = v1h;
    v1h = (((v1h << 13) | (v1l >>> 19)) ^ v0h) >>> 0;
    v1l = (((v1l << 13) | (t >>> 19)) ^ v0l) >>> 0;
    t = v0l;
    v0l = v0h;
    v0h = t;
    // v2 += v3; v3 = rotl(v3, 16) ^ v2
    lo = v2l + v3l;
    v2h = (v2h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v2l = lo >>> 0;
    t = v3h;
    v3h = (((v3h << 16) | (v3l >>> 16)) ^ v2h) >>> 0;
    v3l = (((v3l << 16) | (t >>> 16)) ^ v2l) >>> 0;
    // v0 += v3; v3 = rotl(v3, 21) ^ v0
    lo = v0l + v3l;
    v0h = (v0h + v3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v0l = lo >>> 0;
    t = v3h;
    v3h = (((v3h << 21) | (v3l >>> 11)) ^ v0h) >>> 0;
    v3l = (((v3l << 21) | (t >>> 11)) ^ v0l) >>> 0;
    // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
    lo = v2l + v1l;
    v2h = (v2h + v1h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    v2l = lo >>> 0;
    t = v1h;
    v1h = (((v1h << 17) | (v1l >>> 15)) ^ v2h) >>> 0;
    v1l = (((v1l << 17) | (t >>> 15)) ^ v2l) >>> 0;
    t = v2l;
    v2l = v2h;
    v2h = t;
  }
  S[0] = v0l;
  S[1] = v0h;
  S[2] = v1l;
  S[3] = v1h;
  S[4] = v2l;
  S[5] = v2h;
  S[6] = v3l;
  S[7] = v3h;
}

/** Absorbs one 64-bit message word with `c` compression rounds. */
function compress(lo: number, hi: number, c: number): void {
  S[6]! ^= lo;
  S[7]! ^= hi;
  rounds(c);
  S[0]! ^= lo;
  S[1]! ^= hi;
}

/** Finalisation; leaves v0 ^ v1 ^ v2 ^ v3 in S[0] (low) and S[1] (high). */
function finalize(d: number): void {
  S[4]! ^= 0xff;
  rounds(d);
  S[0] = S[0]! ^ S[2]! ^ S[4]! ^ S[6]!;
  S[1] = S[1]! ^ S[3]! ^ S[5]! ^ S[7]!;
}

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** SipHash-c-d of `msg`; the 64-bit result goes to out[0] (low) and out[1] (high). */
export function sipHash(msg: Uint8Array, key: SipKey, c: number, d: number, out: Uint32Array): Uint32Array {
  init(key);
  const n = msg.length;
  const full = n - (n % 8);
  for (let i = 0; i < full; i += 8) compress(le32(msg, i), le32(msg, i + 4), c);
  // Last word: the remaining bytes, little-endian, with the length (mod 256) in the top byte.
  let lo = 0;
  let hi = (n & 0xff) << 24;
  for (let i = full; i < n; i++) {
    const k = i - full;
    if (k < 4) lo |= msg[i]! << (8 * k);
    else hi |= msg[i]! << (8 * (k - 4));
  }
  compress(lo >>> 0, hi >>> 0, c);
  finalize(d);
  out[0] = S[0]!;
  out[1] = S[1]!;
  return out;
}

/** The kernel's `hsiphash(&v, 4, key)` on a 64-bit little-endian machine: low 32 bits of SipHash-1-3. */
export function hsiphash32(v: number, key: SipKey): number {
  init(key);
  compress(v >>> 0, 0x04000000, 1);
  finalize(3);
  return S[0]!;
}
