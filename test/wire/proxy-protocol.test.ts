import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatIp, parseIp } from '../../src/engine/addr.js';
import { parseIpv4Text, parseIpv6Text, writeIpv4Text, writeIpv6Text } from '../../src/wire/addr-text.js';
import {
  decodeProxyHeader,
  encodeProxyV1,
  encodeProxyV2,
  findProxyTlv,
  PROXY_INCOMPLETE,
  PROXY_INVALID,
  PROXY_V1_MAX_LEN,
  ProxyCommand,
  ProxyFamily,
  ProxyHeader,
  ProxyTlvType,
  ProxyTransport,
  proxyV2Len,
} from '../../src/wire/proxy-protocol.js';
import { Reason } from '../../src/wire/reasons.js';
import { ascii, fromHex, hex } from './helpers.js';

const SIG = '0d0a0d0a000d0a515549540a';
const h = new ProxyHeader();

function decode(b: Uint8Array): number {
  return decodeProxyHeader(b, 0, b.length, h);
}

/** Every strict prefix is "incomplete", the whole is accepted with its exact length. */
function assertIncrementallyDecodes(b: Uint8Array) {
  for (let n = 0; n < b.length; n++)
    assert.equal(decodeProxyHeader(b, 0, n, h), PROXY_INCOMPLETE, `prefix ${n}`);
  assert.equal(decode(b), b.length);
}

test('v1 example from the spec: decode, encode, every prefix incomplete', () => {
  const line = ascii('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n');
  assertIncrementallyDecodes(line);
  assert.equal(h.version, 1);
  assert.equal(h.family, ProxyFamily.INET);
  assert.deepEqual(h.srcAddress(), parseIp('192.0.2.1'));
  assert.deepEqual(h.dstAddress(), parseIp('198.51.100.2'));
  assert.equal(h.srcPort, 56324);
  assert.equal(h.dstPort, 443);
  const out = new Uint8Array(108);
  assert.equal(encodeProxyV1(h, out, 0, out.length), line.length);
  assert.equal(hex(out.subarray(0, line.length)), hex(line));
  // Payload after the header is not consumed.
  const withData = new Uint8Array([...line, ...ascii('GET / HTTP/1.1\r\n')]);
  assert.equal(decode(withData), line.length);
});

test('v2 example from linux-packet.md: 28 bytes, decode and encode', () => {
  const bytes = fromHex(`${SIG} 21 11 00 0C C0 00 02 01 C6 33 64 02 DC 04 01 BB`);
  assert.equal(bytes.length, 28);
  assertIncrementallyDecodes(bytes);
  assert.equal(h.version, 2);
  assert.equal(h.command, ProxyCommand.PROXY);
  assert.equal(h.transport, ProxyTransport.STREAM);
  assert.equal(formatIp(h.srcAddress()!), '192.0.2.1');
  assert.equal(formatIp(h.dstAddress()!), '198.51.100.2');
  assert.equal(h.srcPort, 56324);
  assert.equal(h.dstPort, 443);
  assert.equal(h.tlvLen, 0);
  const out = new Uint8Array(64);
  assert.equal(encodeProxyV2(h, out, 3, 61), 28);
  assert.equal(hex(out.subarray(3, 31)), hex(bytes));
});

test('round trips: TCP4/TCP6 in v1, TCP4/TCP6/UDP4/UDP6 in v2, random addresses', () => {
  const addr4 = fc
    .integer({ min: 0, max: 0xffffffff })
    .map((w) => ({ family: 4 as const, words: [w >>> 0, 0, 0, 0] as [number, number, number, number] }));
  const word = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));
  const addr6 = fc
    .tuple(word, word, word, word)
    .map((w) => ({ family: 6 as const, words: w.map((x) => x >>> 0) as [number, number, number, number] }));
  const port = fc.integer({ min: 0, max: 65535 });
  fc.assert(
    fc.property(
      fc.oneof(fc.tuple(addr4, addr4), fc.tuple(addr6, addr6)),
      port,
      port,
      fc.boolean(),
      ([src, dst], sp, dp, dgram) => {
        const enc = new ProxyHeader().setAddresses(src, sp, dst, dp);
        enc.transport = dgram ? ProxyTransport.DGRAM : ProxyTransport.STREAM;
        const buf = new Uint8Array(128);
        const n2 = encodeProxyV2(enc, buf, 0, buf.length);
        assert.equal(n2, proxyV2Len(enc));
        assert.equal(decode(buf.subarray(0, n2)), n2);
        assert.deepEqual(
          [h.srcAddress(), h.dstAddress(), h.srcPort, h.dstPort, h.transport],
          [src, dst, sp, dp, enc.transport],
        );
        const n1 = encodeProxyV1(enc, buf, 0, buf.length);
        if (dgram) {
          assert.equal(n1, -1); // v1 has no UDP
          return;
        }
        assert.ok(n1 > 0 && n1 <= PROXY_V1_MAX_LEN);
        const text = Buffer.from(buf.subarray(0, n1)).toString('latin1');
        assert.equal(text, `PROXY TCP${src.family} ${formatIp(src)} ${formatIp(dst)} ${sp} ${dp}\r\n`);
        assert.equal(decode(buf.subarray(0, n1)), n1);
        assert.deepEqual([h.srcAddress(), h.dstAddress(), h.srcPort, h.dstPort], [src, dst, sp, dp]);
      },
    ),
    { numRuns: 1000 },
  );
});

