import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readU16 } from '../../src/wire/bytes.js';
import {
  ICMP_HEADER_LEN,
  IcmpRepr,
  Icmpv4Packet,
  Icmpv4Type,
  Icmpv6Packet,
  Icmpv6Type,
  isIcmpv4Error,
  isIcmpv6Error,
} from '../../src/wire/icmp.js';
import {
  ICMPV4_ERROR_MAX,
  ICMPV6_ERROR_MAX,
  writeFragNeeded,
  writePacketTooBig,
} from '../../src/wire/icmp-errors.js';
import { IpProto, Ipv4Packet } from '../../src/wire/ipv4.js';
import { Ipv6Packet } from '../../src/wire/ipv6.js';
import { isReason, Reason } from '../../src/wire/reasons.js';
import { TcpPacket } from '../../src/wire/tcp.js';
import { UDP_HEADER_LEN, UdpPacket, UdpRepr } from '../../src/wire/udp.js';
import { exact, fixture, hex, ip4, ip6, num, scapy } from './helpers.js';

const ip4v = new Ipv4Packet();
const ip6v = new Ipv6Packet();
const udp = new UdpPacket();

/** IP layer of a fixture: where L4 starts, how long it is, its pseudo-header sum. */
function l4Of(name: string, f: Uint8Array, v6: boolean) {
  const o = scapy(name, v6 ? 'IPv6' : 'IP').offset;
  if (v6) {
    assert.equal(ip6v.reset(f, o, f.length - o).check(), Reason.OK);
    return { off: ip6v.upperOff, len: ip6v.upperLen, pseudo: ip6v.pseudoSum() };
  }
  assert.equal(ip4v.reset(f, o, f.length - o).check(), Reason.OK);
  return { off: ip4v.payloadOff, len: ip4v.payloadLen, pseudo: ip4v.pseudoSum() };
}

const UDP_FIXTURES: Array<[string, boolean]> = [
  ['udp_v4', false],
  ['udp_v4_padded', false],
  ['udp_v6', true],
  ['ipv4_options', false],
  ['vlan_8021q', false],
  ['ipv4_frag_first', false],
];

test('UDP fixtures: fields match scapy; checksums verify (not over a lone fragment)', () => {
  for (const [name, v6] of UDP_FIXTURES) {
    const f = fixture(name);
    const s = scapy(name, 'UDP');
    const l4 = l4Of(name, f, v6);
    assert.equal(l4.off, s.offset);
    udp.reset(f, l4.off, l4.len);
    const fragment = name === 'ipv4_frag_first';
    // A first fragment holds the header but not the whole datagram its length field describes.
    assert.equal(udp.check(), fragment ? Reason.TRUNCATED_UDP : Reason.OK, name);
    assert.equal(udp.checkHeader(), Reason.OK, name);
    assert.equal(udp.srcPort, num(s, 'sport'));
    assert.equal(udp.dstPort, num(s, 'dport'));
    assert.equal(udp.length, num(s, 'len'));
    assert.equal(udp.checksum, num(s, 'chksum'));
    assert.equal(udp.payloadLen, num(s, 'len') - UDP_HEADER_LEN);
    if (!fragment) assert.ok(udp.verifyChecksum(l4.pseudo, v6), name);
  }
});

test('UdpRepr emit reproduces the datagrams, checksum included; parse/emit round trip', () => {
  for (const [name, v6] of UDP_FIXTURES.slice(0, 5)) {
    const f = fixture(name);
    const l4 = l4Of(name, f, v6);
    const repr = UdpRepr.parse(udp.reset(f, l4.off, l4.len), { pseudoSum: l4.pseudo, ipv6: v6 });
    assert.ok(!isReason(repr), name);
    const out = f.slice(l4.off, l4.off + repr.bufferLen());
    out.fill(0x31, 0, UDP_HEADER_LEN);
    repr.emit(udp.reset(out, 0, out.length), l4.pseudo);
    assert.equal(hex(out), hex(f.subarray(l4.off, l4.off + repr.bufferLen())), name);
    assert.deepEqual(UdpRepr.parse(udp.reset(out, 0, out.length)), repr);
  }
});

