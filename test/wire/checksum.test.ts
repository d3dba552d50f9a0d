import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readU16, readU32, writeU16, writeU32 } from '../../src/wire/bytes.js';
import {
  checksum,
  checksumOk,
  csumUpdate16,
  csumUpdate32,
  csumUpdateBytes,
  csumUpdateWords,
  finishPartialChecksum,
  fold,
  onesSum,
  partialCsumUpdate16,
  partialCsumUpdate32,
  partialCsumUpdateWords,
  partialPseudoV4,
  pseudoSumV4,
  pseudoSumV4At,
  pseudoSumV6At,
  pseudoSumV6Words,
  udpCsumUpdate16,
  udpCsumUpdate32,
} from '../../src/wire/checksum.js';
import { ip4 } from './helpers.js';

/** Textbook RFC 1071 sum, one 16-bit word at a time, folded at every step. */
function naiveSum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) {
    s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return s;
}

test('onesSum matches a word-by-word reference at any offset and length, odd ones included', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(), fc.nat(), (data, a, b) => {
      const off = data.length === 0 ? 0 : a % data.length;
      const len = data.length - off === 0 ? 0 : b % (data.length - off + 1);
      assert.equal(fold(onesSum(data, off, len)), naiveSum(data, off, len));
    }),
    { numRuns: 2000 },
  );
});

test('fold handles sums beyond 32 bits and chained ranges equal one range', () => {
  assert.equal(fold(0x1_0000_0000), 1);
  assert.equal(fold(2 ** 52 + 0xffff), fold((2 ** 52 % 0xffff) + 0xffff));
  const big = new Uint8Array(200_000).fill(0xff);
  assert.equal(fold(onesSum(big, 0, big.length)), 0xffff);
  const data = Uint8Array.from({ length: 101 }, (_, i) => (i * 37) & 255);
  assert.equal(fold(onesSum(data, 40, 61, onesSum(data, 0, 40))), fold(onesSum(data, 0, 101)));
});

test('RFC 1624 §3 example: HC 0xDD2F, m 0x5555 -> 0x3285 gives 0x0000, as a full recompute does', () => {
  // Two words whose checksum is 0xDD2F: 0x5555 + 0xCD7A = 0x22D0 -> ~ = 0xDD2F.
  const b = new Uint8Array(4);
  writeU16(b, 0, 0x5555);
  writeU16(b, 2, 0xcd7a);
  assert.equal(checksum(b, 0, 4), 0xdd2f);
  writeU16(b, 0, 0x3285);
  assert.equal(checksum(b, 0, 4), 0x0000);
  assert.equal(csumUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
  // The older RFC 1141 form HC + m + ~m' yields -0 (0xFFFF) here: that is why eqn. 3 is used.
  const rfc1141 = fold(0xdd2f + 0x5555 + (~0x3285 & 0xffff));
  assert.equal(rfc1141, 0xffff);
});

test('no-op updates leave the checksum alone (RFC 1624 erratum 4782)', () => {
  for (const hc of [0x0000, 0xffff, 0x1234]) {
    assert.equal(csumUpdate16(hc, 0xabcd, 0xabcd), hc);
    assert.equal(csumUpdate32(hc, 0x0a000001, 0x0a000001), hc);
    const w = [1, 2, 3, 4];
    assert.equal(csumUpdateWords(hc, w, 0, w, 0, 4), hc);
    const bytes = Uint8Array.of(1, 2, 3, 4);
    assert.equal(csumUpdateBytes(hc, bytes, 0, bytes, 0, 4), hc);
  }
  // Applied blindly, eqn. 3 turns 0xFFFF into 0x0000: the case the skip avoids.
  assert.equal(~fold((~0xffff & 0xffff) + (~0xabcd & 0xffff) + 0xabcd) & 0xffff, 0);
});

test('UDP: a zero checksum (none, IPv4) is never updated; a result of 0 is sent as 0xFFFF', () => {
  assert.equal(udpCsumUpdate16(0, 0x1111, 0x2222), 0);
  assert.equal(udpCsumUpdate32(0, 0x0a000001, 0x0a000002), 0);
  assert.equal(udpCsumUpdate16(0xdd2f, 0x5555, 0x3285), 0xffff);
  assert.equal(udpCsumUpdate16(0x1234, 0x0001, 0x0002), csumUpdate16(0x1234, 0x0001, 0x0002));
});

/** Random even-length data with a checksum field at 0 that covers everything (like an L4 header). */
const packetArb = fc
  .tuple(fc.uint8Array({ minLength: 8, maxLength: 200 }), fc.nat(), fc.nat())
  .map(([d, a, b]) => {
    const data = d.length % 2 ? d.subarray(0, d.length - 1) : d;
    return {
      data: data.slice(),
      pos16: 2 + 2 * (a % ((data.length - 2) / 2)),
      pos32: 2 + 2 * (b % ((data.length - 4) / 2)),
    };
  });

function allZeroButChecksum(d: Uint8Array): boolean {
  for (let i = 2; i < d.length; i++) if (d[i] !== 0) return false;
  return true;
}

test('incremental 16- and 32-bit updates agree with a full recompute on random data', () => {
  fc.assert(
    fc.property(
      packetArb,
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (p, v16, v32) => {
        const d = p.data;
        writeU16(d, 0, 0);
        writeU16(d, 0, checksum(d, 0, d.length));
        const c0 = readU16(d, 0);
        const old16 = readU16(d, p.pos16);
        writeU16(d, p.pos16, v16);
        // All-zero data has checksum 0xFFFF, which eqn. 3 can never produce (it yields the other zero).
        fc.pre(!allZeroButChecksum(d));
        const inc16 = csumUpdate16(c0, old16, v16);
        writeU16(d, 0, 0);
        assert.equal(inc16, checksum(d, 0, d.length));
        writeU16(d, 0, inc16);
        assert.ok(checksumOk(d, 0, d.length));
        const old32 = readU32(d, p.pos32);
        writeU32(d, p.pos32, v32);
        fc.pre(!allZeroButChecksum(d));
        const inc32 = csumUpdate32(inc16, old32, v32);
        writeU16(d, 0, 0);
        assert.equal(inc32, checksum(d, 0, d.length));
      },
    ),
    { numRuns: 3000 },
  );
});

test('incremental update of a 16-byte field (IPv6 address) agrees with a recompute, as words and as bytes', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 40, maxLength: 120 }).map((d) => d.slice(0, d.length & ~1)),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      (d, addr) => {
        const at = 8;
        writeU16(d, 0, 0);
        const c0 = checksum(d, 0, d.length);
        const oldBytes = d.slice(at, at + 16);
        const oldWords = [0, 1, 2, 3].map((i) => readU32(d, at + 4 * i));
        const newWords = [0, 1, 2, 3].map((i) => readU32(addr, 4 * i));
        d.set(addr, at);
        fc.pre(!allZeroButChecksum(d));
        const full = checksum(d, 0, d.length);
        assert.equal(csumUpdateBytes(c0, oldBytes, 0, addr, 0, 16), full);
        assert.equal(csumUpdateWords(c0, oldWords, 0, newWords, 0, 4), full);
      },
    ),
    { numRuns: 2000 },
  );
});