test('v1 at its 107-byte maximum, and one byte over', () => {
  const f = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
  const max = ascii(`PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`);
  assert.equal(max.length, PROXY_V1_MAX_LEN);
  assertIncrementallyDecodes(max);
  assert.equal(h.family, ProxyFamily.UNSPEC);
  const over = ascii(`PROXY UNKNOWN ${f} ${f} 65535 655350\r\n`);
  assert.equal(decode(over), PROXY_INVALID);
  assert.equal(h.reason, Reason.BAD_PROXY_V1);
  assert.equal(decodeProxyHeader(over, 0, 106, h), PROXY_INVALID); // no CR within the first 106 bytes
  const tcp6 = ascii(`PROXY TCP6 ${f} ${f} 65535 65535\r\n`);
  assert.equal(decode(tcp6), tcp6.length);
  assert.equal(h.family, ProxyFamily.INET6);
  const u = ascii('PROXY UNKNOWN\r\n');
  assertIncrementallyDecodes(u);
  const out = new Uint8Array(20);
  assert.equal(encodeProxyV1(h, out, 0, out.length), u.length);
  assert.equal(hex(out.subarray(0, u.length)), hex(u));
});

test('v1 invalid lines are told apart from incomplete ones', () => {
  const bad: Array<[string, number]> = [
    ['GET / HTTP/1.1\r\n', Reason.BAD_PROXY_SIGNATURE],
    ['PROXX TCP4', Reason.BAD_PROXY_SIGNATURE],
    ['PROXY TCP4 192.0.2.1 198.51.100.2 56324 0443\r\n', Reason.BAD_PROXY_V1],
    ['PROXY TCP4 192.0.2.1 198.51.100.2 56324 65536\r\n', Reason.BAD_PROXY_V1],
    ['PROXY TCP4 192.0.2.1  198.51.100.2 56324 443\r\n', Reason.BAD_PROXY_V1],
    ['PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 \r\n', Reason.BAD_PROXY_V1],
    ['PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n', Reason.BAD_PROXY_V1],
    ['PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 1\r\n', Reason.BAD_PROXY_V1],
    ['PROXY tcp4 192.0.2.1 198.51.100.2 56324 443\r\n', Reason.BAD_PROXY_V1],
    ['PROXY TCP4 192.0.2.01 198.51.100.2 56324 443\r\n', Reason.BAD_PROXY_ADDRESS],
    ['PROXY TCP4 2001:db8::1 198.51.100.2 56324 443\r\n', Reason.BAD_PROXY_ADDRESS],
    ['PROXY TCP6 192.0.2.1 2001:db8::1 56324 443\r\n', Reason.BAD_PROXY_ADDRESS],
    ['PROXY TCP6 2001:db8:::1 2001:db8::1 1 2\r\n', Reason.BAD_PROXY_ADDRESS],
    ['PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n', Reason.BAD_PROXY_V1],
    ['PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX', Reason.BAD_PROXY_V1],
    ['PROXY\r\n', Reason.BAD_PROXY_SIGNATURE],
  ];
  for (const [line, reason] of bad) {
    assert.equal(decode(ascii(line)), PROXY_INVALID, line);
    assert.equal(h.reason, reason, line);
  }
  for (const part of ['P', 'PROXY', 'PROXY TCP4 1.2.3.4', 'PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r']) {
    assert.equal(decode(ascii(part)), PROXY_INCOMPLETE, part);
  }
});

test('v2: LOCAL, UNSPEC, TLVs skipped and found, IPv6 and UDP', () => {
  const local = fromHex(`${SIG} 20 00 00 00`);
  assertIncrementallyDecodes(local);
  assert.equal(h.command, ProxyCommand.LOCAL);
  assert.equal(h.family, ProxyFamily.UNSPEC);
  // LOCAL ignores the family and its block, even an odd one.
  assert.equal(decode(fromHex(`${SIG} 20 ff 00 02 aa bb`)), 18);
  const enc = new ProxyHeader();
  enc.command = ProxyCommand.LOCAL;
  const out = new Uint8Array(128);
  assert.equal(encodeProxyV2(enc, out, 0, out.length), 16);
  assert.equal(hex(out.subarray(0, 16)), hex(local));

  const tlvs = [
    { type: ProxyTlvType.ALPN, value: ascii('h2') },
    { type: ProxyTlvType.NOOP, value: new Uint8Array(3) },
    { type: ProxyTlvType.AUTHORITY, value: ascii('example.com') },
  ];
  const p6 = new ProxyHeader().setAddresses(parseIp('2001:db8::1'), 1234, parseIp('2001:db8::2'), 443);
  p6.transport = ProxyTransport.DGRAM;
  const n = encodeProxyV2(p6, out, 0, out.length, tlvs);
  assert.equal(n, 16 + 36 + 5 + 6 + 14);
  assert.equal(out[13], 0x22); // INET6 + DGRAM
  assertIncrementallyDecodes(out.slice(0, n));
  const b = out.slice(0, n);
  decode(b);
  const auth = findProxyTlv(b, h, ProxyTlvType.AUTHORITY);
  assert.equal(Buffer.from(b.subarray(auth + 3, auth + 3 + 11)).toString(), 'example.com');
  assert.equal(findProxyTlv(b, h, ProxyTlvType.UNIQUE_ID), -1);
  assert.equal(encodeProxyV2(p6, out, 0, n - 1, tlvs), -1); // no room

  const unspec = fromHex(`${SIG} 21 00 00 00`);
  assert.equal(decode(unspec), 16);
  assert.equal(h.family, ProxyFamily.UNSPEC);
  assert.equal(h.srcAddress(), null);
});

