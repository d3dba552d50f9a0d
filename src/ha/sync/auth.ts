/**
 * Datagram authentication: HMAC-SHA256 (RFC 2104) over header and body with the configured key, cut to
 * its first 128 bits (RFC 2104 section 5 allows truncation to half the output or more), compared in
 * constant time. The key comes from `ha.sync.key` / `keyFile`; both directors must hold the same one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SYNC_TAG_LEN } from './wire.js';

export class SyncAuth {
  readonly #key: Buffer;

  constructor(key: string) {
    this.#key = Buffer.from(key, 'utf8');
  }

  #tag(b: Uint8Array, len: number): Buffer {
    return createHmac('sha256', this.#key).update(b.subarray(0, len)).digest().subarray(0, SYNC_TAG_LEN);
  }

  /** Writes the tag over the first `len` bytes of `b` at `b[len..len+16)`; returns the datagram length. */
  sign(b: Uint8Array, len: number): number {
    b.set(this.#tag(b, len), len);
    return len + SYNC_TAG_LEN;
  }

  /** Whether the last 16 of `len` bytes are the tag of the bytes before them. */
  verify(b: Uint8Array, len: number): boolean {
    if (len < SYNC_TAG_LEN || b.length < len) return false;
    const body = len - SYNC_TAG_LEN;
    return timingSafeEqual(this.#tag(b, body), b.subarray(body, len));
  }
}
