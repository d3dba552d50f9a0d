/**
 * Several VRRP instances in packet mode: each VIP is answered (ARP, ping) only while the director is
 * master of the instance that manages it; a VIP no instance manages (like the Full-NAT local addresses)
 * follows the director-wide switch, which the daemon ties to one instance.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../../src/engine/addr.js';
import { MutableFrame, VERDICT_NAMES } from '../../../src/engine/pipeline/index.js';
import { build, loadScenarios, type Topology } from './harness.js';

const { topology } = loadScenarios() as { topology: Topology };

/** An ARP request from the upstream router 203.0.113.254 (02:00:00:00:0f:fe) for `target`. */
function whoHas(target: string): MutableFrame {
  const b = new Uint8Array(42);
  b.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0x0f, 0xfe, 0x08, 0x06], 0);
  b.set([0, 1, 0x08, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0x0f, 0xfe, 203, 0, 113, 254, 0, 0, 0, 0, 0, 0], 14);
  b.set(target.split('.').map(Number), 38);
  return new MutableFrame().set(b, 0, b.length, 0, 0);
}

test('each VIP follows the VRRP instance that manages it; unmanaged VIPs and local addresses follow any', () => {
  const { pipeline } = build(topology, {});
  const answered = (addr: string) => VERDICT_NAMES[pipeline.process(whoHas(addr), 1000)] === 'reply';
  const [vipA, vipB, vipFree] = ['198.51.100.10', '198.51.100.11', '198.51.100.12'];
  const managed = [parseIp(vipA), parseIp(vipB)];

  // Master of the instance holding vipA only (the peer director is master of vipB's instance).
  pipeline.answerVips = true;
  pipeline.setVirtualAddresses([parseIp(vipA)], managed);
  assert.equal(answered(vipA), true, 'owned VIP');
  assert.equal(answered(vipB), false, "the other instance's VIP is the peer's");
  assert.equal(answered(vipFree), true, 'a VIP no instance manages');

  // Both instances.
  pipeline.setVirtualAddresses(managed, managed);
  assert.equal(answered(vipB), true);

  // Master of vipB's instance only, and not of the one the director-wide addresses follow: vipB is
  // answered, the unmanaged VIP is the other director's.
  pipeline.answerVips = false;
  pipeline.setVirtualAddresses([parseIp(vipB)], managed);
  assert.equal(answered(vipB), true);
  assert.equal(answered(vipA), false);
  assert.equal(answered(vipFree), false, 'director-wide addresses follow one instance only');

  // Nothing held: a backup answers for none of them.
  pipeline.answerVips = false;
  pipeline.setVirtualAddresses([], managed);
  for (const a of [vipA, vipB, vipFree]) assert.equal(answered(a), false, `${a} while backup`);
  assert.equal(answered('203.0.113.1'), true, "the director's own address is always answered");
});
