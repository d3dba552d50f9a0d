/**
 * Building adverts (checked against scapy-built fixtures) and the receive checks: every drop reason,
 * and what is accepted with a counted mismatch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type IpAddress, parseIp } from '../../src/engine/addr.js';
import { type AdvertSpec, buildAdvert, withIpv4Header } from '../../src/ha/vrrp/advert.js';
import {
  checkAdvert,
  parseIpv4Datagram,
  type ReceiveSpec,
  type RxPacket,
} from '../../src/ha/vrrp/receive.js';
import { fixture } from '../wire/helpers.js';

const GROUP = parseIp('224.0.0.18');
const PEER = parseIp('10.0.0.1');
const US = parseIp('10.0.0.2');

function spec(over: Partial<ReceiveSpec> = {}): ReceiveSpec {
  return {
    version: 3,
    vrid: 51,
    advertIntervalMs: 1000,
    addresses: [parseIp('198.51.100.10'), parseIp('198.51.100.11')],
    authPass: null,
    source: US,
    unicastPeers: [],
    ...over,
  };
}

/** A packet from PEER as the peer would build it with `over` applied to our spec. */
function fromPeer(
  over: Partial<AdvertSpec> = {},
  opts: { priority?: number; dst?: IpAddress; ttl?: number; src?: IpAddress } = {},
): RxPacket {
  const dst = opts.dst ?? GROUP;
  const src = opts.src ?? PEER;
  return {
    src,
    dst,
    ttl: opts.ttl ?? 255,
    message: buildAdvert({ ...spec(), ...over }, opts.priority ?? 100, src, dst),
  };
}

describe('buildAdvert matches scapy', () => {
  it('VRRPv2 with a PASS password', () => {
    const frame = fixture('vrrp_v2_pass');
    const msg = buildAdvert(
      {
        version: 2,
        vrid: 51,
        advertIntervalMs: 3000,
        addresses: [parseIp('198.51.100.10')],
        authPass: 's3cret',
      },
      150,
      parseIp('10.0.0.1'),
      GROUP,
    );
    assert.deepEqual(msg, frame.subarray(34));
  });

  it('VRRPv3 over IPv4, checksum with the pseudo-header', () => {
    const frame = fixture('vrrp_v3_v4');
    const msg = buildAdvert(
      {
        version: 3,
        vrid: 51,
        advertIntervalMs: 1000,
        addresses: [parseIp('198.51.100.10'), parseIp('198.51.100.11')],
        authPass: null,
      },
      200,
      parseIp('10.0.0.1'),
      GROUP,
    );
    assert.deepEqual(msg, frame.subarray(34));
  });

  it('VRRPv3 over IPv6', () => {
    const frame = fixture('vrrp_v3_v6');
    const msg = buildAdvert(
      {
        version: 3,
        vrid: 51,
        advertIntervalMs: 500,
        addresses: [parseIp('fe80::33'), parseIp('2001:db8::33')],
        authPass: null,
      },
      100,
      parseIp('fe80::1'),
      parseIp('ff02::12'),
    );
    assert.deepEqual(msg, frame.subarray(54));
  });

  it('the IPv4 header: TTL 255, protocol 112, TOS 0xc0, and it parses back', () => {
    const msg = buildAdvert({ ...spec() }, 100, PEER, GROUP);
    const dgram = withIpv4Header(msg, PEER, GROUP);
    assert.equal(dgram[8], 255);
    assert.equal(dgram[9], 112);
    assert.equal(dgram[1], 0xc0);
    const back = parseIpv4Datagram(dgram);
    assert.ok(back);
    assert.deepEqual(back.src, PEER);
    assert.deepEqual(back.dst, GROUP);
    assert.equal(back.ttl, 255);
    assert.deepEqual(back.message, msg);
  });

  it('datagrams that are not sound VRRP over IPv4 are refused', () => {
    const dgram = withIpv4Header(buildAdvert(spec(), 100, PEER, GROUP), PEER, GROUP);
    assert.equal(parseIpv4Datagram(dgram.subarray(0, 12)), null);
    const tcp = dgram.slice();
    tcp[9] = 6;
    assert.equal(parseIpv4Datagram(tcp), null);
    const frag = dgram.slice();
    frag[6] = 0x20; // more fragments
    assert.equal(parseIpv4Datagram(frag), null);
  });
});

