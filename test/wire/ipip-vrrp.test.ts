import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encapIpip, IPIP_OVERHEAD, tunnelInnerFamily } from '../../src/wire/ipip.js';
import { IpProto, Ipv4Packet } from '../../src/wire/ipv4.js';
import { Ipv6Packet } from '../../src/wire/ipv6.js';
import { isReason, Reason } from '../../src/wire/reasons.js';
import { VRRP_AUTH_LEN, VrrpAuth, VrrpPacket, VrrpRepr } from '../../src/wire/vrrp.js';
import { exact, fixture, hex, ip4, ip6, num, scapy } from './helpers.js';

const ip = new Ipv4Packet();
const ip6v = new Ipv6Packet();

test('IPIP fixture: outer header recognised, inner packet parses', () => {
  const f = fixture('ipip');
  const outer = scapy('ipip', 'IP', 0);
  ip.reset(f, outer.offset, f.length - outer.offset);
  assert.equal(ip.check(), Reason.OK);
  assert.equal(tunnelInnerFamily(ip.protocol), 4);
  const inner = new Ipv4Packet(f, ip.payloadOff, ip.payloadLen);
  assert.equal(inner.check(), Reason.OK);
  assert.equal(inner.src, ip4(scapy('ipip', 'IP', 1).fields.src));
  const sit = fixture('sit_6in4');
  ip.reset(sit, 14, sit.length - 14);
  assert.equal(ip.check(), Reason.OK);
  assert.equal(tunnelInnerFamily(ip.protocol), 6);
  assert.equal(ip6v.reset(sit, ip.payloadOff, ip.payloadLen).check(), Reason.OK);
  assert.equal(tunnelInnerFamily(IpProto.TCP), 0);
});

test('encapIpip writes the scapy outer headers in headroom (RFC 2003 TOS/DF, 6in4)', () => {
  for (const [name, innerName] of [
    ['ipip', 'tcp_syn_v4'],
    ['sit_6in4', ''],
  ] as const) {
    const want = fixture(name);
    const outerS = scapy(name, 'IP', 0);
    const innerBytes = innerName
      ? fixture(innerName).subarray(14)
      : want.subarray(outerS.offset + IPIP_OVERHEAD);
    const buf = new Uint8Array(200).fill(0xab);
    const innerOff = 64;
    buf.set(innerBytes, innerOff);
    const off = encapIpip(
      buf,
      innerOff,
      innerBytes.length,
      ip4(outerS.fields.src),
      ip4(outerS.fields.dst),
      num(outerS, 'ttl'),
      num(outerS, 'id'),
    );
    assert.equal(off, innerOff - IPIP_OVERHEAD);
    assert.equal(
      hex(buf.subarray(off, innerOff + innerBytes.length)),
      hex(want.subarray(outerS.offset)),
      name,
    );
    assert.equal(buf[off - 1], 0xab);
  }
  const b = fixture('tcp_syn_v4').slice();
  assert.equal(encapIpip(b, 14, b.length - 14, 1, 2, 64, 0), -1); // only 14 bytes of headroom
  const room = new Uint8Array(100);
  room.set(b.subarray(14), 40);
  assert.equal(encapIpip(room, 40, b.length - 14, 1, 2, 64, 0, 20), 20); // exactly enough
  assert.equal(encapIpip(room, 40, b.length - 14, 1, 2, 64, 0, 21), -1); // headroom below minOff
  assert.equal(encapIpip(new Uint8Array(60), 40, 10, 1, 2, 64, 0), -1); // not an IP packet there (version 0)
  assert.equal(encapIpip(new Uint8Array(70_000), 20, 65_520, 1, 2, 64, 0), -1); // over 65535
});

const VRRP_FIXTURES: Array<[string, 4 | 6, string]> = [
  ['vrrp_v2', 4, 'VRRP'],
  ['vrrp_v2_pass', 4, 'VRRP'],
  ['vrrp_v3_v4', 4, 'VRRPv3'],
  ['vrrp_v3_v6', 6, 'VRRPv3'],
];

function vrrpOf(name: string, family: 4 | 6, f = fixture(name)) {
  const ipOff = scapy(name, family === 4 ? 'IP' : 'IPv6').offset;
  let pseudo: number;
  let off: number;
  let len: number;
  if (family === 4) {
    ip.reset(f, ipOff, f.length - ipOff).check();
    pseudo = ip.pseudoSum();
    off = ip.payloadOff;
    len = ip.payloadLen;
  } else {
    ip6v.reset(f, ipOff, f.length - ipOff).check();
    pseudo = ip6v.pseudoSum();
    off = ip6v.upperOff;
    len = ip6v.upperLen;
  }
  return { f, off, len, pseudo, v: new VrrpPacket(f, off, len, family) };
}