test('UDP: truncation, bad lengths, the zero checksum rule per family', () => {
  const f = fixture('udp_v4');
  const l4 = l4Of('udp_v4', f, false);
  for (let len = 0; len < l4.len; len++) {
    udp.reset(exact(f, l4.off, len), 0, len);
    assert.equal(udp.check(), Reason.TRUNCATED_UDP, `cut at ${len}`);
    assert.equal(udp.checkHeader(), len < UDP_HEADER_LEN ? Reason.TRUNCATED_UDP : Reason.OK);
  }
  const b = f.slice(l4.off, l4.off + l4.len);
  b[5] = 7;
  b[4] = 0;
  assert.equal(udp.reset(b, 0, b.length).check(), Reason.BAD_UDP_LENGTH);
  const z = f.slice(l4.off, l4.off + l4.len);
  udp.reset(z, 0, z.length).checksum = 0;
  assert.ok(udp.verifyChecksum(l4.pseudo, false));
  assert.ok(!udp.verifyChecksum(l4.pseudo, true));
  // NAT on a checksum-less datagram leaves it checksum-less.
  udp.updateChecksumPseudo32(ip4('192.0.2.1'), ip4('10.0.0.9'), false);
  udp.rewriteDstPort(5353, false);
  assert.equal(udp.checksum, 0);
  const c = f.slice(l4.off, l4.off + l4.len);
  udp.reset(c, 0, c.length).checksum ^= 0x0100;
  assert.equal(UdpRepr.parse(udp, { pseudoSum: l4.pseudo }), Reason.BAD_UDP_CHECKSUM);
});

test('UDP NAT over IPv6: address words and port, equal to a recompute', () => {
  const f = fixture('udp_v6').slice();
  const l4 = l4Of('udp_v6', f, true);
  udp.reset(f, l4.off, l4.len);
  const oldDst = new Uint32Array(4);
  ip6v.readDst(oldDst);
  const rs = ip6('2001:db8:9::99');
  ip6v.writeDst(rs);
  udp.updateChecksumPseudoWords(oldDst, 0, rs, 0, false);
  udp.rewriteDstPort(5300, false);
  const c = udp.checksum;
  assert.ok(udp.verifyChecksum(ip6v.pseudoSum(), true));
  udp.fillChecksum(ip6v.pseudoSum());
  assert.equal(udp.checksum, c);
});

test('ICMP echo v4/v6: fields, checksums, Repr round trip reproduces the bytes', () => {
  const i4 = new Icmpv4Packet();
  const f4 = fixture('icmp_echo_v4');
  const s4 = scapy('icmp_echo_v4', 'ICMP');
  const l4 = l4Of('icmp_echo_v4', f4, false);
  i4.reset(f4, l4.off, l4.len);
  assert.equal(i4.check(), Reason.OK);
  assert.equal(i4.type, num(s4, 'type'));
  assert.equal(i4.echoId, num(s4, 'id'));
  assert.equal(i4.echoSeq, num(s4, 'seq'));
  assert.equal(i4.checksum, num(s4, 'chksum'));
  assert.ok(i4.verifyChecksum(0));
  assert.equal(i4.isError, false);
  const r4 = IcmpRepr.parse(i4, 0);
  assert.ok(!isReason(r4));
  const out4 = new Uint8Array(r4.bufferLen());
  r4.emit(i4.reset(out4, 0, out4.length), 0);
  assert.equal(hex(out4), hex(f4.subarray(l4.off, l4.off + l4.len)));

  const i6 = new Icmpv6Packet();
  const f6 = fixture('icmpv6_echo');
  const s6 = scapy('icmpv6_echo', 'ICMPv6EchoRequest');
  const l6 = l4Of('icmpv6_echo', f6, true);
  i6.reset(f6, l6.off, l6.len);
  assert.equal(i6.check(), Reason.OK);
  assert.equal(i6.type, Icmpv6Type.ECHO_REQUEST);
  assert.equal(i6.echoId, num(s6, 'id'));
  assert.equal(i6.echoSeq, num(s6, 'seq'));
  assert.ok(i6.verifyChecksum(l6.pseudo));
  assert.ok(!i6.verifyChecksum(0)); // ICMPv6 needs the pseudo-header
  const r6 = IcmpRepr.parse(i6, l6.pseudo);
  assert.ok(!isReason(r6));
  const out6 = new Uint8Array(r6.bufferLen());
  r6.emit(i6.reset(out6, 0, out6.length), l6.pseudo);
  assert.equal(hex(out6), hex(f6.subarray(l6.off, l6.off + l6.len)));
  f6[l6.off + 9]! ^= 1;
  assert.equal(IcmpRepr.parse(i6.reset(f6, l6.off, l6.len), l6.pseudo), Reason.BAD_ICMP_CHECKSUM);
});

