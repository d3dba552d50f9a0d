/**
 * Text forms of IP addresses read from and written to ASCII bytes, for PROXY protocol v1 lines, without
 * building strings. Strict: dotted quads without leading zeros; IPv6 per RFC 4291 §2.2 (with an
 * optional dotted IPv4 tail), written per RFC 5952 (lower case, longest zero run compressed).
 */

const C_0 = 0x30;
const C_9 = 0x39;
const C_DOT = 0x2e;
const C_COLON = 0x3a;

function hexVal(c: number): number {
  if (c >= C_0 && c <= C_9) return c - C_0;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** Parses a dotted quad filling exactly [start, end); returns the u32 address or -1. */
export function parseIpv4Text(b: Uint8Array, start: number, end: number): number {
  let p = start;
  let v = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (p >= end || b[p] !== C_DOT) return -1;
      p++;
    }
    const s = p;
    let n = 0;
    while (p < end && p - s < 3 && b[p]! >= C_0 && b[p]! <= C_9) n = n * 10 + b[p++]! - C_0;
    if (p === s || n > 255 || (p - s > 1 && b[s] === C_0)) return -1;
    v = v * 256 + n;
  }
  return p === end ? v : -1;
}

const groupsScratch = new Uint16Array(8);
const wordsScratch = new Uint16Array(8);

/** Parses an IPv6 address filling exactly [start, end) into `out[idx..idx+3]`; false when malformed. */
export function parseIpv6Text(
  b: Uint8Array,
  start: number,
  end: number,
  out: { [i: number]: number },
  idx = 0,
): boolean {
  const g = groupsScratch;
  let count = 0;
  let gap = -1;
  let p = start;
  if (end - p >= 2 && b[p] === C_COLON && b[p + 1] === C_COLON) {
    gap = 0;
    p += 2;
  }
  while (p < end) {
    const s = p;
    let n = 0;
    while (p < end && p - s < 5) {
      const h = hexVal(b[p]!);
      if (h < 0) break;
      n = n * 16 + h;
      p++;
    }
    if (p < end && b[p] === C_DOT) {
      if (count > 6) return false;
      const v4 = parseIpv4Text(b, s, end);
      if (v4 < 0) return false;
      g[count++] = v4 >>> 16;
      g[count++] = v4 & 0xffff;
      p = end;
      break;
    }
    if (p === s || p - s > 4 || count === 8) return false;
    g[count++] = n;
    if (p === end) break;
    if (b[p] !== C_COLON) return false;
    p++;
    if (p < end && b[p] === C_COLON) {
      if (gap >= 0) return false;
      gap = count;
      p++;
    } else if (p === end) {
      return false; // a single trailing colon
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  const words = wordsScratch.fill(0);
  const tail = count - (gap < 0 ? count : gap);
  for (let i = 0; i < count - tail; i++) words[i] = g[i]!;
  for (let i = 0; i < tail; i++) words[8 - tail + i] = g[count - tail + i]!;
  for (let i = 0; i < 4; i++) out[idx + i] = ((words[2 * i]! << 16) | words[2 * i + 1]!) >>> 0;
  return true;
}

/** Writes a decimal number; returns the new offset. */
export function writeDecimal(b: Uint8Array, p: number, n: number): number {
  if (n >= 10) p = writeDecimal(b, p, Math.floor(n / 10));
  b[p] = C_0 + (n % 10);
  return p + 1;
}

/** Writes `a` as a dotted quad at `p`; returns the new offset (at most 15 bytes). */
export function writeIpv4Text(b: Uint8Array, p: number, a: number): number {
  for (let i = 3; i >= 0; i--) {
    p = writeDecimal(b, p, (a >>> (8 * i)) & 255);
    if (i > 0) b[p++] = C_DOT;
  }
  return p;
}

function writeHex16(b: Uint8Array, p: number, v: number): number {
  let started = false;
  for (let s = 12; s >= 0; s -= 4) {
    const d = (v >>> s) & 15;
    if (!started && d === 0 && s > 0) continue;
    started = true;
    b[p++] = d < 10 ? C_0 + d : 0x61 + d - 10;
  }
  return p;
}

function group16(words: ArrayLike<number>, idx: number, i: number): number {
  const w = words[idx + (i >> 1)]!;
  return i & 1 ? w & 0xffff : w >>> 16;
}

/** Writes `words[idx..idx+3]` in RFC 5952 form at `p`; returns the new offset (at most 39 bytes). */
export function writeIpv6Text(b: Uint8Array, p: number, words: ArrayLike<number>, idx = 0): number {
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (group16(words, idx, i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && group16(words, idx, j) === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      b[p++] = C_COLON;
      if (i === 0) b[p++] = C_COLON;
      i += bestLen - 1;
      if (i === 7) break;
      continue;
    }
    p = writeHex16(b, p, group16(words, idx, i));
    if (i < 7) b[p++] = C_COLON;
  }
  return p;
}