test('VRRP fixtures: fields match scapy; v2 checksum over the message, v3 with the pseudo-header', () => {
  for (const [name, family, layer] of VRRP_FIXTURES) {
    const s = scapy(name, layer);
    const { v, pseudo } = vrrpOf(name, family);
    assert.equal(v.check(), Reason.OK, name);
    assert.equal(v.version, num(s, 'version'));
    assert.equal(v.vrid, num(s, 'vrid'));
    assert.equal(v.priority, num(s, 'priority'));
    assert.equal(v.count, num(s, 'ipcount'));
    assert.equal(v.checksum, num(s, 'chksum'));
    const addrs = s.fields.addrlist as string[];
    if (v.version === 2) {
      assert.equal(v.advertIntervalCs, num(s, 'adv') * 100);
      assert.equal(v.authType, num(s, 'authtype'));
      assert.ok(v.verifyChecksum(0), name);
      for (const [i, a] of addrs.entries()) assert.equal(v.addrV4(i), ip4(a));
    } else {
      assert.equal(v.advertIntervalCs, num(s, 'adv'));
      assert.ok(v.verifyChecksum(pseudo), name);
      assert.ok(!v.verifyChecksum(0), name);
    }
    const repr = VrrpRepr.parse(v, v.version === 2 ? 0 : pseudo);
    assert.ok(!isReason(repr), name);
    assert.deepEqual(
      repr.addresses,
      addrs.map((a) => (family === 4 ? ip4(a) : ip6(a))),
    );
  }
});

test('VRRP PASS auth: keepalived-style zero-padded password', () => {
  const { v } = vrrpOf('vrrp_v2_pass', 4);
  assert.equal(v.authType, VrrpAuth.PASSWORD);
  assert.ok(v.passwordMatches(new TextEncoder().encode('s3cret')));
  assert.ok(!v.passwordMatches(new TextEncoder().encode('s3cre')));
  assert.ok(!v.passwordMatches(new TextEncoder().encode('s3cret-too-long')));
  assert.deepEqual(VrrpRepr.passwordAuth('s3cret'), v.buf.slice(v.authOff, v.authOff + VRRP_AUTH_LEN));
});

test('VrrpRepr emit reproduces every fixture message, checksum included', () => {
  for (const [name, family] of VRRP_FIXTURES) {
    const { f, off, len, pseudo, v } = vrrpOf(name, family);
    const repr = VrrpRepr.parse(v);
    assert.ok(!isReason(repr));
    assert.equal(repr.bufferLen(), len);
    const out = new Uint8Array(len);
    repr.emit(new VrrpPacket(out, 0, len, family), repr.version === 2 ? 0 : pseudo);
    assert.equal(hex(out), hex(f.subarray(off, off + len)), name);
  }
  const built = new VrrpRepr({
    version: 2,
    vrid: 51,
    priority: 150,
    advertIntervalCs: 300,
    addresses: [ip4('198.51.100.10')],
    authType: VrrpAuth.PASSWORD,
    auth: VrrpRepr.passwordAuth('s3cret'),
  });
  const { f, off, len } = vrrpOf('vrrp_v2_pass', 4);
  const out = new Uint8Array(built.bufferLen());
  built.emit(new VrrpPacket(out, 0, out.length), 0);
  assert.equal(hex(out), hex(f.subarray(off, off + len)));
});

test('VRRP validation: version, type, family, count vs length, auth type, checksum, truncation', () => {
  const { f, off, len, pseudo } = vrrpOf('vrrp_v3_v4', 4);
  const mut = (edit: (b: Uint8Array) => void, family: 4 | 6 = 4, extra = 0) => {
    const b = new Uint8Array(len + extra);
    b.set(f.subarray(off, off + len));
    edit(b);
    return new VrrpPacket(b, 0, b.length, family).check();
  };
  assert.equal(
    mut((b) => (b[0] = 0x11)),
    Reason.BAD_VRRP_VERSION,
  );
  assert.equal(
    mut((b) => (b[0] = 0x32)),
    Reason.BAD_VRRP_TYPE,
  );
  assert.equal(
    mut((b) => (b[3] = 3)),
    Reason.TRUNCATED_VRRP,
  );
  assert.equal(
    mut((b) => (b[3] = 1)),
    Reason.BAD_VRRP_LENGTH,
  );
  assert.equal(
    mut(() => {}, 4, 4),
    Reason.BAD_VRRP_LENGTH,
  );
  assert.equal(
    mut(() => {}, 6),
    Reason.TRUNCATED_VRRP,
  ); // v3 over IPv6 needs 16-byte addresses
  const v2 = vrrpOf('vrrp_v2', 4);
  const b2 = v2.f.slice(v2.off, v2.off + v2.len);
  assert.equal(new VrrpPacket(b2, 0, b2.length, 6).check(), Reason.BAD_VRRP_VERSION); // v2 is IPv4 only
  b2[4] = 3;
  assert.equal(new VrrpPacket(b2, 0, b2.length).check(), Reason.BAD_VRRP_AUTH);
  for (let cut = 0; cut < len; cut++) {
    assert.equal(new VrrpPacket(exact(f, off, cut), 0, cut).check(), Reason.TRUNCATED_VRRP, `cut at ${cut}`);
  }
  const bad = f.slice(off, off + len);
  bad[7]! ^= 1;
  assert.equal(VrrpRepr.parse(new VrrpPacket(bad, 0, len), pseudo), Reason.BAD_VRRP_CHECKSUM);
});
