import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IPV4, IPV4_HEADER_LEN, Ipv4Packet, Ipv4Repr } from '../../src/wire/ipv4.js';
import { isReason, Reason } from '../../src/wire/reasons.js';
import { exact, fixture, hex, ip4, num, type ScapyLayer, scapy } from './helpers.js';

const ip = new Ipv4Packet();
const V4_FIXTURES = [
  'tcp_syn_v4',
  'tcp_toa_v4',
  'ipv4_options',
  'ipv4_frag_first',
  'ipv4_frag_later',
  'udp_v4',
  'udp_v4_padded',
  'icmp_echo_v4',
  'icmp_frag_needed_v4',
  'vlan_8021q',
  'vlan_qinq',
  'ipip',
  'vrrp_v2',
  'vrrp_v3_v4',
];

function flagsOf(l: ScapyLayer): { df: boolean; mf: boolean } {
  const f = String(l.fields.flags);
  return { df: f.includes('DF'), mf: f.includes('MF') };
}

test('IPv4 fixtures: every field matches scapy, checksum verifies', () => {
  for (const name of V4_FIXTURES) {
    const f = fixture(name);
    const s = scapy(name, 'IP');
    ip.reset(f, s.offset, f.length - s.offset);
    assert.equal(ip.check(), Reason.OK, name);
    assert.equal(ip.version, 4);
    assert.equal(ip.headerLen, num(s, 'ihl') * 4, name);
    assert.equal(ip.tos, num(s, 'tos'), name);
    assert.equal(ip.totalLen, num(s, 'len'), name);
    assert.equal(ip.ident, num(s, 'id'), name);
    assert.equal(ip.dontFrag, flagsOf(s).df, name);
    assert.equal(ip.moreFrags, flagsOf(s).mf, name);
    assert.equal(ip.fragOffset, num(s, 'frag') * 8, name);
    assert.equal(ip.isFragment, flagsOf(s).mf || num(s, 'frag') !== 0, name);
    assert.equal(ip.ttl, num(s, 'ttl'), name);
    assert.equal(ip.protocol, num(s, 'proto'), name);
    assert.equal(ip.checksum, num(s, 'chksum'), name);
    assert.equal(ip.src, ip4(s.fields.src), name);
    assert.equal(ip.dst, ip4(s.fields.dst), name);
    assert.equal(ip.payloadOff, s.offset + ip.headerLen);
    assert.ok(ip.verifyChecksum(), name);
  }
});

test('Ethernet padding past the total length is not payload', () => {
  const f = fixture('udp_v4_padded');
  const s = scapy('udp_v4_padded', 'IP');
  ip.reset(f, s.offset, f.length - s.offset);
  assert.equal(ip.check(), Reason.OK);
  assert.equal(f.length, 60);
  assert.equal(ip.payloadLen, num(scapy('udp_v4_padded', 'UDP'), 'len'));
  assert.ok(ip.len > ip.totalLen);
});

test('options: walked, found, and malformed ones rejected', () => {
  const f = fixture('ipv4_options');
  const s = scapy('ipv4_options', 'IP');
  ip.reset(f, s.offset, f.length - s.offset);
  assert.equal(ip.check(), Reason.OK);
  assert.equal(ip.optionsLen, (num(s, 'ihl') - 5) * 4);
  const ra = ip.findOption(0x94); // router alert, copied flag set
  assert.equal(ra, s.offset + IPV4_HEADER_LEN);
  assert.equal(ip.findOption(0x07), ra + 4); // record route
  assert.equal(ip.findOption(0x44), -1);
  const bad = (mutate: (b: Uint8Array, o: number) => void) => {
    const b = f.slice(s.offset);
    mutate(b, IPV4.OPTIONS);
    return ip.reset(b, 0, b.length).check();
  };
  assert.equal(
    bad((b, o) => (b[o + 1] = 1)),
    Reason.BAD_IPV4_OPTION,
  ); // length < 2
  assert.equal(
    bad((b, o) => (b[o + 1] = 40)),
    Reason.BAD_IPV4_OPTION,
  ); // past the header
  assert.equal(
    bad((b, o) => b.fill(1, o, o + 11).fill(0x83, o + 11, o + 12)),
    Reason.BAD_IPV4_OPTION,
  ); // no length byte
  assert.equal(
    bad((b, o) => b.fill(1, o, o + 12)),
    Reason.OK,
  ); // all NOPs
});

