/**
 * HaController and VrrpInstance against the in-memory LAN and a virtual clock: what the driver does
 * around the machine (VIPs, announcements, notify hooks, counters, drops, tracking, reload, stop).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type IpAddress, parseIp } from '../../src/engine/addr.js';
import type { CommandOptions, CommandResult } from '../../src/ha/command.js';
import { HaController, type HealthSource } from '../../src/ha/controller.js';
import type { Announcer } from '../../src/ha/garp.js';
import { RecordingLogger } from '../../src/ha/logger.js';
import { haMetrics } from '../../src/ha/metrics.js';
import type { VrrpInstanceSpec } from '../../src/ha/spec.js';
import type { StateChange } from '../../src/ha/status.js';
import { FakeLan } from '../../src/ha/transport/fake.js';
import { RecordingVips } from '../../src/ha/vip.js';
import { buildAdvert } from '../../src/ha/vrrp/advert.js';
import { masterDownMs, skewMs } from '../../src/ha/vrrp/timers.js';
import { FakeTimers } from '../../src/health/timers.js';

class CountingAnnouncer implements Announcer {
  sent = 0;
  errors = 0;
  lastError = null;
  rounds: string[][] = [];
  announce(addresses: readonly { addr: IpAddress }[]): number {
    this.rounds.push(addresses.map((a) => String(a.addr.words[0])));
    this.sent += addresses.length;
    return addresses.length;
  }
  close(): void {}
}

function spec(over: Partial<VrrpInstanceSpec> = {}): VrrpInstanceSpec {
  return {
    name: 'VI_1',
    interface: 'eth0',
    virtualRouterId: 51,
    priority: 100,
    advertIntervalMs: 1000,
    version: 3,
    preempt: true,
    preemptDelayMs: 0,
    unicastSource: null,
    unicastPeers: [],
    virtualAddresses: [{ addr: parseIp('10.9.0.100'), prefixLength: 24, interface: 'eth0' }],
    trackHealth: [],
    authPass: null,
    garp: { repeat: 2, delayMs: 5000, refreshMs: 0 },
    notify: { master: ['/hook', 'master'], backup: ['/hook', 'backup'], fault: null },
    ...over,
  };
}

interface Node {
  ha: HaController;
  vips: RecordingVips;
  announcer: CountingAnnouncer;
  hooks: string[][];
  log: RecordingLogger;
  addr: IpAddress;
}

async function node(
  lan: FakeLan,
  timers: FakeTimers,
  addr: string,
  over: Partial<VrrpInstanceSpec> = {},
  extra: { health?: HealthSource; transportFails?: number; linkUp?: () => boolean } = {},
): Promise<Node> {
  const vips = new RecordingVips();
  const announcer = new CountingAnnouncer();
  const hooks: string[][] = [];
  const log = new RecordingLogger();
  let failures = extra.transportFails ?? 0;
  const factory = lan.factory(parseIp(addr));
  const ha = await HaController.start({
    instances: [spec(over)],
    logger: log,
    vips,
    announcer,
    timers,
    wallClock: () => timers.now(),
    transport: (opts) => {
      if (failures-- > 0) throw new Error('eth0 has no IPv4 address');
      return factory(opts);
    },
    transportRetryMs: 1000,
    linkProbe: extra.linkUp ? () => extra.linkUp!() : null,
    health: extra.health ?? null,
    notify: {
      run: async (argv: readonly string[], _opts: CommandOptions): Promise<CommandResult> => {
        hooks.push([...argv]);
        return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, error: null };
      },
    },
  });
  return { ha, vips, announcer, hooks, log, addr: parseIp(addr) };
}

const state = (n: Node) => n.ha.status().instances[0]!.state;
const counters = (n: Node) => n.ha.status().instances[0]!.counters;

describe('HaController on a fake LAN', () => {
  it('elects by priority, the master owns and announces the VIPs, hooks run', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const a = await node(lan, timers, '10.9.0.1', { priority: 150 });
    const b = await node(lan, timers, '10.9.0.2', { priority: 100 });
    await timers.advance(masterDownMs(3, 150, 1000) + 1);
    assert.equal(state(a), 'master');
    assert.equal(state(b), 'backup');
    assert.deepEqual([...(a.vips.owned.get('VI_1') ?? [])], ['10.9.0.100']);
    assert.equal(b.vips.owned.get('VI_1')?.size ?? 0, 0);
    // Both cleared stale VIPs at start (keepalived does too), then only a added them.
    assert.deepEqual(
      a.vips.calls.map((c) => c.op),
      ['release', 'own'],
    );
    assert.equal(a.announcer.rounds.length, 2, 'garp repeat at once');
    await timers.advance(5000);
    assert.equal(a.announcer.rounds.length, 4, 'and repeat again after the delay');
    assert.deepEqual(a.hooks, [
      ['/hook', 'backup'],
      ['/hook', 'master'],
    ]);
    const st = b.ha.status().instances[0]!;
    assert.deepEqual(st.master, { address: '10.9.0.1', priority: 150 });
    assert.equal(st.lastTransition?.reason, 'startup');
    assert.ok(counters(b).advertsReceived >= 5);
    assert.equal(counters(a).advertsReceived, 0, 'a lower backup never advertises');
    await a.ha.stop();
    await b.ha.stop();
  });

  it('graceful stop: priority 0, VIPs released, backup master after Skew_Time', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const a = await node(lan, timers, '10.9.0.1', { priority: 150 });
    const b = await node(lan, timers, '10.9.0.2', { priority: 100 });
    await timers.advance(10_000);
    const changes: StateChange[] = [];
    b.ha.onStateChange((c) => changes.push(c));
    const stopAt = timers.now();
    const inst = a.ha.instance('VI_1')!;
    await a.ha.stop({ handover: true });
    assert.equal(inst.counters.priorityZeroSent, 1);
    assert.equal(inst.state, 'init');
    assert.equal(a.vips.owned.get('VI_1')?.size, 0);
    await timers.advance(skewMs(3, 100, 1000) + 1);
    assert.equal(state(b), 'master');
    assert.equal(changes.at(-1)?.reason, 'master-resigned');
    assert.ok(changes.at(-1)!.at - stopAt < 1000, 'handover in under one advert interval');
    assert.equal(counters(b).priorityZeroReceived, 1);
    await b.ha.stop();
  });

  it('stop without handover: no priority 0, the backup waits Master_Down_Interval', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const a = await node(lan, timers, '10.9.0.1', { priority: 150 });
    const b = await node(lan, timers, '10.9.0.2', { priority: 100 });
    await timers.advance(10_000);
    const inst = a.ha.instance('VI_1')!;
    await a.ha.stop({ handover: false });
    assert.equal(inst.counters.priorityZeroSent, 0);
    assert.equal(a.vips.owned.get('VI_1')?.size, 0, 'addresses released all the same');
    await timers.advance(2000);
    assert.equal(state(b), 'backup');
    await timers.advance(masterDownMs(3, 100, 1000));
    assert.equal(state(b), 'master');
    await b.ha.stop();
  });

  it('split brain on a cut link is detected, counted and resolved when it returns', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const a = await node(lan, timers, '10.9.0.1', { priority: 150 });
    const b = await node(lan, timers, '10.9.0.2', { priority: 100 });
    await timers.advance(10_000);
    lan.cut(b.addr);
    await timers.advance(10_000);
    assert.equal(state(a), 'master');
    assert.equal(state(b), 'master');
    assert.equal(b.vips.owned.get('VI_1')?.size, 1, 'both hold the VIP while cut');
    lan.restore(b.addr);
    await timers.advance(1100);
    assert.equal(state(a), 'master');
    assert.equal(state(b), 'backup');
    assert.equal(b.vips.owned.get('VI_1')?.size, 0);
    assert.equal(counters(b).masterConflicts, 1);
    assert.equal(b.ha.status().instances[0]!.lastTransition?.reason, 'higher-priority');
    assert.ok(b.log.lines.some((l) => /stepping down/.test(l.message)));
    await a.ha.stop();
    await b.ha.stop();
  });

  it('bad adverts are dropped and counted by reason', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const b = await node(lan, timers, '10.9.0.2', { priority: 100 });
    const peer = parseIp('10.9.0.1');
    const group = parseIp('224.0.0.18');
    const good = spec({ priority: 200 });
    const ok = buildAdvert({ ...good, vrid: 51, addresses: [parseIp('10.9.0.100')] }, 200, peer, group);
    lan.inject({ src: peer, dst: group, ttl: 64, message: ok });
    lan.inject({
      src: peer,
      dst: group,
      ttl: 255,
      message: buildAdvert({ ...good, vrid: 52, addresses: [] }, 200, peer, group),
    });
    lan.inject({ src: peer, dst: group, ttl: 255, message: ok.subarray(0, 5) });
    lan.inject({
      src: peer,
      dst: group,
      ttl: 255,
      message: buildAdvert({ ...good, vrid: 51, addresses: [] }, 200, peer, group),
    });
    await timers.advance(1);
    const c = counters(b);
    assert.equal(c.drops.ttl, 1);
    assert.equal(c.drops['other-vrid'], 1);
    assert.equal(c.drops.length, 1);
    assert.equal(c.advertsReceived, 1);
    assert.equal(c.addressListErrors, 1);
    assert.ok(b.log.lines.some((l) => l.message === 'VRRP advert dropped' && l.fields.reason === 'ttl'));
    await b.ha.stop();
  });

  it('a transport that cannot open keeps the instance in FAULT and is retried', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const a = await node(lan, timers, '10.9.0.1', {}, { transportFails: 2 });
    assert.equal(state(a), 'fault');
    assert.match(a.ha.status().instances[0]!.fault.transport ?? '', /no IPv4 address/);
    await timers.advance(2001);
    assert.equal(state(a), 'backup');
    assert.equal(a.ha.status().instances[0]!.fault.transport, null);
    assert.equal(a.log.lines.filter((l) => l.level === 'error').length, 1, 'the same error is logged once');
    await a.ha.stop();
  });

  it('health tracking: a down service lowers the priority so the peer preempts; weight 0 faults', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const down = new Set<string>();
    const listeners = new Set<() => void>();
    const health: HealthSource = {
      serviceUp: (s) => !down.has(s),
      onChange: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const changed = () => {
      for (const l of listeners) l();
    };
    const a = await node(
      lan,
      timers,
      '10.9.0.1',
      {
        priority: 150,
        trackHealth: [
          { service: 'web', weight: -60 },
          { service: 'db', weight: 0 },
        ],
      },
      { health },
    );
    const b = await node(lan, timers, '10.9.0.2', { priority: 100 });
    await timers.advance(10_000);
    assert.equal(state(a), 'master');
    down.add('web');
    changed();
    assert.equal(a.ha.status().instances[0]!.effectivePriority, 90);
    assert.deepEqual(a.ha.status().instances[0]!.trackedDown, ['web']);
    await timers.advance(masterDownMs(3, 100, 1000) + 1000);
    assert.equal(state(b), 'master', 'b preempts the lowered master');
    assert.equal(state(a), 'backup');
    down.delete('web');
    changed();
    await timers.advance(masterDownMs(3, 150, 1000) + 1000);
    assert.equal(state(a), 'master', 'a preempts back once healthy');
    down.add('db');
    changed();
    assert.equal(state(a), 'fault');
    assert.equal(counters(a).priorityZeroSent, 1, 'a master going to FAULT resigns');
    await timers.advance(skewMs(3, 100, 1000) + 1);
    assert.equal(state(b), 'master');
    down.delete('db');
    changed();
    assert.equal(state(a), 'backup');
    await a.ha.stop();
    await b.ha.stop();
  });

  it('the link of the interface: FAULT while down (a master resigns), BACKUP when it returns', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    let up = true;
    const a = await node(lan, timers, '10.9.0.1', { priority: 150 }, { linkUp: () => up });
    const b = await node(lan, timers, '10.9.0.2', { priority: 100 });
    await timers.advance(10_000);
    assert.equal(state(a), 'master');
    up = false;
    await timers.advance(1000);
    assert.equal(state(a), 'fault');
    assert.equal(a.ha.status().instances[0]!.fault.linkDown, true);
    assert.equal(a.vips.owned.get('VI_1')?.size, 0);
    await timers.advance(skewMs(3, 100, 1000) + 1);
    assert.equal(state(b), 'master', 'the resignation reached b before the link went');
    up = true;
    await timers.advance(1000);
    assert.equal(state(a), 'backup');
    await timers.advance(masterDownMs(3, 150, 1000) + 1000);
    assert.equal(state(a), 'master');
    await a.ha.stop();
    await b.ha.stop();
  });

  it('apply(): unchanged instances untouched, behaviour changes in place, identity changes restart', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const a = await node(lan, timers, '10.9.0.1', { priority: 150 });
    const b = await node(lan, timers, '10.9.0.2', { priority: 100 });
    await timers.advance(10_000);
    const first = a.ha.instance('VI_1')!;
    const same = await a.ha.apply([spec({ priority: 150 })]);
    assert.deepEqual(same, { added: [], removed: [], restarted: [], updated: [] });
    assert.equal(a.ha.instance('VI_1'), first);
    // A lower priority is taken in place: still the same master, now advertising 90, so b preempts it.
    const lowered = await a.ha.apply([
      spec({ priority: 90, notify: { master: ['/other'], backup: null, fault: null } }),
    ]);
    assert.deepEqual(lowered, { added: [], removed: [], restarted: [], updated: ['VI_1'] });
    assert.equal(a.ha.instance('VI_1'), first);
    assert.equal(state(a), 'master');
    assert.equal(first.counters.priorityZeroSent, 0, 'no handover for a behaviour change');
    await timers.advance(masterDownMs(3, 100, 1000) + 1000);
    assert.equal(state(b), 'master');
    assert.equal(state(a), 'backup');
    const moved = await a.ha.apply([
      spec({
        priority: 90,
        virtualAddresses: [{ addr: parseIp('10.9.0.101'), prefixLength: 24, interface: 'eth0' }],
      }),
      spec({ name: 'VI_2', virtualRouterId: 52 }),
    ]);
    assert.deepEqual(moved, { added: ['VI_2'], removed: [], restarted: ['VI_1'], updated: [] });
    assert.notEqual(a.ha.instance('VI_1'), first);
    const removed = await a.ha.apply([
      spec({
        priority: 90,
        virtualAddresses: [{ addr: parseIp('10.9.0.101'), prefixLength: 24, interface: 'eth0' }],
      }),
    ]);
    assert.deepEqual(removed, { added: [], removed: ['VI_2'], restarted: [], updated: [] });
    assert.equal(a.ha.status().instances.length, 1);
    await a.ha.stop();
    await b.ha.stop();
  });

  it('haMetrics exports the state set, priorities and counters per instance', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const a = await node(lan, timers, '10.9.0.1', { priority: 150 });
    await timers.advance(10_000);
    const families = haMetrics(a.ha);
    const fam = (name: string) => families.find((f) => f.name === name)!;
    const stateSamples = fam('tslvs_vrrp_state').samples;
    assert.deepEqual(
      stateSamples.filter((s) => s.value === 1).map((s) => s.labels.state),
      ['master'],
    );
    assert.equal(stateSamples.length, 4);
    assert.equal(fam('tslvs_vrrp_priority').samples[0]!.value, 150);
    assert.equal(fam('tslvs_vrrp_became_master_total').samples[0]!.value, 1);
    assert.equal(fam('tslvs_vrrp_became_master_total').type, 'counter');
    assert.ok(fam('tslvs_vrrp_adverts_sent_total').samples[0]!.value >= 6);
    assert.ok(fam('tslvs_vrrp_drops_total').samples.some((s) => s.labels.reason === 'checksum'));
    assert.deepEqual(fam('tslvs_vrrp_state').samples[0]!.labels, {
      instance: 'VI_1',
      vrid: '51',
      interface: 'eth0',
      state: 'init',
    });
    assert.deepEqual(
      haMetrics(null).flatMap((f) => f.samples),
      [],
    );
    await a.ha.stop();
  });

  it('VIP changes are serialized: a quick flap ends with the addresses owned', async () => {
    const lan = new FakeLan();
    const timers = new FakeTimers(0);
    const a = await node(lan, timers, '10.9.0.1', { priority: 100 });
    await timers.advance(10_000);
    assert.equal(state(a), 'master');
    const peer = parseIp('10.9.0.1');
    // A higher advert (step down) and then silence: back to master after Master_Down_Interval.
    const higher = buildAdvert(
      { version: 3, vrid: 51, advertIntervalMs: 1000, addresses: [parseIp('10.9.0.100')], authPass: null },
      200,
      parseIp('10.9.0.7'),
      parseIp('224.0.0.18'),
    );
    lan.inject({ src: parseIp('10.9.0.7'), dst: parseIp('224.0.0.18'), ttl: 255, message: higher });
    await timers.advance(1);
    assert.equal(state(a), 'backup');
    await timers.advance(masterDownMs(3, 100, 1000));
    assert.equal(state(a), 'master');
    assert.deepEqual(
      a.vips.calls.map((c) => c.op),
      ['release', 'own', 'release', 'own'],
    );
    assert.equal(a.vips.owned.get('VI_1')?.size, 1);
    void peer;
    await a.ha.stop();
  });
});
