/**
 * Two tslvs daemons in two namespaces on one bridge, with real raw sockets, real `ip addr` and real
 * gratuitous ARP: election, a SIGKILLed master, restart with stale VIPs, graceful handover, split brain
 * on a cut link, and health tracking through the director. Root only; everything bounded and cleaned up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseIp } from '../../src/engine/addr.js';
import { buildAdvert, withIpv4Header } from '../../src/ha/vrrp/advert.js';
import { masterDownMs } from '../../src/ha/vrrp/timers.js';
import { sendRawIpv4 } from '../dataplane/packet/raw-ip.js';
import { rootSkipReason } from '../helpers/env.js';
import { nsToolPath } from '../helpers/ns-tool.js';
import { ADDR, createHaLab, type Daemon, type HaLab, isTransition, timeOf, tslvsConfig, VIP } from './lab.js';

const skip = rootSkipReason();
const ADVERT_MS = 250;
const cfg = (priority: number, extra: { extraInstance?: string; extraTop?: string } = {}) =>
  tslvsConfig({ priority, version: 3, advertInterval: `${ADVERT_MS}ms`, ...extra });
/** Master_Down_Interval of the priority-200 backup, plus room for process scheduling. */
const FAILOVER_BOUND_MS = masterDownMs(3, 200, ADVERT_MS) + 1000;