test('v2 invalid headers', () => {
  const cases: Array<[string, number]> = [
    [`${SIG.slice(0, 10)}ff`, Reason.BAD_PROXY_SIGNATURE],
    [`${SIG} 11 11 00 0c ${'00'.repeat(12)}`, Reason.BAD_PROXY_V2], // version 1 in a v2 header
    [`${SIG} 22 11 00 0c ${'00'.repeat(12)}`, Reason.BAD_PROXY_V2], // command 2
    [`${SIG} 21 13 00 0c ${'00'.repeat(12)}`, Reason.BAD_PROXY_V2], // transport 3
    [`${SIG} 21 41 00 0c ${'00'.repeat(12)}`, Reason.BAD_PROXY_V2], // family 4
    [`${SIG} 21 10 00 0c ${'00'.repeat(12)}`, Reason.BAD_PROXY_V2], // INET with UNSPEC transport
    [`${SIG} 21 11 00 08 ${'00'.repeat(8)}`, Reason.BAD_PROXY_ADDRESS], // block shorter than IPv4 needs
    [`${SIG} 21 11 00 0e ${'00'.repeat(12)} 04 00`, Reason.BAD_PROXY_TLV], // half a TLV header
    [`${SIG} 21 11 00 10 ${'00'.repeat(12)} 04 00 05 00`, Reason.BAD_PROXY_TLV], // TLV value past the end
  ];
  for (const [hexText, reason] of cases) {
    assert.equal(decode(fromHex(hexText)), PROXY_INVALID, hexText);
    assert.equal(h.reason, reason, hexText);
  }
  // Long but complete later: incomplete until all the declared bytes are there.
  const long = fromHex(`${SIG} 21 11 01 00 ${'00'.repeat(256)}`);
  assert.equal(decodeProxyHeader(long, 0, 100, h), PROXY_INCOMPLETE);
  // Then its 244-byte TLV area of empty 3-byte TLVs does not end on a TLV boundary.
  assert.equal(decode(long), PROXY_INVALID);
  assert.equal(h.reason, Reason.BAD_PROXY_TLV);
  assert.equal(decode(fromHex(`${SIG} 21 11 00 12 ${'00'.repeat(12)} ${'00'.repeat(6)}`)), 34);
});

test('IPv6/IPv4 text codecs agree with src/engine/addr.ts on random addresses', () => {
  const buf = new Uint8Array(64);
  const words = new Uint32Array(4);
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })), {
        minLength: 4,
        maxLength: 4,
      }),
      (w) => {
        const a = { family: 6 as const, words: w.map((x) => x >>> 0) as [number, number, number, number] };
        const n = writeIpv6Text(buf, 0, a.words);
        const text = Buffer.from(buf.subarray(0, n)).toString('latin1');
        assert.equal(text, formatIp(a));
        assert.ok(parseIpv6Text(buf, 0, n, words));
        assert.deepEqual([...words], a.words);
        const v4 = a.words[0];
        const m = writeIpv4Text(buf, 0, v4);
        assert.equal(parseIpv4Text(buf, 0, m), v4);
      },
    ),
    { numRuns: 2000 },
  );
  for (const s of [
    '::',
    '::1',
    '1::',
    '::ffff:10.0.0.1',
    '1:2:3:4:5:6:7:8',
    'fe80::1:2',
    '1:2:3:4:5:6:1.2.3.4',
    '::2:3:4:5:6:7:8',
  ]) {
    const b = ascii(s);
    assert.ok(parseIpv6Text(b, 0, b.length, words), s);
    assert.deepEqual([...words], [...parseIp(s).words], s);
  }
  for (const s of [
    '',
    ':',
    ':::',
    '1:2',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7:8:9',
    ':1::',
    '1::2:',
    'g::',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3',
  ]) {
    const b = ascii(s);
    assert.equal(parseIpv6Text(b, 0, b.length, words), false, s);
  }
});
