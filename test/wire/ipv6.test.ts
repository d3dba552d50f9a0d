import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpProto } from '../../src/wire/ipv4.js';
import { IPV6_HEADER_LEN, IPV6_MAX_EXT_HEADERS, Ipv6Packet, Ipv6Repr } from '../../src/wire/ipv6.js';
import { isReason, Reason } from '../../src/wire/reasons.js';
import { exact, fixture, hex, ip6, num, scapy } from './helpers.js';

const ip = new Ipv6Packet();
const V6_FIXTURES = [
  'udp_v6',
  'tcp_toa_v6',
  'ipv6_ext',
  'ipv6_frag_later',
  'ipv6_routing',
  'icmpv6_echo',
  'tcp_big_v6',
  'icmpv6_packet_too_big',
  'vrrp_v3_v6',
];

function view(name: string) {
  const f = fixture(name);
  const s = scapy(name, 'IPv6');
  return { f, s, v: ip.reset(f, s.offset, f.length - s.offset) };
}

test('IPv6 fixtures: fixed header fields match scapy', () => {
  for (const name of V6_FIXTURES) {
    const { s, v } = view(name);
    assert.equal(v.check(), Reason.OK, name);
    assert.equal(v.version, 6);
    assert.equal(v.trafficClass, num(s, 'tc'), name);
    assert.equal(v.flowLabel, num(s, 'fl'), name);
    assert.equal(v.payloadLen, num(s, 'plen'), name);
    assert.equal(v.nextHeader, num(s, 'nh'), name);
    assert.equal(v.hopLimit, num(s, 'hlim'), name);
    const src = ip6(s.fields.src);
    const dst = ip6(s.fields.dst);
    for (let i = 0; i < 4; i++) {
      assert.equal(v.srcWord(i), src[i], name);
      assert.equal(v.dstWord(i), dst[i], name);
    }
    const words = new Uint32Array(8);
    v.readSrc(words, 0);
    v.readDst(words, 4);
    assert.deepEqual([...words], [...src, ...dst]);
  }
});

test('extension chain: hop-by-hop, dest opts and a first fragment lead to UDP', () => {
  const { f, v } = view('ipv6_ext');
  assert.equal(v.check(), Reason.OK);
  assert.equal(v.extCount, 3);
  assert.equal(v.upperProto, IpProto.UDP);
  assert.equal(v.upperOff, scapy('ipv6_ext', 'UDP').offset);
  assert.equal(v.upperLen, num(scapy('ipv6_ext', 'UDP'), 'len'));
  assert.ok(v.hasL4Header);
  assert.ok(v.isFragment);
  assert.equal(v.fragHeaderOff, scapy('ipv6_ext', 'IPv6ExtHdrFragment').offset);
  assert.equal(v.fragOffset, 0);
  assert.ok(v.moreFrags);
  assert.equal(v.fragIdent, num(scapy('ipv6_ext', 'IPv6ExtHdrFragment'), 'id'));
  assert.equal(v.end, f.length);
});

test('a non-first fragment has no L4 header; a routing header reports segments left', () => {
  const later = view('ipv6_frag_later').v;
  assert.equal(later.check(), Reason.OK);
  assert.equal(later.hasL4Header, false);
  assert.equal(later.upperProto, IpProto.UDP);
  assert.equal(later.fragOffset, num(scapy('ipv6_frag_later', 'IPv6ExtHdrFragment'), 'offset') * 8);
  assert.equal(later.moreFrags, false);
  const r = view('ipv6_routing').v;
  assert.equal(r.check(), Reason.OK);
  assert.equal(r.upperProto, IpProto.TCP);
  assert.equal(r.routingSegmentsLeft, num(scapy('ipv6_routing', 'IPv6ExtHdrRouting'), 'segleft'));
  assert.equal(r.upperOff, scapy('ipv6_routing', 'TCP').offset);
  const plain = view('udp_v6').v;
  assert.equal(plain.check(), Reason.OK);
  assert.equal(plain.extCount, 0);
  assert.equal(plain.isFragment, false);
  assert.equal(plain.routingSegmentsLeft, 0);
});

/** An IPv6 packet with the given extension headers (each as [nextHeaderValueOfThisHeader, bytes]). */
function chain(headers: Array<[number, number[]]>, upper: number, tail: number[] = []): Uint8Array {
  const body: number[] = [];
  headers.forEach(([, bytes], i) => {
    const b = bytes.slice();
    b[0] = i + 1 < headers.length ? headers[i + 1]![0] : upper;
    body.push(...b);
  });
  body.push(...tail);
  const p = new Uint8Array(IPV6_HEADER_LEN + body.length);
  p[0] = 0x60;
  p[4] = body.length >> 8;
  p[5] = body.length & 255;
  p[6] = headers.length ? headers[0]![0] : upper;
  p[7] = 64;
  p.set(body, IPV6_HEADER_LEN);
  return p;
}

const opts8 = [0, 0, 1, 4, 0, 0, 0, 0]; // next header, len 0, PadN(4)

