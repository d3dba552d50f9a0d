/**
 * What every packet view is: a window (`buf`, `off`, `len`) over bytes it does not own, re-pointed with
 * `reset()` so the hot path keeps one view object per protocol instead of allocating one per packet.
 * `len` is the number of bytes the layer below says belong to this header and what follows it; a view's
 * `check()` validates against it once, after which its accessors stay in bounds.
 */
export class ByteView {
  buf: Uint8Array;
  off: number;
  len: number;

  constructor(buf: Uint8Array = new Uint8Array(0), off = 0, len = buf.length - off) {
    this.buf = buf;
    this.off = off;
    this.len = len;
  }

  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }
}
