/**
 * All Internet checksum maths (RFC 1071) in one place: the full sum over a byte range, folding,
 * pseudo-header sums (IPv4 RFC 793/768; IPv6 RFC 8200 §8.1), the RFC 1624 eqn. 3 incremental update used
 * when NAT rewrites an address or port, and the CHECKSUM_PARTIAL variants for frames that veth/TAP hand
 * over with an unfinished L4 checksum (AF_PACKET status CSUMNOTREADY, virtio NEEDS_CSUM).
 *
 * Conventions: a *sum* is an unfolded ones'-complement accumulator (a non-negative integer, exact in a
 * double); `fold()` turns it into 16 bits; a *checksum* is the complemented fold, the value on the wire.
 * Everything here is integer maths on numbers: no allocation.
 */

/**
 * Unfolded ones'-complement sum of `len` bytes at `off`, read as big-endian 16-bit words; an odd trailing
 * byte is padded with zero. `acc` chains ranges: every range before the last must have even length
 * (the sum is position-parity sensitive). The result is any accumulator congruent to the exact word sum
 * modulo 0xFFFF and zero only when that is: what `fold` turns into the same 16 bits.
 */
export function onesSum(buf: Uint8Array, off: number, len: number, acc = 0): number {
  if (len >= WORDS_FROM && len <= WORDS_UP_TO && LITTLE_ENDIAN) return acc + wordSum(buf, off, len);
  let i = off;
  const end = off + len;
  const end8 = end - 7;
  // Two lanes keep each accumulator well inside the int32 range V8 optimises for (a 64 KiB packet adds
  // at most 2^30 to each); they are merged as doubles.
  let a = 0;
  let b = 0;
  for (; i < end8; i += 8) {
    a += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!);
    b += ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!);
    if (a > 0x3fff0000) a = (a & 0xffff) + (a >>> 16);
    if (b > 0x3fff0000) b = (b & 0xffff) + (b >>> 16);
  }
  for (; i < end - 1; i += 2) a += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) a += buf[i]! << 8;
  return acc + a + b;
}

/**
 * Ranges from this length are summed a 32-bit word at a time through a Uint32Array over the same
 * memory (one load per four bytes instead of four, the sum being byte-order independent: RFC 1071
 * §2(B)). Little-endian hosts only; shorter ranges are not worth the alignment handling.
 */
const WORDS_FROM = 32;
const WORDS_UP_TO = 65536;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
/** The 32-bit alias of the last buffer summed (from byte 0 of its ArrayBuffer): one per packet ring. */
let aliasOf: Uint8Array | null = null;
let alias: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
let aliasBase = 0;

function wordSum(buf: Uint8Array, off: number, len: number): number {
  if (buf !== aliasOf || (aliasBase + off + len) >>> 2 > alias.length) {
    // (The second test: a growable buffer that grew since.)
    const ab = buf.buffer;
    alias = new Uint32Array(ab, 0, ab.byteLength >>> 2);
    aliasBase = buf.byteOffset;
    aliasOf = buf;
  }
  const w = alias;
  const abs = aliasBase + off;
  const head = (4 - (abs & 3)) & 3;
  const first = (abs + head) >>> 2;
  const nw = (len - head) >>> 2;
  // Bytes before the first and after the last aligned word, weighted by their parity in the range.
  let s = 0;
  for (let i = 0; i < head; i++) s += (i & 1) === 0 ? buf[off + i]! << 8 : buf[off + i]!;
  for (let i = head + nw * 4; i < len; i++) s += (i & 1) === 0 ? buf[off + i]! << 8 : buf[off + i]!;
  // The aligned words as two 16-bit lanes of little-endian halves: below 2^31 each up to 32768 words,
  // twice the longest range taken here. Four words per iteration: a 60-100 byte segment is a handful of
  // iterations, so the loop's own compare and branch are a good part of the work at two.
  let lo = 0;
  let hi = 0;
  const last = first + nw;
  let j = first;
  for (; j < last - 3; j += 4) {
    const v = w[j]!;
    const u = w[j + 1]!;
    const x = w[j + 2]!;
    const y = w[j + 3]!;
    lo += (v & 0xffff) + (u & 0xffff) + (x & 0xffff) + (y & 0xffff);
    hi += (v >>> 16) + (u >>> 16) + (x >>> 16) + (y >>> 16);
  }
  for (; j < last; j++) {
    const v = w[j]!;
    lo += v & 0xffff;
    hi += v >>> 16;
  }
  let le = lo + hi;
  // A little-endian half holds a big-endian word byte-swapped when the words start at an even position
  // of the range; at an odd one its bytes already have the weights of their positions.
  if ((head & 1) === 0 && le !== 0) {
    le = fold(le);
    le = ((le & 0xff) << 8) | (le >>> 8);
  }
  return s + le;
}

