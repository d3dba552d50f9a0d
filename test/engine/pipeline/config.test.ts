import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIp } from '../../../src/engine/addr.js';
import { Balancer } from '../../../src/engine/balancer.js';
import { resolveConfig, ServiceOptionsTable } from '../../../src/engine/pipeline/config.js';
import { Pipeline, type PipelineOptions, RouteTable } from '../../../src/engine/pipeline/index.js';
import { ErrorCodes, isTslvsError } from '../../../src/errors.js';

const ip = parseIp;
const isConfig = (e: unknown) => isTslvsError(e, ErrorCodes.CONFIG);

describe('RouteTable', () => {
  const t = new RouteTable(
    [
      { prefix: ip('0.0.0.0'), prefixLen: 0, via: ip('10.0.0.254'), iface: 0 },
      { prefix: ip('10.0.0.0'), prefixLen: 24, iface: 0, src: ip('10.0.0.1') },
      { prefix: ip('10.1.0.0'), prefixLen: 16, via: ip('10.0.0.253'), iface: 1 },
      { prefix: ip('10.1.2.0'), prefixLen: 24, iface: 1 },
      { prefix: ip('2001:db8::'), prefixLen: 32, iface: 1, src: ip('2001:db8::1') },
    ],
    2,
  );
  const r = (a: string) => t.lookup(ip(a).family, ip(a).words, 0);

  test('longest prefix wins, families apart', () => {
    assert.equal(t.prefixLen[r('10.1.2.3')], 24);
    assert.equal(t.prefixLen[r('10.1.9.3')], 16);
    assert.equal(t.prefixLen[r('10.0.0.9')], 24);
    assert.equal(t.prefixLen[r('192.0.2.1')], 0);
    assert.equal(t.prefixLen[r('2001:db8:ffff::1')], 32);
    assert.equal(r('2001:db9::1'), -1);
  });

  test('on-link and preferred sources (one gateway hop)', () => {
    assert.ok(t.onLink(4, ip('10.0.0.9').words, 0, 0));
    assert.ok(!t.onLink(4, ip('10.0.0.9').words, 0, 1));
    assert.ok(!t.onLink(4, ip('192.0.2.1').words, 0, 0));
    const src = (a: string) => {
      const k = t.sourceOf(ip(a).family, ip(a).words, 0);
      return k < 0 ? -1 : t.src[k];
    };
    assert.equal(src('10.0.0.9'), ip('10.0.0.1').words[0]);
    assert.equal(src('192.0.2.1'), ip('10.0.0.1').words[0]); // via 10.0.0.254, on 10.0.0.0/24
    assert.equal(src('10.1.2.3'), -1);
  });

  test('invalid routes are configuration errors', () => {
    assert.throws(() => new RouteTable([{ prefix: ip('10.0.0.0'), prefixLen: 33, iface: 0 }], 1), isConfig);
    assert.throws(() => new RouteTable([{ prefix: ip('10.0.0.0'), prefixLen: 8, iface: 1 }], 1), isConfig);
    assert.throws(
      () => new RouteTable([{ prefix: ip('10.0.0.0'), prefixLen: 8, via: ip('::1'), iface: 0 }], 1),
      isConfig,
    );
  });
});

describe('resolveConfig', () => {
  const ok: PipelineOptions = {
    interfaces: [{ mac: '02:00:00:00:00:01', addresses: [{ address: ip('10.0.0.1'), prefixLen: 24 }] }],
  };

  test('defaults', () => {
    const c = resolveConfig(ok);
    assert.equal(c.ifMtu[0], 1500);
    assert.equal(c.ifMac[0], 0x0200_0000_0001);
    assert.deepEqual(c.checksums, { verifyIpv4Header: true, verifyL4: 'auto', vnet: true });
    assert.equal(c.decrementTtl, true);
    assert.equal(c.routes.size, 1);
  });

  for (const [name, bad] of [
    ['no interfaces', { interfaces: [] }],
    ['a bad MAC', { interfaces: [{ mac: '02:00:00:00:00' }] }],
    ['a bad MTU', { interfaces: [{ mac: 1, mtu: 20 }] }],
    ['a bad VLAN', { interfaces: [{ mac: 1, vlan: 4095 }] }],
    ['a bad prefix', { interfaces: [{ mac: 1, addresses: [{ address: ip('10.0.0.1'), prefixLen: 0 }] }] }],
    ['a bad checksum policy', { ...ok, checksums: { verifyL4: 'sometimes' as never } }],
    ['a bad static neighbour', { ...ok, staticNeighbours: [{ address: ip('10.0.0.2'), mac: 'nope' }] }],
    ['a bad ICMP rate', { ...ok, icmpRatePerSec: -1 }],
  ] as [string, PipelineOptions][]) {
    test(`refuses ${name}`, () => assert.throws(() => resolveConfig(bad), isConfig));
  }

  test('the pipeline wants one sink per interface', () => {
    const b = new Balancer({ conntable: { capacity: 16 } });
    assert.throws(() => new Pipeline(b, [], ok), isConfig);
  });
});

describe('ServiceOptionsTable', () => {
  test('TOA defaults to on unless a PROXY header is sent; kinds and versions are checked', () => {
    const t = new ServiceOptionsTable();
    assert.ok(t.toaOn(3));
    t.set(3, { proxyProtocol: 2 });
    assert.ok(!t.toaOn(3));
    assert.equal(t.proxyVersion(3), 2);
    t.set(300, { proxyProtocol: 1, toa: true, toaKind: 200 });
    assert.ok(t.toaOn(300));
    assert.equal(t.kind(300), 200);
    t.clear(300);
    assert.equal(t.proxyVersion(300), 0);
    assert.equal(t.kind(300), 254);
    assert.throws(() => t.set(1, { proxyProtocol: 3 as never }), isConfig);
    assert.throws(() => t.set(1, { toaKind: 1 }), isConfig);
    assert.throws(() => t.set(70_000, {}), isConfig);
  });
});
