/**
 * Hot-path integer helpers. A 32-bit word is handled as an int32 (`| 0`) and a MAC address as two ints
 * (high 16 bits, low 32 bits as int32): V8 keeps int32 values unboxed across calls and returns, whereas an
 * unsigned value above 2^31 or a 48-bit number becomes a heap-allocated number whenever it crosses a call
 * boundary that was not inlined — an allocation per packet. Typed arrays reinterpret the bits on store.
 */

/** The big-endian 32-bit word at `o`, as an int32. */
export function rd32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** High 16 bits of the MAC at `o`. */
export function macHiAt(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Low 32 bits of the MAC at `o`, as an int32. */
export function macLoAt(b: Uint8Array, o: number): number {
  return rd32(b, o + 2);
}

export function putMac(b: Uint8Array, o: number, hi: number, lo: number): void {
  b[o] = hi >>> 8;
  b[o + 1] = hi;
  wr32(b, o + 2, lo);
}

/** Splits a 48-bit MAC number (control plane) into the two halves. */
export function macHiOf(mac: number): number {
  return Math.floor(mac / 0x1_0000_0000) & 0xffff;
}

export function macLoOf(mac: number): number {
  return (mac % 0x1_0000_0000) | 0;
}

export function macOf(hi: number, lo: number): number {
  return hi * 0x1_0000_0000 + (lo >>> 0);
}