describe('checkAdvert', () => {
  it('accepts a sound v3 advert and reports what the machine needs', () => {
    const v = checkAdvert(fromPeer({}, { priority: 150 }), spec());
    assert.ok(v.ok);
    assert.deepEqual(v.advert, { src: PEER, priority: 150, advertIntervalMs: 1000 });
    assert.equal(v.addressMismatch, null);
    assert.equal(v.intervalMismatch, false);
  });

  it('accepts v2 with the right password', () => {
    const s = spec({ version: 2, authPass: 'secret' });
    assert.ok(checkAdvert(fromPeer({ version: 2, authPass: 'secret' }), s).ok);
  });

  const drops: [string, RxPacket, ReceiveSpec, string][] = [
    ['our own advert looped back', fromPeer({}, { src: US }), spec(), 'own'],
    ['TTL below 255 on multicast (RFC 5798 §7.1)', fromPeer({}, { ttl: 254 }), spec(), 'ttl'],
    ['another VRID', fromPeer({ vrid: 52 }), spec(), 'other-vrid'],
    ['v3 advert to a v2 instance', fromPeer(), spec({ version: 2 }), 'version'],
    ['v2 advert to a v3 instance', fromPeer({ version: 2 }), spec(), 'version'],
    [
      'v2 interval differs (RFC 3768 §7.1)',
      fromPeer({ version: 2, advertIntervalMs: 2000 }),
      spec({ version: 2 }),
      'interval',
    ],
    ['v3 Max Adver Int of 0', fromPeer({ advertIntervalMs: 0 }), spec(), 'interval'],
    [
      'v2 wrong password',
      fromPeer({ version: 2, authPass: 'guess' }),
      spec({ version: 2, authPass: 'secret' }),
      'auth',
    ],
    [
      'v2 no auth where PASS is expected',
      fromPeer({ version: 2 }),
      spec({ version: 2, authPass: 'secret' }),
      'auth-type',
    ],
    [
      'v2 PASS where none is expected',
      fromPeer({ version: 2, authPass: 'x' }),
      spec({ version: 2 }),
      'auth-type',
    ],
    [
      'v3 checksum computed for another destination',
      { ...fromPeer({}, { dst: US }), dst: GROUP },
      spec(),
      'checksum',
    ],
    ['multicast to a unicast instance', fromPeer(), spec({ unicastPeers: [PEER] }), 'cast-mismatch'],
    ['unicast to a multicast instance', fromPeer({}, { dst: US }), spec(), 'cast-mismatch'],
    [
      'unicast from a stranger',
      fromPeer({}, { dst: US, src: parseIp('10.0.0.66') }),
      spec({ unicastPeers: [PEER] }),
      'unknown-peer',
    ],
  ];
  for (const [name, pkt, s, reason] of drops) {
    it(`drops ${name}: ${reason}`, () => {
      const v = checkAdvert(pkt, s);
      assert.deepEqual(v, { ok: false, drop: reason });
    });
  }

  it('drops a corrupted checksum', () => {
    const pkt = fromPeer();
    pkt.message[2] = 99; // priority changed after the checksum was computed
    assert.deepEqual(checkAdvert(pkt, spec()), { ok: false, drop: 'checksum' });
  });

  it('drops truncated, padded, wrong-type and bad-auth-type messages', () => {
    const good = fromPeer().message;
    const cases: [Uint8Array, string][] = [
      [good.subarray(0, 6), 'length'],
      [good.subarray(0, good.length - 1), 'length'],
      [Uint8Array.from([...good, 0, 0, 0, 0]), 'length'],
      [Uint8Array.from(good, (b, i) => (i === 0 ? 0x32 : b)), 'type'],
      [Uint8Array.from(good, (b, i) => (i === 0 ? 0x41 : b)), 'version'],
    ];
    for (const [message, reason] of cases) {
      assert.deepEqual(checkAdvert({ src: PEER, dst: GROUP, ttl: 255, message }, spec()), {
        ok: false,
        drop: reason,
      });
    }
    const v2 = fromPeer({ version: 2 }).message;
    v2[4] = 3; // auth type 3 does not exist
    assert.deepEqual(checkAdvert({ src: PEER, dst: GROUP, ttl: 255, message: v2 }, spec({ version: 2 })), {
      ok: false,
      drop: 'auth-type',
    });
  });

  it('unicast adverts from a peer are accepted whatever their TTL (keepalived)', () => {
    const v = checkAdvert(fromPeer({}, { dst: US, ttl: 61 }), spec({ unicastPeers: [PEER] }));
    assert.ok(v.ok);
  });

  it('v3: another interval is accepted and flagged (the backup learns it)', () => {
    const v = checkAdvert(fromPeer({ advertIntervalMs: 2500 }), spec());
    assert.ok(v.ok && v.intervalMismatch && v.advert.advertIntervalMs === 2500);
  });

  it('address list mismatches are accepted and flagged (count, then content)', () => {
    const fewer = checkAdvert(fromPeer({ addresses: [parseIp('198.51.100.10')] }), spec());
    assert.ok(fewer.ok && fewer.addressMismatch === 'count');
    const other = checkAdvert(
      fromPeer({ addresses: [parseIp('198.51.100.10'), parseIp('198.51.100.99')] }),
      spec(),
    );
    assert.ok(other.ok && other.addressMismatch === 'list');
    const reordered = checkAdvert(
      fromPeer({ addresses: [parseIp('198.51.100.11'), parseIp('198.51.100.10')] }),
      spec(),
    );
    assert.ok(reordered.ok && reordered.addressMismatch === null);
  });

  it('IPv6 v3 adverts round-trip', () => {
    const ll = parseIp('fe80::1');
    const s = spec({ addresses: [parseIp('2001:db8::100')], source: parseIp('fe80::2') });
    const message = buildAdvert(s, 120, ll, parseIp('ff02::12'));
    const v = checkAdvert({ src: ll, dst: parseIp('ff02::12'), ttl: 255, message }, s);
    assert.ok(v.ok && v.advert.priority === 120 && v.addressMismatch === null);
    const hop = checkAdvert({ src: ll, dst: parseIp('ff02::12'), ttl: 1, message }, s);
    assert.deepEqual(hop, { ok: false, drop: 'ttl' });
  });
});