test('frag-needed fixture: MTU, the quoted packet and its ports are reachable', () => {
  const i4 = new Icmpv4Packet();
  const f = fixture('icmp_frag_needed_v4');
  const l4 = l4Of('icmp_frag_needed_v4', f, false);
  i4.reset(f, l4.off, l4.len);
  assert.equal(i4.check(), Reason.OK);
  assert.ok(i4.isError);
  assert.equal(i4.nextHopMtu, num(scapy('icmp_frag_needed_v4', 'ICMP'), 'nexthopmtu'));
  assert.equal(i4.quoteOff, scapy('icmp_frag_needed_v4', 'IPerror').offset);
  const inner = new Ipv4Packet(f, i4.quoteOff, i4.quoteLen);
  assert.equal(inner.check(), Reason.TRUNCATED_IPV4); // cut short, as quotes are
  assert.equal(inner.checkQuoted(), Reason.OK);
  assert.equal(inner.src, ip4(scapy('icmp_frag_needed_v4', 'IPerror').fields.src));
  assert.equal(inner.protocol, IpProto.TCP);
  assert.ok(inner.verifyChecksum());
  const t = new TcpPacket(f, inner.payloadOff, inner.quotedPayloadLen);
  assert.equal(t.srcPort, num(scapy('icmp_frag_needed_v4', 'TCPerror'), 'sport'));
  assert.equal(t.dstPort, num(scapy('icmp_frag_needed_v4', 'TCPerror'), 'dport'));
  for (let len = 0; len < ICMP_HEADER_LEN + 20; len++) {
    const want = len < ICMP_HEADER_LEN ? Reason.TRUNCATED_ICMP : Reason.TRUNCATED_ICMP_QUOTE;
    assert.equal(i4.reset(exact(f, l4.off, len), 0, len).check(), want, `cut at ${len}`);
  }
});

test('writeFragNeeded and writePacketTooBig reproduce the scapy replies (576 / 1280 byte caps)', () => {
  const orig4 = fixture('tcp_big_df_v4');
  const o4 = scapy('tcp_big_df_v4', 'IP').offset;
  const want4 = fixture('icmp_frag_needed_v4');
  const w4 = scapy('icmp_frag_needed_v4', 'IP');
  const out = new Uint8Array(2048).fill(0xcc);
  const n = writeFragNeeded(out, 0, out.length, ip4(w4.fields.src), orig4, o4, orig4.length - o4, 1480);
  assert.equal(n, ICMPV4_ERROR_MAX);
  assert.equal(hex(out.subarray(0, n)), hex(want4.subarray(w4.offset)));
  assert.equal(out[n], 0xcc);
  // In place: the reply built over the original packet's own buffer.
  const inPlace = new Uint8Array(4096);
  inPlace.set(orig4.subarray(o4), 100);
  assert.equal(
    writeFragNeeded(inPlace, 100, 2000, ip4(w4.fields.src), inPlace, 100, orig4.length - o4, 1480),
    n,
  );
  assert.equal(hex(inPlace.subarray(100, 100 + n)), hex(want4.subarray(w4.offset)));
  // Too little room for the original header + 8 bytes, or not IPv4.
  assert.equal(writeFragNeeded(out, 0, 20 + 8 + 27, 1, orig4, o4, orig4.length - o4, 1480), 0);
  assert.equal(writeFragNeeded(out, 0, out.length, 1, fixture('tcp_big_v6'), 14, 100, 1480), 0);
  // A short original is quoted whole.
  const small = fixture('udp_v4');
  const m = writeFragNeeded(out, 0, out.length, 1, small, 14, small.length - 14, 1400);
  assert.equal(m, 28 + small.length - 14);
  assert.ok(ip4v.reset(out, 0, m).verifyChecksum());

  const orig6 = fixture('tcp_big_v6');
  const o6 = scapy('tcp_big_v6', 'IPv6').offset;
  const want6 = fixture('icmpv6_packet_too_big');
  const w6 = scapy('icmpv6_packet_too_big', 'IPv6');
  out.fill(0xcc);
  const k = writePacketTooBig(out, 0, out.length, ip6(w6.fields.src), 0, orig6, o6, orig6.length - o6, 1280);
  assert.equal(k, ICMPV6_ERROR_MAX);
  assert.equal(hex(out.subarray(0, k)), hex(want6.subarray(w6.offset)));
  const i6 = new Icmpv6Packet(out, 40, k - 40);
  assert.equal(i6.check(), Reason.OK);
  assert.equal(i6.mtu, 1280);
  assert.equal(readU16(out, 4), k - 40);
});

test('error type classification', () => {
  assert.ok(isIcmpv4Error(Icmpv4Type.DEST_UNREACHABLE) && isIcmpv4Error(Icmpv4Type.TIME_EXCEEDED));
  assert.ok(!isIcmpv4Error(Icmpv4Type.ECHO_REQUEST) && !isIcmpv4Error(13));
  assert.ok(isIcmpv6Error(Icmpv6Type.PACKET_TOO_BIG) && !isIcmpv6Error(Icmpv6Type.NEIGHBOR_SOLICIT));
});