test('CHECKSUM_PARTIAL: linux-packet.md §1.7 example, finishing, and NAT of a partial checksum', () => {
  const src = ip4('10.99.0.1');
  const dst = ip4('10.99.0.2');
  assert.equal(partialPseudoV4(src, dst, 6, 40), 0x14f7);
  // A 40-byte TCP segment as veth hands it over: field = pseudo sum, not complemented.
  const seg = Uint8Array.from({ length: 40 }, (_, i) => (i * 7 + 3) & 255);
  writeU16(seg, 16, 0x14f7);
  const copy = seg.slice();
  const written = finishPartialChecksum(seg, 0, 16, 40, false);
  writeU16(copy, 16, 0);
  assert.equal(written, checksum(copy, 0, 40, pseudoSumV4(src, dst, 6, 40)));
  assert.ok(checksumOk(seg, 0, 40, pseudoSumV4(src, dst, 6, 40)));
  // DNAT of a partial frame: only the pseudo-header input changes.
  const rs = ip4('10.99.0.77');
  assert.equal(partialCsumUpdate32(0x14f7, dst, rs), partialPseudoV4(src, rs, 6, 40));
  assert.equal(partialCsumUpdate16(0x14f7, 40, 48), partialPseudoV4(src, dst, 6, 48));
  assert.equal(partialCsumUpdate32(0x14f7, dst, dst), 0x14f7);
});

test('partial updates agree with recomputing the pseudo-header sum (random addresses)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 12, maxLength: 12 }),
      fc.nat(0xffff),
      (w, len) => {
        const before = fold(pseudoSumV6Words(w, 0, w, 4, 17, len));
        const after = fold(pseudoSumV6Words(w, 8, w, 4, 17, len));
        fc.pre(before !== 0 && after !== 0);
        assert.equal(partialCsumUpdateWords(before, w, 0, w, 8, 4), after);
        const v4before = partialPseudoV4(w[0]!, w[1]!, 6, len);
        fc.pre(v4before !== 0);
        assert.equal(partialCsumUpdate32(v4before, w[1]!, w[2]!), partialPseudoV4(w[0]!, w[2]!, 6, len));
      },
    ),
    { numRuns: 2000 },
  );
});

test('finishing a UDP partial checksum turns 0 into 0xFFFF', () => {
  // Find a payload whose finished checksum is 0: make the total sum 0xFFFF.
  const seg = new Uint8Array(12);
  writeU16(seg, 6, 0x1234); // pseudo sum stand-in
  writeU16(seg, 8, (0xffff - 0x1234) & 0xffff);
  assert.equal(fold(onesSum(seg, 0, 12)), 0xffff);
  assert.equal(finishPartialChecksum(seg.slice(), 0, 6, 12, false), 0);
  assert.equal(finishPartialChecksum(seg, 0, 6, 12, true), 0xffff);
  assert.equal(readU16(seg, 6), 0xffff);
});

test('pseudo-header sums read from headers equal the ones from numbers/words', () => {
  const h4 = new Uint8Array(20);
  writeU32(h4, 12, 0xc0000201);
  writeU32(h4, 16, 0xc633640a);
  assert.equal(fold(pseudoSumV4At(h4, 0, 6, 1234)), fold(pseudoSumV4(0xc0000201, 0xc633640a, 6, 1234)));
  const h6 = Uint8Array.from({ length: 40 }, (_, i) => (i * 29) & 255);
  const w = Array.from({ length: 8 }, (_, i) => readU32(h6, 8 + 4 * i));
  assert.equal(fold(pseudoSumV6At(h6, 0, 58, 70000)), fold(pseudoSumV6Words(w, 0, w, 4, 58, 70000)));
});