/** Folds an unfolded sum (any size up to 2^53) to 16 bits with end-around carry. Not complemented. */
export function fold(sum: number): number {
  while (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum to write: complement of the folded sum of the range plus `acc` (e.g. a pseudo-header). */
export function checksum(buf: Uint8Array, off: number, len: number, acc = 0): number {
  return ~fold(onesSum(buf, off, len, acc)) & 0xffff;
}

/** True when the range (which contains its checksum field) plus `acc` sums to 0xFFFF, i.e. verifies. */
export function checksumOk(buf: Uint8Array, off: number, len: number, acc = 0): boolean {
  return fold(onesSum(buf, off, len, acc)) === 0xffff;
}

/** IPv4 pseudo-header {src, dst, 0, proto, L4 length} as an unfolded sum; addresses as 32-bit words (u32 or int32). */
export function pseudoSumV4(src: number, dst: number, proto: number, l4Len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4Len;
}

/** IPv4 pseudo-header sum reading src/dst from the IPv4 header at `ipOff`. */
export function pseudoSumV4At(buf: Uint8Array, ipOff: number, proto: number, l4Len: number): number {
  return onesSum(buf, ipOff + 12, 8, proto + l4Len);
}

/**
 * IPv6 pseudo-header {src, dst, length32, zero24, next header} (RFC 8200 §8.1) reading src/dst from the
 * IPv6 header at `ipOff`. With a Routing header the final destination belongs here instead: callers
 * must not use this for packets whose routing header still has segments left.
 */
export function pseudoSumV6At(buf: Uint8Array, ipOff: number, nextHeader: number, l4Len: number): number {
  return onesSum(buf, ipOff + 8, 32, nextHeader + (l4Len >>> 16) + (l4Len & 0xffff));
}

/** IPv6 pseudo-header sum from address words (`src[si..si+3]`, `dst[di..di+3]`). */
export function pseudoSumV6Words(
  src: ArrayLike<number>,
  si: number,
  dst: ArrayLike<number>,
  di: number,
  nextHeader: number,
  l4Len: number,
): number {
  let s = nextHeader + (l4Len >>> 16) + (l4Len & 0xffff);
  for (let k = 0; k < 4; k++) {
    const a = src[si + k]!;
    const b = dst[di + k]!;
    s += (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff);
  }
  return s;
}

function fold32(s: number): number {
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/**
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for one 16-bit field changing from `oldV` to `newV`.
 * A no-op update returns HC untouched: applied anyway, eqn. 3 turns HC 0xFFFF into 0x0000 (erratum 4782).
 */
export function csumUpdate16(check: number, oldV: number, newV: number): number {
  if (oldV === newV) return check;
  return ~fold32((~check & 0xffff) + (~oldV & 0xffff) + (newV & 0xffff)) & 0xffff;
}

/** Eqn. 3 for a 32-bit field (an IPv4 address, a sequence number): two 16-bit words. */
export function csumUpdate32(check: number, oldV: number, newV: number): number {
  if (oldV >>> 0 === newV >>> 0) return check;
  return ~fold32(diff32(~check & 0xffff, oldV, newV)) & 0xffff;
}

function diff32(s: number, oldV: number, newV: number): number {
  return s + ((~oldV >>> 16) & 0xffff) + (~oldV & 0xffff) + (newV >>> 16) + (newV & 0xffff);
}

/**
 * Eqn. 3 in two steps, for several fields of one packet rewritten together: `eqn3Add16`/`eqn3Add32` give a
 * field's addend ~m + m' (0 when it did not change: erratum 4782), `eqn3Apply` applies their sum. Once
 * for the sum gives the same bits as csumUpdate16/32 field by field (fold(fold(a) + b) = fold(a + b) for
 * non-negative a, b; a zero sum leaves HC as it is), with one read, fold and write of the checksum.
 */
export function eqn3Add16(oldV: number, newV: number): number {
  return oldV === newV ? 0 : (~oldV & 0xffff) + (newV & 0xffff);
}

export function eqn3Add32(oldV: number, newV: number): number {
  return oldV >>> 0 === newV >>> 0 ? 0 : diff32(0, oldV, newV);
}

export function eqn3Apply(check: number, sum: number): number {
  return ~fold32((~check & 0xffff) + sum) & 0xffff;
}

/** Eqn. 3 over `n` 32-bit words changing from `oldW[oi..]` to `newW[ni..]` (n = 4: an IPv6 address). */
export function csumUpdateWords(
  check: number,
  oldW: ArrayLike<number>,
  oi: number,
  newW: ArrayLike<number>,
  ni: number,
  n: number,
): number {
  const s = wordsDiff(~check & 0xffff, oldW, oi, newW, ni, n);
  return s < 0 ? check : ~fold(s) & 0xffff;
}

/** Eqn. 3 over an even-length byte field (a 16-byte IPv6 address) changing from `oldB[oo..]` to `newB[no..]`. */
export function csumUpdateBytes(
  check: number,
  oldB: Uint8Array,
  oo: number,
  newB: Uint8Array,
  no: number,
  len: number,
): number {
  const s = bytesDiff(~check & 0xffff, oldB, oo, newB, no, len);
  return s < 0 ? check : ~fold(s) & 0xffff;
}

/** Adds ~m + m' for each changed word to `s`; -1 when nothing changed (skip the update: erratum 4782). */
function wordsDiff(
  s: number,
  oldW: ArrayLike<number>,
  oi: number,
  newW: ArrayLike<number>,
  ni: number,
  n: number,
): number {
  let changed = false;
  for (let k = 0; k < n; k++) {
    const o = oldW[oi + k]! >>> 0;
    const v = newW[ni + k]! >>> 0;
    if (o === v) continue;
    changed = true;
    s = diff32(s, o, v);
  }
  return changed ? s : -1;
}

function bytesDiff(
  s: number,
  oldB: Uint8Array,
  oo: number,
  newB: Uint8Array,
  no: number,
  len: number,
): number {
  let changed = false;
  for (let k = 0; k < len; k += 2) {
    const o = (oldB[oo + k]! << 8) | oldB[oo + k + 1]!;
    const v = (newB[no + k]! << 8) | newB[no + k + 1]!;
    if (o === v) continue;
    changed = true;
    s += (~o & 0xffff) + v;
  }
  return changed ? s : -1;
}

/** UDP result rule: a computed 0 is sent as 0xFFFF, because 0 means "no checksum" (RFC 768). */
export function udpChecksumValue(c: number): number {
  return c === 0 ? 0xffff : c;
}

/** UDP eqn. 3: a zero (absent, IPv4) checksum stays zero; a result of 0 is written as 0xFFFF. */
export function udpCsumUpdate16(check: number, oldV: number, newV: number): number {
  return check === 0 ? 0 : udpChecksumValue(csumUpdate16(check, oldV, newV));
}

export function udpCsumUpdate32(check: number, oldV: number, newV: number): number {
  return check === 0 ? 0 : udpChecksumValue(csumUpdate32(check, oldV, newV));
}

export function udpCsumUpdateWords(
  check: number,
  oldW: ArrayLike<number>,
  oi: number,
  newW: ArrayLike<number>,
  ni: number,
  n: number,
): number {
  return check === 0 ? 0 : udpChecksumValue(csumUpdateWords(check, oldW, oi, newW, ni, n));
}

export function udpCsumUpdateBytes(
  check: number,
  oldB: Uint8Array,
  oo: number,
  newB: Uint8Array,
  no: number,
  len: number,
): number {
  return check === 0 ? 0 : udpChecksumValue(csumUpdateBytes(check, oldB, oo, newB, no, len));
}

// --- CHECKSUM_PARTIAL: the L4 field holds the folded pseudo-header sum, NOT complemented (linux-packet.md
// §1.7). Only pseudo-header inputs (addresses, L4 length) may be updated this way; ports and payload are
// not in that sum, so rewriting them needs no update at all (IPVS tcp_partial_csum_update).

/** Initial CHECKSUM_PARTIAL field value for IPv4: the folded pseudo-header sum. */
export function partialPseudoV4(src: number, dst: number, proto: number, l4Len: number): number {
  return fold(pseudoSumV4(src, dst, proto, l4Len));
}

export function partialCsumUpdate16(field: number, oldV: number, newV: number): number {
  if (oldV === newV) return field;
  return fold32((field & 0xffff) + (~oldV & 0xffff) + (newV & 0xffff));
}

export function partialCsumUpdate32(field: number, oldV: number, newV: number): number {
  if (oldV >>> 0 === newV >>> 0) return field;
  return fold32(diff32(field & 0xffff, oldV, newV));
}

export function partialCsumUpdateWords(
  field: number,
  oldW: ArrayLike<number>,
  oi: number,
  newW: ArrayLike<number>,
  ni: number,
  n: number,
): number {
  const s = wordsDiff(field & 0xffff, oldW, oi, newW, ni, n);
  return s < 0 ? field : fold(s);
}

export function partialCsumUpdateBytes(
  field: number,
  oldB: Uint8Array,
  oo: number,
  newB: Uint8Array,
  no: number,
  len: number,
): number {
  const s = bytesDiff(field & 0xffff, oldB, oo, newB, no, len);
  return s < 0 ? field : fold(s);
}

/**
 * Finishes a CHECKSUM_PARTIAL checksum as the NIC would: sums from `csumStart` (the L4 header) to `end`,
 * including the field at `csumStart + csumOffset` that holds the pseudo-header sum, complements, turns a
 * UDP 0 into 0xFFFF, writes the field and returns its value. `csumOffset` is 16 for TCP, 6 for UDP.
 */
export function finishPartialChecksum(
  buf: Uint8Array,
  csumStart: number,
  csumOffset: number,
  end: number,
  udp: boolean,
): number {
  let c = ~fold(onesSum(buf, csumStart, end - csumStart)) & 0xffff;
  if (udp && c === 0) c = 0xffff;
  const at = csumStart + csumOffset;
  buf[at] = c >>> 8;
  buf[at + 1] = c;
  return c;
}
