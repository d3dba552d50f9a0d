/**
 * Byte helpers of the entry builders: big-endian reads, range comparison, the RFC 1624 terms and update,
 * little-endian stores into map values.
 */

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function same(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** Sum of ~old + new over the 16-bit words at `off`..`off+n` that differ (RFC 1624 eqn. 3 terms). */
export function wordDelta(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i += 2) {
    const o = u16(a, ao + i);
    const v = u16(b, bo + i);
    if (o !== v) d += (~o & 0xffff) + v;
  }
  return d;
}

/** The checksum the program computes from `old` and `delta` (fastpath-prog.ts updateChecksum). */
export function applyDelta(old: number, delta: number, udp: boolean): number {
  let s = (~old & 0xffff) + delta;
  for (let i = 0; i < 3; i++) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  return udp && c === 0 ? 0xffff : c;
}

/** Map values hold native-endian (little-endian on every host this runs on) integers. */
export function putU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