/** Polls a cheap read until it holds, for state that has no event (neighbour tables), bounded. */
async function eventually<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs}ms`);
    await sleep(50);
    v = await read();
  }
  return v;
}

const vipAdded = (l: string) => l.includes('"msg":"VRRP virtual addresses added"');

describe('tslvs VRRP failover between namespaces', { skip: skip ?? false, timeout: 120_000 }, () => {
  let h: HaLab;
  let a: Daemon;
  let b: Daemon;

  before(async () => {
    h = await createHaLab();
  });
  after(async () => {
    await h?.cleanup();
  });

  it('elects the higher priority, which holds and announces the VIP', async () => {
    a = h.startTslvs('a', cfg(250));
    b = h.startTslvs('b', cfg(200));
    // Started together, b may time out first (its Master_Down_Interval is only ~50 ms longer): then a
    // preempts it. Either way a ends up master and b backup.
    await a.log.wait((l) => isTransition(l, 'master'), 10_000);
    await a.log.wait(vipAdded, 5000);
    await b.log.wait((l) => isTransition(l, 'backup'), 5000);
    await eventually(
      () => h.addresses('b'),
      (x) => x.length === 0,
      3000,
      'b holds no VIP',
    );
    assert.deepEqual(await h.addresses('a'), [VIP]);
    assert.deepEqual(await h.addresses('b'), []);
    await h.lab.exec(h.ns.client, ['ping', '-c', '1', '-W', '2', VIP]);
    assert.equal(await h.clientNeighbour(), await h.mac('a'));
    const status = (await h.api('b', '/v1/ha')) as {
      instances: { state: string; master: { address: string } }[];
    };
    assert.equal(status.instances[0]!.state, 'backup');
    assert.equal(status.instances[0]!.master.address, ADDR.a);
  });

  it('adverts with a wrong TTL, destination or VRID are dropped and counted', async () => {
    const from = parseIp(ADDR.client);
    const to = parseIp(ADDR.b);
    const advert = (vrid: number, ttl: number) => {
      const spec = {
        version: 3 as const,
        vrid,
        advertIntervalMs: ADVERT_MS,
        addresses: [parseIp(VIP)],
        authPass: null,
      };
      const packet = Buffer.from(withIpv4Header(buildAdvert(spec, 254, from, to), from, to));
      packet[8] = ttl;
      return packet;
    };
    sendRawIpv4(h.ns.client, [advert(51, 64), advert(51, 255), advert(52, 255)]);
    const drops = await eventually(
      async () =>
        ((await h.api('b', '/v1/ha/VI_1')) as { counters: { drops: Record<string, number> } }).counters.drops,
      (d) => d.ttl === 1 && d['cast-mismatch'] === 1 && d['other-vrid'] === 1,
      3000,
      'drop counters of b',
    );
    assert.equal(drops.checksum, 0);
    const st = (await h.api('b', '/v1/ha/VI_1')) as { state: string; master: { address: string } };
    assert.equal(st.state, 'backup', 'none of them was taken for a higher master');
    assert.equal(st.master.address, ADDR.a);
  });

  it('a SIGKILLed master is replaced within 3 x interval + Skew_Time; GARP moves the client', async (t) => {
    const from = b.log.lines.length;
    const killedAt = Date.now();
    a.proc.child.kill('SIGKILL');
    const { line } = await b.log.wait(
      (l) => isTransition(l, 'master', 'master-down'),
      FAILOVER_BOUND_MS,
      from,
    );
    const failoverMs = timeOf(line) - killedAt;
    t.diagnostic(
      `failover after SIGKILL: ${failoverMs} ms (Master_Down_Interval ${masterDownMs(3, 200, ADVERT_MS)} ms)`,
    );
    await b.log.wait(vipAdded, 5000, from);
    assert.deepEqual(await h.addresses('b'), [VIP]);
    const macB = await h.mac('b');
    // The client never asked again: only b's gratuitous ARP can have moved its entry.
    await eventually(
      () => h.clientNeighbour(),
      (m) => m === macB,
      3000,
      'client neighbour for the VIP',
    );
    await a.proc.exited;
  });

  it('a restarted router clears its stale VIP, then preempts back', async () => {
    assert.deepEqual(await h.addresses('a'), [VIP], 'the killed daemon left its VIP behind');
    const fromB = b.log.lines.length;
    a = h.startTslvs('a', cfg(250));
    await a.log.wait((l) => isTransition(l, 'backup', 'startup'), 10_000);
    assert.deepEqual(await h.addresses('a'), [], 'cleared before the machine started');
    await a.log.wait((l) => isTransition(l, 'master', 'preempt'), 5000);
    await b.log.wait((l) => isTransition(l, 'backup', 'higher-priority'), 5000, fromB);
    await a.log.wait(vipAdded, 5000);
    await b.log.wait((l) => l.includes('"msg":"VRRP virtual addresses removed"'), 5000, fromB);
    assert.deepEqual(await h.addresses('a'), [VIP]);
    assert.deepEqual(await h.addresses('b'), []);
  });

  it('a graceful stop hands over with priority 0 in under one advert interval', async (t) => {
    const fromB = b.log.lines.length;
    await a.proc.stop(5000);
    const { line: resigned } = await a.log.wait((l) => isTransition(l, 'init', 'shutdown'), 1000);
    const { line: took } = await b.log.wait((l) => isTransition(l, 'master', 'master-resigned'), 3000, fromB);
    const handoverMs = timeOf(took) - timeOf(resigned);
    t.diagnostic(`handover after SIGTERM: ${handoverMs} ms (advert interval ${ADVERT_MS} ms)`);
    assert.ok(handoverMs < ADVERT_MS, `handover took ${handoverMs} ms`);
    await b.log.wait(vipAdded, 5000, fromB);
    assert.deepEqual(await h.addresses('a'), [], 'the stopped router released its VIP');
    assert.deepEqual(await h.addresses('b'), [VIP]);
  });

  it('split brain on a cut link: both master while cut, resolved by priority when restored', async () => {
    a = h.startTslvs('a', cfg(250));
    await a.log.wait((l) => isTransition(l, 'master', 'preempt'), 10_000);
    await a.log.wait(vipAdded, 5000);
    const fromA = a.log.lines.length;
    const fromB = b.log.lines.length;
    await h.cut('b');
    await b.log.wait((l) => isTransition(l, 'master', 'master-down'), FAILOVER_BOUND_MS, fromB);
    await b.log.wait(vipAdded, 5000, fromB);
    assert.deepEqual(await h.addresses('a'), [VIP]);
    assert.deepEqual(await h.addresses('b'), [VIP], 'two masters: both hold the VIP');
    await h.restore('b');
    await b.log.wait((l) => isTransition(l, 'backup', 'higher-priority'), 5000, fromB);
    await b.log.wait((l) => l.includes('stepping down'), 1000, fromB);
    assert.ok(!a.log.lines.slice(fromA).some((l) => isTransition(l, 'backup')), 'a never left MASTER');
    const st = (await h.api('b', '/v1/ha/VI_1')) as { state: string; counters: { masterConflicts: number } };
    assert.equal(st.state, 'backup');
    assert.ok(st.counters.masterConflicts >= 1);
    await eventually(
      () => h.addresses('b'),
      (x) => x.length === 0,
      3000,
      'b releases the VIP',
    );
    await a.proc.stop(5000);
    await b.proc.stop(5000);
  });

  it('a link that goes down puts the master in FAULT; it comes back as backup and preempts', async () => {
    a = h.startTslvs('a', cfg(250));
    b = h.startTslvs('b', cfg(200));
    await a.log.wait((l) => isTransition(l, 'master'), 10_000);
    await b.log.wait((l) => isTransition(l, 'backup'), 10_000);
    const fromA = a.log.lines.length;
    const fromB = b.log.lines.length;
    await h.lab.ip(h.ns.a, ['link', 'set', 'eth0', 'down']);
    await a.log.wait((l) => isTransition(l, 'fault', 'fault'), 3000, fromA);
    await b.log.wait((l) => isTransition(l, 'master'), FAILOVER_BOUND_MS, fromB);
    await h.lab.ip(h.ns.a, ['link', 'set', 'eth0', 'up']);
    await a.log.wait((l) => isTransition(l, 'backup', 'fault-cleared'), 3000, fromA);
    await a.log.wait((l) => isTransition(l, 'master', 'preempt'), 5000, fromA);
    await b.log.wait((l) => isTransition(l, 'backup', 'higher-priority'), 5000, fromB);
    await a.proc.stop(5000);
    await b.proc.stop(5000);
  });

  it('health tracking: a service with every real server down lowers the priority', async () => {
    // a tracks `web`, whose only real server is the client on 8080; nothing listens there yet.
    const web = [
      'services:',
      `  - { name: web, protocol: tcp, address: '${VIP}:8080', realServers: [{ address: '${ADDR.client}:8080' }],`,
      '      health: { kind: tcp, interval: 200ms, timeout: 150ms, rise: 1, fall: 1 } }',
    ].join('\n');
    const track = '      trackHealth: [{ service: web, weight: -100 }]';
    a = h.startTslvs('a', cfg(250, { extraInstance: track, extraTop: web }));
    b = h.startTslvs('b', cfg(200));
    await a.log.wait(
      (l) => l.includes('"msg":"VRRP priority changed by health tracking"') && l.includes('"priority":150'),
      10_000,
    );
    await b.log.wait((l) => isTransition(l, 'master'), 10_000);
    const fromA = a.log.lines.length;
    const rs = h.lab.spawn(h.ns.client, [process.execPath, nsToolPath, 'tcp-listen', ADDR.client, '8080']);
    await rs.waitForLine(/^ready$/, 5000);
    await a.log.wait(
      (l) => l.includes('"msg":"VRRP priority changed by health tracking"') && l.includes('"priority":250'),
      5000,
      fromA,
    );
    await a.log.wait((l) => isTransition(l, 'master', 'preempt'), 5000, fromA);
    const st = (await h.api('a', '/v1/ha')) as {
      instances: { effectivePriority: number; trackedDown: string[] }[];
    };
    assert.equal(st.instances[0]!.effectivePriority, 250);
    assert.deepEqual(st.instances[0]!.trackedDown, []);
    await a.proc.stop(5000);
    await b.proc.stop(5000);
    await rs.stop();
  });
});
