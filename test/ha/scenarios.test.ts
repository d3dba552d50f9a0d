/**
 * Whole failover scenarios with pure machines on a simulated link (sim.ts): election, preemption,
 * a crashed master, a graceful handover, split brain and its resolution. Times are exact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { masterDownMs, skewMs } from '../../src/ha/vrrp/timers.js';
import { Sim } from './sim.js';

const v3 = (priority: number, extra: { preempt?: boolean; advertIntervalMs?: number } = {}) => ({
  version: 3 as const,
  priority,
  advertIntervalMs: extra.advertIntervalMs ?? 1000,
  preempt: extra.preempt ?? true,
  preemptDelayMs: 0,
});
const v2 = (priority: number) => ({ ...v3(priority), version: 2 as const });

for (const [label, cfg] of [
  ['v3', v3],
  ['v2', v2],
] as const) {
  describe(`VRRP scenarios (${label})`, () => {
    it('two routers started together elect the higher priority', () => {
      const sim = new Sim();
      sim.add('a', '10.0.0.1', cfg(150));
      sim.add('b', '10.0.0.2', cfg(100));
      sim.event('a', { type: 'startup' });
      sim.event('b', { type: 'startup' });
      sim.runUntil(20_000);
      assert.deepEqual(sim.masters(), ['a']);
      assert.equal(sim.becameAt('a', 'master'), masterDownMs(cfg(150).version, 150, 1000));
      assert.equal(sim.becameAt('b', 'master'), null);
    });

    it('a higher priority joining later preempts the running master', () => {
      const sim = new Sim();
      sim.add('a', '10.0.0.1', cfg(150));
      sim.add('b', '10.0.0.2', cfg(100));
      sim.event('b', { type: 'startup' });
      sim.runUntil(10_000);
      assert.deepEqual(sim.masters(), ['b']);
      sim.event('a', { type: 'startup' });
      sim.runUntil(30_000);
      assert.deepEqual(sim.masters(), ['a']);
      const takeover = sim.becameAt('a', 'master', 10_000)!;
      // a discards b's lower adverts and takes over when its own Master_Down_Timer runs out.
      assert.equal(takeover, 10_000 + masterDownMs(cfg(150).version, 150, 1000));
      const stepDown = sim.log.find(
        (r) => r.node === 'b' && r.action.type === 'transition' && r.action.from === 'master',
      );
      assert.ok(stepDown && stepDown.t > takeover && stepDown.t - takeover < 1);
    });

    it('nopreempt: a higher priority joining later leaves the master alone', () => {
      const sim = new Sim();
      sim.add('a', '10.0.0.1', { ...cfg(150), preempt: false });
      sim.add('b', '10.0.0.2', cfg(100));
      sim.event('b', { type: 'startup' });
      sim.runUntil(10_000);
      sim.event('a', { type: 'startup' });
      sim.runUntil(40_000);
      assert.deepEqual(sim.masters(), ['b']);
    });

    it('a crashed master is replaced within 3 x interval + Skew_Time of its last advert', () => {
      const sim = new Sim();
      sim.add('a', '10.0.0.1', cfg(150));
      sim.add('b', '10.0.0.2', cfg(100));
      sim.event('a', { type: 'startup' });
      sim.event('b', { type: 'startup' });
      sim.runUntil(10_500);
      const lastAdvert = Math.max(
        ...sim.log.filter((r) => r.node === 'a' && r.action.type === 'send').map((r) => r.t),
      );
      sim.node('a').alive = false;
      sim.runUntil(30_000);
      const takeover = sim.becameAt('b', 'master')!;
      assert.equal(takeover, lastAdvert + sim.latencyMs + masterDownMs(cfg(100).version, 100, 1000));
      assert.deepEqual(sim.masters(), ['b']);
    });

    it('a graceful stop hands over in Skew_Time, under one advert interval', () => {
      const sim = new Sim();
      sim.add('a', '10.0.0.1', cfg(150));
      sim.add('b', '10.0.0.2', cfg(100));
      sim.event('a', { type: 'startup' });
      sim.event('b', { type: 'startup' });
      sim.runUntil(10_500);
      sim.event('a', { type: 'shutdown' });
      const stoppedAt = sim.now;
      sim.runUntil(20_000);
      const takeover = sim.becameAt('b', 'master')! - stoppedAt;
      assert.equal(takeover, sim.latencyMs + skewMs(cfg(100).version, 100, 1000));
      assert.ok(takeover < 1000);
    });

    it('after a resignation the highest backup answers first', () => {
      const sim = new Sim();
      sim.add('a', '10.0.0.1', cfg(200));
      sim.add('b', '10.0.0.2', cfg(100));
      sim.add('c', '10.0.0.3', cfg(150));
      for (const n of ['a', 'b', 'c']) sim.event(n, { type: 'startup' });
      sim.runUntil(10_000);
      assert.deepEqual(sim.masters(), ['a']);
      sim.event('a', { type: 'shutdown' });
      sim.runUntil(20_000);
      assert.deepEqual(sim.masters(), ['c']);
      assert.equal(sim.becameAt('b', 'master'), null);
    });

    it('split brain: both become master while cut, one remains when the link returns', () => {
      const sim = new Sim();
      sim.add('a', '10.0.0.1', cfg(150));
      sim.add('b', '10.0.0.2', cfg(100));
      sim.event('a', { type: 'startup' });
      sim.event('b', { type: 'startup' });
      sim.runUntil(10_000);
      sim.node('b').linked = false;
      sim.runUntil(20_000);
      assert.deepEqual(sim.masters().sort(), ['a', 'b']);
      sim.node('b').linked = true;
      const restored = sim.now;
      sim.runUntil(restored + 1001);
      assert.deepEqual(sim.masters(), ['a']);
      const conflicts = sim.log.filter((r) => r.t >= restored && r.action.type === 'conflict');
      assert.ok(
        conflicts.some(
          (r) => r.node === 'b' && r.action.type === 'conflict' && r.action.outcome === 'stepped-down',
        ),
      );
    });

    it('equal priorities started together: the larger address wins (RFC 5798 §6.4.3)', () => {
      const sim = new Sim();
      sim.add('low', '10.0.0.1', cfg(100));
      sim.add('high', '10.0.0.2', cfg(100));
      sim.event('low', { type: 'startup' });
      sim.event('high', { type: 'startup' });
      sim.runUntil(20_000);
      assert.deepEqual(sim.masters(), ['high']);
      // Both timed out at the same instant, so both were master for one link latency.
      assert.equal(sim.becameAt('low', 'master'), sim.becameAt('high', 'master'));
    });
  });
}

describe('VRRPv3 sub-second timing', () => {
  it('a 100 ms interval fails over in 3 x 100 ms + Skew_Time', () => {
    const sim = new Sim(0.0625);
    sim.add('a', '10.0.0.1', v3(150, { advertIntervalMs: 100 }));
    sim.add('b', '10.0.0.2', v3(100, { advertIntervalMs: 100 }));
    sim.event('a', { type: 'startup' });
    sim.event('b', { type: 'startup' });
    sim.runUntil(2000);
    const lastAdvert = Math.max(
      ...sim.log.filter((r) => r.node === 'a' && r.action.type === 'send').map((r) => r.t),
    );
    sim.node('a').alive = false;
    sim.runUntil(5000);
    assert.equal(sim.becameAt('b', 'master')! - lastAdvert, 0.0625 + 300 + (156 * 100) / 256);
  });

  it('a backup learns a slower master interval and waits accordingly', () => {
    const sim = new Sim();
    sim.add('a', '10.0.0.1', v3(150, { advertIntervalMs: 2000 }));
    sim.add('b', '10.0.0.2', v3(100, { advertIntervalMs: 500 }));
    sim.event('a', { type: 'startup' });
    sim.runUntil(5000);
    sim.event('b', { type: 'startup' });
    sim.runUntil(30_000);
    // With its own 500 ms it would have taken over after 1.8 s; having learned 2 s it never does.
    assert.deepEqual(sim.masters(), ['a']);
    assert.equal(sim.node('b').m.snapshot().masterAdverIntervalMs, 2000);
  });
});
