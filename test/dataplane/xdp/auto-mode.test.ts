/**
 * `dataplane.xdp: auto`: which hooks it tries (the driver hook first, the generic one on veth), and the
 * attach falling back down that order. In a namespace (root only): a veth whose peer's MTU is too large
 * for veth's native XDP is refused the driver hook by the kernel and gets the generic one, saying why; the
 * same with the peer at 1500 gets the driver hook; a bridge, whose driver has no native XDP, is read as
 * `bridge`, tries native first and ends on generic.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { attachInOrder, autoModes } from '../../../src/dataplane/xdp/auto-mode.js';
import { cliPath } from '../../helpers/cli.js';
import { rootSkipReason } from '../../helpers/env.js';
import { withLab } from '../../helpers/netns.js';

const skip = rootSkipReason();

test('auto tries the driver hook first, except on veth', () => {
  assert.deepEqual(autoModes(['mlx5_core']), ['native', 'generic']);
  assert.deepEqual(autoModes(['virtio_net', 'ixgbe']), ['native', 'generic']);
  assert.deepEqual(autoModes(['veth']), ['generic']);
  // One hook for every port: a veth among them keeps all of them generic.
  assert.deepEqual(autoModes(['ixgbe', 'veth']), ['generic']);
  // A driver that did not say: native is tried, and refused if it cannot.
  assert.deepEqual(autoModes(['']), ['native', 'generic']);
});

test('the attach falls back down the order and keeps every refusal', () => {
  const tried: string[] = [];
  const refuseNative = (mode: string) => {
    tried.push(mode);
    if (mode === 'native') throw new Error('XDP fast path (native) unavailable: EOPNOTSUPP');
    return { mode };
  };
  const a = attachInOrder(['native', 'generic'], refuseNative);
  assert.deepEqual(tried, ['native', 'generic']);
  assert.equal(a.mode, 'generic');
  assert.deepEqual(a.fast, { mode: 'generic' });
  assert.deepEqual(a.refused, ['XDP fast path (native) unavailable: EOPNOTSUPP']);
  assert.equal(a.error, null);

  tried.length = 0;
  const first = attachInOrder(['native', 'generic'], (mode) => {
    tried.push(mode);
    return mode;
  });
  assert.deepEqual(tried, ['native'], 'nothing is tried after a hook attaches');
  assert.deepEqual(first.refused, []);

  const none = attachInOrder(['native', 'generic'], (mode) => {
    throw new Error(`${mode} refused`);
  });
  assert.equal(none.fast, null);
  assert.equal(none.mode, null);
  assert.deepEqual(none.refused, ['native refused', 'generic refused']);
  assert.equal((none.error as Error).message, 'generic refused', 'the last refusal is the one to rethrow');
});

/** Attaches the fast path to each interface (order: auto's, or `forced`) and prints what happened. */
const ATTACH = (dist: string, ifaces: Array<{ name: string; forced?: string[] }>) => `
const { XdpFastPath } = await import('${dist}/src/dataplane/xdp/fastpath.js');
const { attachInOrder, autoModes } = await import('${dist}/src/dataplane/xdp/auto-mode.js');
const { driverName } = await import('${dist}/src/dataplane/packet/ethtool.js');
const { interfaceInfo } = await import('${dist}/src/dataplane/packet/ifinfo.js');
const { Balancer } = await import('${dist}/src/engine/balancer.js');
const b = new Balancer({ conntable: { capacity: 64 }, localAddresses: [] });
const out = [];
for (const { name, forced } of ${JSON.stringify(ifaces)}) {
  const driver = driverName(name);
  const order = forced ?? autoModes([driver]);
  const ports = [{ ifindex: interfaceInfo(name).index, ifname: name, mtu: 1500 }];
  const got = attachInOrder(order, (mode) =>
    new XdpFastPath({ mode, ports, conns: b.conns, services: b.services, dests: b.dests }));
  got.fast?.close();
  out.push({ name, driver, order, mode: got.mode, refused: got.refused });
}
console.log(JSON.stringify(out));`;

test('auto on real devices: native where the driver takes it, generic where it refuses', {
  skip: skip ?? false,
  timeout: 60_000,
}, async () => {
  await withLab(async (lab) => {
    const d = await lab.addNs('d');
    const p = await lab.addNs('p');
    // veth refuses native XDP when the peer's MTU does not fit one page (a program without frags).
    await lab.addVeth({ ns: d, name: 'big' }, { ns: p, name: 'bigpeer', mtu: 9000 });
    await lab.addVeth({ ns: d, name: 'std' }, { ns: p, name: 'stdpeer' });
    await lab.addBridge(d, 'br0');
    await lab.ip(d, ['link', 'set', 'br0', 'up']);
    const dist = join(cliPath, '..', '..', '..');
    const script = ATTACH(dist, [
      { name: 'big', forced: ['native', 'generic'] },
      { name: 'std', forced: ['native', 'generic'] },
      { name: 'std' },
      { name: 'br0' },
    ]);
    const r = await lab.exec(d, [process.execPath, '--input-type=module', '-e', script]);
    const [big, stdNative, stdAuto, bridge] = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Array<{
      name: string;
      driver: string;
      order: string[];
      mode: string | null;
      refused: string[];
    }>;
    assert.equal(big!.driver, 'veth');
    assert.equal(big!.mode, 'generic');
    assert.equal(big!.refused.length, 1);
    assert.match(big!.refused[0]!, /XDP fast path \(native\) unavailable: .*ERANGE/);
    assert.equal(stdNative!.mode, 'native', stdNative!.refused.join('; '));
    assert.deepEqual(stdNative!.refused, []);
    assert.deepEqual(stdAuto, {
      name: 'std',
      driver: 'veth',
      order: ['generic'],
      mode: 'generic',
      refused: [],
    });
    assert.equal(bridge!.driver, 'bridge');
    assert.deepEqual(bridge!.order, ['native', 'generic']);
    assert.equal(bridge!.mode, 'generic');
    assert.match(bridge!.refused[0]!, /XDP fast path \(native\) unavailable: .*(EOPNOTSUPP|ENOTSUP)/);
  });
});