test('AH length follows RFC 4302 (len + 2) x 4; ESP and no-next-header stop the walk', () => {
  const ah = [0, 4, 0, 0, ...new Array(20).fill(0)]; // len 4 -> 24 bytes
  const p = chain([[IpProto.AH, ah]], IpProto.TCP, new Array(20).fill(0));
  assert.equal(ip.reset(p, 0, p.length).check(), Reason.OK);
  assert.equal(ip.upperOff, IPV6_HEADER_LEN + 24);
  assert.equal(ip.upperProto, IpProto.TCP);
  const esp = chain([[IpProto.DSTOPTS, opts8]], IpProto.ESP, [1, 2, 3, 4]);
  assert.equal(ip.reset(esp, 0, esp.length).check(), Reason.OK);
  assert.equal(ip.upperProto, IpProto.ESP);
  assert.equal(ip.hasL4Header, false);
  const none = chain([], IpProto.NONE);
  assert.equal(ip.reset(none, 0, none.length).check(), Reason.OK);
  assert.equal(ip.hasL4Header, false);
});

test('an atomic fragment (offset 0, M clear) is a whole datagram (RFC 6946)', () => {
  const frag = [0, 0, 0, 0, 0, 0, 0, 42]; // offset 0, M 0, ident 42
  const p = chain([[IpProto.FRAGMENT, frag]], IpProto.UDP, [0, 1, 0, 2, 0, 8, 0, 0]);
  assert.equal(ip.reset(p, 0, p.length).check(), Reason.OK);
  assert.equal(ip.fragHeaderOff, IPV6_HEADER_LEN);
  assert.equal(ip.isFragment, false);
  assert.equal(ip.fragIdent, 42);
  assert.ok(ip.hasL4Header);
  p[IPV6_HEADER_LEN + 3] = 1; // M set: a real first fragment
  assert.equal(ip.reset(p, 0, p.length).check(), Reason.OK);
  assert.equal(ip.isFragment, true);
});

test('chain limits: too long, hop-by-hop not first, headers past the payload', () => {
  const many = chain(
    new Array(IPV6_MAX_EXT_HEADERS + 1).fill([IpProto.DSTOPTS, opts8]),
    IpProto.UDP,
    new Array(8).fill(0),
  );
  assert.equal(ip.reset(many, 0, many.length).check(), Reason.IPV6_EXT_CHAIN_TOO_LONG);
  const max = chain(
    new Array(IPV6_MAX_EXT_HEADERS).fill([IpProto.DSTOPTS, opts8]),
    IpProto.UDP,
    new Array(8).fill(0),
  );
  assert.equal(ip.reset(max, 0, max.length).check(), Reason.OK);
  const hbhLate = chain(
    [
      [IpProto.DSTOPTS, opts8],
      [IpProto.HOPOPTS, opts8],
    ],
    IpProto.UDP,
  );
  assert.equal(ip.reset(hbhLate, 0, hbhLate.length).check(), Reason.BAD_IPV6_EXT_ORDER);
  const longExt = chain([[IpProto.DSTOPTS, [0, 3, 0, 0, 0, 0, 0, 0]]], IpProto.UDP); // claims 32 bytes
  assert.equal(ip.reset(longExt, 0, longExt.length).check(), Reason.TRUNCATED_IPV6_EXT);
});

test('truncation at every point, payload length beyond the bytes, bad version', () => {
  for (const name of ['ipv6_ext', 'udp_v6', 'ipv6_routing']) {
    const { f, s } = view(name);
    const total = IPV6_HEADER_LEN + num(s, 'plen');
    for (let len = 0; len < total; len++) {
      assert.equal(
        ip.reset(exact(f, s.offset, len), 0, len).check(),
        Reason.TRUNCATED_IPV6,
        `${name} cut at ${len}`,
      );
    }
    // The same cuts with the payload length fixed up: the chain itself is then cut.
    for (let len = IPV6_HEADER_LEN; len < total; len++) {
      const b = exact(f, s.offset, len);
      b[4] = (len - IPV6_HEADER_LEN) >> 8;
      b[5] = (len - IPV6_HEADER_LEN) & 255;
      const r = ip.reset(b, 0, len).check();
      if (len < ip.upperOff || r !== Reason.OK)
        assert.equal(r, Reason.TRUNCATED_IPV6_EXT, `${name} chain cut at ${len}`);
    }
  }
  const b = fixture('udp_v6').slice(14);
  b[0] = 0x40;
  assert.equal(ip.reset(b, 0, b.length).check(), Reason.BAD_IP_VERSION);
});

test('checkQuoted walks a chain over the bytes present only', () => {
  const { f, s } = view('ipv6_ext');
  const udpOff = scapy('ipv6_ext', 'UDP').offset - s.offset;
  ip.reset(exact(f, s.offset, udpOff + 8), 0, udpOff + 8);
  assert.equal(ip.check(), Reason.TRUNCATED_IPV6);
  assert.equal(ip.checkQuoted(), Reason.OK);
  assert.equal(ip.upperOff, udpOff);
  ip.reset(exact(f, s.offset, udpOff - 4), 0, udpOff - 4);
  assert.equal(ip.checkQuoted(), Reason.TRUNCATED_IPV6_EXT);
});

test('Ipv6Repr parse/emit reproduces header and extension headers', () => {
  for (const name of V6_FIXTURES) {
    const { f, s, v } = view(name);
    const repr = Ipv6Repr.parse(v);
    assert.ok(!isReason(repr), name);
    const out = f.slice(s.offset, s.offset + repr.bufferLen());
    out.fill(0x77, 0, ip.upperOff - s.offset);
    repr.emit(ip.reset(out, 0, out.length));
    assert.equal(hex(out), hex(f.subarray(s.offset, s.offset + repr.bufferLen())), name);
    assert.deepEqual(Ipv6Repr.parse(ip.reset(out, 0, out.length)), repr);
  }
});
