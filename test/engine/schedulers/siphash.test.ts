import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hsiphash32, sipHash, sipKey } from '../../../src/engine/schedulers/siphash.js';

// SipHash-2-4 reference vectors (the reference implementation's vectors.h / the paper's appendix):
// key 00 01 .. 0f, message 00 01 .. (n-1), result as a little-endian u64.
const SIPHASH24 = [
  0x726fdb47dd0e0e31n,
  0x74f839c593dc67fdn,
  0x0d6c8009d9a94f5an,
  0x85676696d7fb7e2dn,
  0xcf2794e0277187b7n,
  0x18765564cd99a68dn,
  0xcbc9466e58fee3cen,
  0xab0200f58b01d137n,
  0x93f5f5799a932462n,
  0x9e0082df0ba9e4b0n,
  0x7a5dbbc594ddb9f3n,
  0xf4b32f46226bada7n,
  0x751e8fbc860ee5fbn,
  0x14ea5627c0843d90n,
  0xf723ca908e7af2een,
  0xa129ca6149be45e5n,
  0x3f2acc7f57c29bdbn,
  0x699ae9f52cbe4794n,
  0x4bc1b3f0968dd39cn,
  0xbb6dc91da77961bdn,
  0xbed65cf21aa2ee98n,
  0xd0f2cbb02e3b67c7n,
  0x93536795e3a33e88n,
  0xa80c038ccd5ccec8n,
  0xb8ad50c6f649af94n,
  0xbce192de8a85b8ean,
  0x17d835b85bbb15f3n,
  0x2f2e6163076bcfadn,
];

test('the SipHash core reproduces the published SipHash-2-4 vectors (lengths 0-27)', () => {
  const key = sipKey(0x0706050403020100n, 0x0f0e0d0c0b0a0908n);
  const msg = Uint8Array.from({ length: SIPHASH24.length }, (_, i) => i);
  const out = new Uint32Array(2);
  for (let n = 0; n < SIPHASH24.length; n++) {
    sipHash(msg.subarray(0, n), key, 2, 4, out);
    const got = (BigInt(out[1]!) << 32n) | BigInt(out[0]!);
    assert.equal(got, SIPHASH24[n], `length ${n}`);
  }
});

test('hsiphash32 gives the ipvs.md mh vectors (SipHash-1-3, 64-bit key words, low 32 bits)', () => {
  // generate_hash_secret in ip_vs_mh.c
  const k1 = sipKey(2654435761n, 2654435761n);
  const k2 = sipKey(2654446892n, 2654446892n);
  assert.equal(hsiphash32(0, k1), 0x1d5a77c2);
  assert.equal(hsiphash32(0, k2), 0xf882433f);
  // client 192.168.1.10 (ipvs.md §1 mh)
  assert.equal(hsiphash32(0xc0a8010a, k1), 0xd5e959b6);
});

test('hsiphash32 equals the generic core on the u32 as 4 little-endian bytes, 1-3 rounds', () => {
  const bytes = new Uint8Array(4);
  const out = new Uint32Array(2);
  fc.assert(
    fc.property(
      fc.nat({ max: 0xffffffff }),
      fc.nat({ max: 0xffffffff }),
      fc.nat({ max: 0xffffffff }),
      (v, a, b) => {
        const key = sipKey(BigInt(a) * 0x100000001n, BigInt(b));
        new DataView(bytes.buffer).setUint32(0, v, true);
        sipHash(bytes, key, 1, 3, out);
        return hsiphash32(v, key) === out[0];
      },
    ),
    { numRuns: 300 },
  );
});