test('truncated and impossible lengths are rejected with the right reason at every cut', () => {
  for (const name of ['tcp_syn_v4', 'ipv4_options', 'icmp_frag_needed_v4']) {
    const f = fixture(name);
    const s = scapy(name, 'IP');
    const total = num(s, 'len');
    for (let len = 0; len < total; len++) {
      assert.equal(
        ip.reset(exact(f, s.offset, len), 0, len).check(),
        Reason.TRUNCATED_IPV4,
        `${name} cut at ${len}`,
      );
    }
    assert.equal(ip.reset(exact(f, s.offset, total), 0, total).check(), Reason.OK);
  }
  const base = fixture('ipv4_options').slice(scapy('ipv4_options', 'IP').offset);
  const mut = (at: number, v: number) => {
    const b = base.slice();
    b[at] = v;
    return ip.reset(b, 0, b.length).check();
  };
  assert.equal(mut(0, 0x68), Reason.BAD_IP_VERSION);
  assert.equal(mut(0, 0x44), Reason.BAD_IHL);
  assert.equal(mut(0, 0x4f), Reason.TRUNCATED_IPV4); // 60-byte header in a shorter packet
  assert.equal(mut(3, 0), Reason.BAD_TOTAL_LENGTH); // BIG TCP style 0
  assert.equal(mut(3, 24), Reason.BAD_TOTAL_LENGTH); // below the 32-byte header
  assert.equal(mut(3, 0x2d), Reason.TRUNCATED_IPV4); // total length past the bytes present
});

test('checkQuoted accepts a header whose packet was cut short (ICMP quote)', () => {
  const f = fixture('tcp_big_df_v4');
  const s = scapy('tcp_big_df_v4', 'IP');
  ip.reset(exact(f, s.offset, 28), 0, 28);
  assert.equal(ip.check(), Reason.TRUNCATED_IPV4);
  assert.equal(ip.checkQuoted(), Reason.OK);
  assert.equal(ip.quotedPayloadLen, 8);
  ip.reset(exact(f, s.offset, 19), 0, 19);
  assert.equal(ip.checkQuoted(), Reason.TRUNCATED_IPV4);
});

test('Ipv4Repr emit reproduces the fixture header (options, flags, checksum); parse/emit round trip', () => {
  for (const name of [
    'tcp_syn_v4',
    'ipv4_options',
    'ipv4_frag_first',
    'ipv4_frag_later',
    'icmp_frag_needed_v4',
  ]) {
    const f = fixture(name);
    const s = scapy(name, 'IP');
    const repr = Ipv4Repr.parse(ip.reset(f, s.offset, f.length - s.offset));
    assert.ok(!isReason(repr), name);
    assert.equal(repr.bufferLen(), num(s, 'len'));
    const out = f.slice(s.offset, s.offset + repr.bufferLen());
    out.fill(0x5a, 0, repr.headerLen());
    repr.emit(ip.reset(out, 0, out.length));
    assert.equal(hex(out), hex(f.subarray(s.offset, s.offset + repr.bufferLen())), name);
    assert.deepEqual(Ipv4Repr.parse(ip.reset(out, 0, out.length)), repr);
  }
  const f = fixture('udp_v4').slice(14);
  f[11] ^= 1;
  assert.equal(Ipv4Repr.parse(ip.reset(f, 0, f.length)), Reason.BAD_IP_CHECKSUM);
  assert.ok(!isReason(Ipv4Repr.parse(ip.reset(f, 0, f.length), false)));
});

test('NAT helpers keep the header checksum valid and equal to a recompute', () => {
  const f = fixture('tcp_syn_v4').slice(14);
  ip.reset(f, 0, f.length);
  ip.rewriteDst(ip4('10.0.0.2'));
  ip.rewriteSrc(ip4('10.0.0.1'));
  assert.equal(ip.dst, ip4('10.0.0.2'));
  assert.ok(ip.verifyChecksum());
  const c = ip.checksum;
  ip.fillChecksum();
  assert.equal(ip.checksum, c);
  assert.equal(ip.decrementTtl(), 63);
  assert.ok(ip.verifyChecksum());
  ip.rewriteTotalLen(ip.totalLen + 8);
  assert.ok(ip.verifyChecksum());
  ip.ttl = 0;
  ip.fillChecksum();
  assert.equal(ip.decrementTtl(), 0);
  assert.equal(ip.ttl, 0);
});
