/**
 * Big-endian field access over a Uint8Array by manual byte maths (faster than a DataView per call and
 * allocation-free). Callers guarantee the bytes exist; views do so by validating lengths in `check()`.
 *
 * Addresses follow `src/engine/addr.ts`: an IPv4 address is the unsigned 32-bit integer of its four bytes
 * (`ntohl`), an IPv6 address is four such words, most significant first. A MAC address is a 48-bit
 * integer (exact in a double), so it can be compared and stored without allocating.
 */

/** Four 32-bit words of an IPv6 address, most significant first (the engine's `IpAddress.words`). */
export type Ip6Words = readonly [number, number, number, number];

/** An address as the engine writes it: structurally the same as `IpAddress` in src/engine/addr.ts. */
export interface WireAddress {
  readonly family: 4 | 6;
  readonly words: readonly [number, number, number, number];
}

export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** Reads the 16-byte IPv6 address at `o` into `out[idx..idx+3]` (a Uint32Array row of a table, say). */
export function readAddr6Words(b: Uint8Array, o: number, out: { [i: number]: number }, idx = 0): void {
  out[idx] = readU32(b, o);
  out[idx + 1] = readU32(b, o + 4);
  out[idx + 2] = readU32(b, o + 8);
  out[idx + 3] = readU32(b, o + 12);
}

/** Writes `words[idx..idx+3]` as a 16-byte IPv6 address at `o`. */
export function writeAddr6Words(b: Uint8Array, o: number, words: ArrayLike<number>, idx = 0): void {
  writeU32(b, o, words[idx]!);
  writeU32(b, o + 4, words[idx + 1]!);
  writeU32(b, o + 8, words[idx + 2]!);
  writeU32(b, o + 12, words[idx + 3]!);
}

/** Compares the 16-byte address at `o` with `words[idx..idx+3]` without copying. */
export function addr6EqualsWords(b: Uint8Array, o: number, words: ArrayLike<number>, idx = 0): boolean {
  return (
    readU32(b, o) === words[idx] &&
    readU32(b, o + 4) === words[idx + 1] &&
    readU32(b, o + 8) === words[idx + 2] &&
    readU32(b, o + 12) === words[idx + 3]
  );
}

/** Allocates: for Reprs and the control plane only. */
export function readIp6Words(b: Uint8Array, o: number): Ip6Words {
  return [readU32(b, o), readU32(b, o + 4), readU32(b, o + 8), readU32(b, o + 12)];
}

export function readMac(b: Uint8Array, o: number): number {
  return readU16(b, o) * 0x1_0000_0000 + readU32(b, o + 2);
}

export function writeMac(b: Uint8Array, o: number, mac: number): void {
  writeU16(b, o, Math.floor(mac / 0x1_0000_0000));
  writeU32(b, o + 2, mac % 0x1_0000_0000);
}

export const MAC_BROADCAST = 0xffff_ffff_ffff;

/** 'aa:bb:cc:dd:ee:ff' (also '-' separated) -> 48-bit integer, or -1 when malformed. */
export function parseMac(s: string): number {
  const m =
    /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(
      s,
    );
  if (!m) return -1;
  let v = 0;
  for (let i = 1; i <= 6; i++) v = v * 256 + Number.parseInt(m[i]!, 16);
  return v;
}

export function formatMac(mac: number): string {
  const parts: string[] = [];
  for (let i = 5; i >= 0; i--)
    parts.push((Math.floor(mac / 2 ** (8 * i)) % 256).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Multicast MAC for an IPv4 group: 01:00:5e + low 23 bits (RFC 1112 §6.4). */
export function ipv4MulticastMac(group: number): number {
  return 0x01005e * 0x100_0000 + (group & 0x7fffff);
}

/** Multicast MAC for an IPv6 group: 33:33 + low 32 bits (RFC 2464 §7). */
export function ipv6MulticastMac(lowWord: number): number {
  return 0x3333 * 0x1_0000_0000 + (lowWord >>> 0);
}

/** memmove of `n` bytes without allocating a subarray (copyWithin when both are the same buffer). */
export function copyBytes(src: Uint8Array, so: number, dst: Uint8Array, d: number, n: number): void {
  if (src === dst) {
    dst.copyWithin(d, so, so + n);
    return;
  }
  for (let i = 0; i < n; i++) dst[d + i] = src[so + i]!;
}
