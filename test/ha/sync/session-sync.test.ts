/**
 * Session sync between engines over an in-memory network (FakeSyncNet) and a virtual clock: the master's
 * changes reach the backup, the refresh keeps idle copies alive, a (re)starting director gets a snapshot
 * (also over a lossy network, and from a backup when it is the only one with state, preferring the
 * master's when both answer), and the receive path refuses what it must: bad tags, replays, old epochs,
 * unknown peers, malformed datagrams.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEndpoint } from '../../../src/engine/addr.js';
import type { Balancer } from '../../../src/engine/balancer.js';
import { CF } from '../../../src/engine/conntable/layout.js';
import { Dir, TcpFlag } from '../../../src/engine/conntable/tcp-states.js';
import { Forwarding } from '../../../src/engine/forwarding.js';
import { FakeSyncNet } from '../../../src/ha/sync/fake.js';
import { SessionSync } from '../../../src/ha/sync/session-sync.js';
import { balancerStore } from '../../../src/ha/sync/store.js';
import type { SyncOptions } from '../../../src/ha/sync/types.js';
import { HDR } from '../../../src/ha/sync/wire.js';
import { addService, flow, makeBalancer } from '../../engine/helpers.js';

const KEY = 'a-sync-key-of-enough-length';
const ADDR = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const PORT = 8848;

interface Director {
  bal: Balancer;
  sync: SessionSync;
  svc: number;
}

function director(
  net: FakeSyncNet,
  me: number,
  peers: number[],
  o: Partial<SyncOptions> & { epoch?: number } = {},
): Director {
  const bal = makeBalancer({ conntable: { capacity: 4096 } });
  const svc = addService(bal, {
    forwarding: Forwarding.DR,
    dests: [{ addr: '192.168.1.1' }, { addr: '192.168.1.2' }],
  });
  const opts: SyncOptions = {
    listen: parseEndpoint(`${ADDR[me]}:${PORT}`),
    peers: peers.map((p) => parseEndpoint(`${ADDR[p]}:${PORT}`)),
    key: KEY,
    refreshIntervalMs: 10_000,
    snapshotWaitMs: 5000,
    epoch: 1_000_000 + me,
    ...o,
  };
  const sync = new SessionSync(opts, balancerStore(bal, null), net.socket(ADDR[me]!, PORT));
  return { bal, sync, svc: svc.id };
}

/** Opens `n` established connections on `d`. */
function open(d: Director, n: number, now: number, base = 10_000): number[] {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = d.bal.schedule(d.svc, flow('203.0.113.1', base + i), now);
    d.bal.conns.tcpTransition(id, Dir.INPUT, TcpFlag.SYN, now);
    d.bal.conns.tcpTransition(id, Dir.INPUT, TcpFlag.ACK, now);
    ids.push(id);
  }
  return ids;
}

/** Ticks every director at `now` and delivers until the network is quiet. */
function step(net: FakeSyncNet, ds: Director[], now: number): void {
  for (const d of ds) d.sync.tick(now);
  net.deliver(10);
  for (const d of ds) d.sync.tick(now);
  net.deliver(10);
}

const counter = (d: Director, name: string) => d.sync.status(0).counters[name]!;

test('the master sends new and changed sessions; the backup installs them with the same real server', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1]);
  const b = director(net, 1, [0]);
  a.sync.setRole(true);
  const ids = open(a, 40, 0);
  step(net, [a, b], 0);
  assert.equal(b.bal.conns.count, 40);
  for (const [i, id] of ids.entries()) {
    const copy = b.bal.conns.lookupIn(flow('203.0.113.1', 10_000 + i), 0);
    assert.ok(copy > 0);
    assert.equal(b.bal.dests.addr[b.bal.conns.dest(copy) * 4], a.bal.dests.addr[a.bal.conns.dest(id) * 4]);
  }
  assert.ok(counter(a, 'datagrams_sent') >= 2, '40 IPv4 records need two datagrams');
  assert.equal(counter(b, 'records_installed'), 40);
  // A state change travels too; nothing else does (idle sessions wait for the refresh).
  a.bal.conns.tcpTransition(ids[0]!, Dir.INPUT, TcpFlag.FIN, 100);
  const before = counter(a, 'delta_records_sent');
  step(net, [a, b], 100);
  assert.equal(counter(a, 'delta_records_sent'), before + 1);
  assert.equal(b.bal.conns.state(b.bal.conns.lookupIn(flow('203.0.113.1', 10_000), 100)), 4 /* FIN_WAIT */);
  // The backup sends nothing of its own.
  assert.equal(counter(b, 'records_sent'), 0);
});

test('the refresh walk keeps a backup copy of an idle session alive past its first expiry', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1]);
  const b = director(net, 1, [0]);
  a.sync.setRole(true);
  const [id] = open(a, 1, 0);
  step(net, [a, b], 0);
  // Traffic keeps the master's session alive (900 s each time); the backup only learns through refreshes.
  for (let t = 0; t <= 3_000_000; t += 1000) {
    if (t % 60_000 === 0) a.bal.conns.touch(id!, t);
    a.bal.tick(t);
    b.bal.tick(t);
    step(net, [a, b], t);
  }
  assert.equal(b.bal.conns.lookupIn(flow('203.0.113.1', 10_000), 3_000_000) > 0, true);
  assert.ok(counter(a, 'refresh_records_sent') > 200, 'refreshed about every 10 s');
});

test('a starting director gets a snapshot, also when datagrams are lost', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1], { snapshotRate: 100_000 });
  a.sync.setRole(true);
  open(a, 500, 0);
  step(net, [a], 0); // nobody listens yet
  const b = director(net, 1, [0], { epoch: 2_000_000 });
  let dropped = 0;
  let seen = 0;
  net.filter = (d) => {
    // Lose every 7th snapshot datagram from a to b, three times.
    if (d.from.address === ADDR[0] && d.bytes[HDR.FLAGS]! & 0x01 && ++seen % 7 === 0 && dropped < 3) {
      dropped++;
      return false;
    }
    return true;
  };
  b.sync.requestSnapshot(0);
  assert.equal(b.sync.snapshotState, 'waiting');
  for (let t = 0; t < 5000 && b.sync.snapshotState === 'waiting'; t += 20) step(net, [a, b], t);
  assert.equal(b.sync.snapshotState, 'done');
  assert.ok(dropped > 0, 'the filter did drop snapshot datagrams');
  assert.equal(b.bal.conns.count, 500);
  assert.ok(counter(b, 'snapshot_requests_sent') >= 2, 'a short stream was asked for again');
});

test('every peer empty: the snapshot is done at once; no peer at all: it times out', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1]);
  const b = director(net, 1, [0]);
  a.sync.requestSnapshot(0);
  b.sync.requestSnapshot(0);
  step(net, [a, b], 0);
  assert.equal(a.sync.snapshotState, 'done');
  assert.equal(b.sync.snapshotState, 'done');
  const lone = director(new FakeSyncNet(), 2, [0]);
  lone.sync.requestSnapshot(0);
  for (let t = 0; t <= 6000; t += 500) lone.sync.tick(t);
  assert.equal(lone.sync.snapshotState, 'timed-out');
  assert.ok(counter(lone, 'snapshot_requests_sent') >= 5, 'it kept asking while it waited');
});

test('a backup that took over keeps its copies and serves them to the old master coming back', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1]);
  const b = director(net, 1, [0]);
  a.sync.setRole(true);
  open(a, 30, 0);
  step(net, [a, b], 0);
  // a dies; b becomes master and opens more; a restarts empty with a new epoch and asks.
  b.sync.setRole(true);
  open(b, 10, 10, 20_000);
  const a2 = director(net, 0, [1], { epoch: 3_000_000 });
  a2.sync.requestSnapshot(20);
  for (let t = 20; t < 2000 && a2.sync.snapshotState === 'waiting'; t += 20) step(net, [a2, b], t);
  assert.equal(a2.sync.snapshotState, 'done');
  assert.equal(a2.bal.conns.count, 40);
  assert.equal(counter(b, 'peer_restarts'), 1, 'the new epoch was noticed');
});

test('when master and backup both answer, the master stream wins', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1, 2]);
  const b = director(net, 1, [0, 2]);
  const c = director(net, 2, [0, 1]);
  a.sync.setRole(true);
  open(a, 5, 0);
  step(net, [a, b], 0);
  open(b, 3, 0, 30_000); // something only the backup has (a stale leftover, say)
  c.sync.requestSnapshot(0);
  for (let t = 0; t < 2000 && c.sync.snapshotState === 'waiting'; t += 20) step(net, [a, b, c], t);
  assert.equal(c.sync.snapshotState, 'done');
  assert.equal(c.sync.status(0).snapshot.from, `${ADDR[0]}:${PORT}`);
  assert.ok(c.bal.conns.count >= 5);
});

test('refused: wrong key, replays, an older epoch, unknown peers, malformed datagrams; nothing throws', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1]);
  const b = director(net, 1, [0]);
  const x = director(net, 0, [1], { key: 'another-key-of-enough-length' });
  a.sync.setRole(true);
  open(a, 3, 0);
  a.sync.tick(0);
  const good = net.sent.at(-1)!.bytes;
  net.deliver();
  assert.equal(b.bal.conns.count, 3);
  // Replay of the very datagram.
  net.inject(good, { address: ADDR[0]!, port: PORT }, { address: ADDR[1]!, port: PORT });
  net.deliver();
  assert.equal(counter(b, 'replayed'), 1);
  // Wrong key.
  x.sync.setRole(true);
  open(x, 2, 0, 40_000);
  x.sync.tick(0);
  net.deliver();
  assert.equal(counter(b, 'bad_auth'), 1);
  // A datagram from an epoch older than the one b knows (captured before a restart of the sender).
  const old = director(net, 0, [1], { epoch: 1 });
  old.sync.setRole(true);
  open(old, 1, 0, 50_000);
  old.sync.tick(0);
  net.deliver();
  assert.equal(counter(b, 'stale_epoch'), 1);
  // Unknown source, short and garbage datagrams, a flipped byte.
  net.inject(good, { address: '10.9.9.9', port: PORT }, { address: ADDR[1]!, port: PORT });
  net.inject(good.subarray(0, 20), { address: ADDR[0]!, port: PORT }, { address: ADDR[1]!, port: PORT });
  const flipped = Uint8Array.from(good);
  flipped[40]! ^= 1;
  net.inject(flipped, { address: ADDR[0]!, port: PORT }, { address: ADDR[1]!, port: PORT });
  net.deliver();
  assert.equal(counter(b, 'unknown_peer'), 1);
  assert.equal(counter(b, 'malformed'), 1);
  assert.equal(counter(b, 'bad_auth'), 2);
  assert.equal(b.bal.conns.count, 3, 'nothing refused was installed');
});

test('IPv6 sessions travel too (92-byte records)', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1]);
  const b = director(net, 1, [0]);
  for (const d of [a, b]) {
    addService(d.bal, {
      name: 'web6',
      vip: '2001:db8::100',
      forwarding: Forwarding.DR,
      dests: [{ addr: '2001:db8:1::1' }, { addr: '2001:db8:1::2' }],
    });
  }
  a.sync.setRole(true);
  const svc6 = a.bal.services.byName('web6')!.id;
  const ids = Array.from({ length: 20 }, (_, i) =>
    a.bal.schedule(svc6, flow('2001:db8:2::7', 20_000 + i, '2001:db8::100'), 0),
  );
  step(net, [a, b], 0);
  assert.equal(b.bal.conns.count, 20);
  assert.ok(counter(a, 'datagrams_sent') >= 2, '14 IPv6 records per datagram');
  for (const [i, id] of ids.entries()) {
    const copy = b.bal.conns.lookupIn(flow('2001:db8:2::7', 20_000 + i, '2001:db8::100'), 0);
    assert.ok(copy > 0);
    const rs = (x: Balancer, c: number) => [
      ...x.dests.addr.subarray(x.conns.dest(c) * 4, x.conns.dest(c) * 4 + 4),
    ];
    assert.deepEqual(rs(b.bal, copy), rs(a.bal, id));
  }
});

test('two masters (VRRP instances split over the directors): each sends its own sessions, never echoes copies', () => {
  const net = new FakeSyncNet();
  const a = director(net, 0, [1]);
  const b = director(net, 1, [0]);
  a.sync.setRole(true);
  b.sync.setRole(true);
  const mine = open(a, 3, 0, 10_000);
  const theirs = open(b, 2, 0, 20_000);
  step(net, [a, b], 0);
  assert.equal(a.bal.conns.count, 5, "a holds its 3 sessions and copies of b's 2");
  assert.equal(b.bal.conns.count, 5);
  // A long idle run of refresh walks: only own sessions are refreshed; a copy sent back would overwrite
  // the owner's live state with a stale one.
  const refreshedBefore = counter(a, 'refresh_records_sent');
  for (let t = 1000; t <= 30_000; t += 1000) step(net, [a, b], t);
  assert.ok(counter(a, 'refresh_records_sent') > refreshedBefore, 'a refreshes');
  for (const id of theirs) {
    assert.equal(b.bal.conns.flags(id) & CF.SYNCED, 0, "b's own sessions never come back to it as copies");
  }
  for (const id of mine) assert.equal(a.bal.conns.flags(id) & CF.SYNCED, 0);
  // b's session moves on; a's stale copy must not pull it back.
  b.bal.conns.tcpTransition(theirs[0]!, Dir.INPUT, TcpFlag.FIN, 31_000);
  for (let t = 31_000; t <= 60_000; t += 1000) step(net, [a, b], t);
  assert.equal(b.bal.conns.state(theirs[0]!), 4 /* FIN_WAIT */, "b's own state stands");
  // b goes away; a takes its traffic: the first packet makes the copy a's own, and a's sync sends it.
  const copy = a.bal.conns.lookupIn(flow('203.0.113.1', 20_001), 60_000);
  const sent = counter(a, 'delta_records_sent');
  a.bal.conns.tcpTransition(copy, Dir.INPUT, TcpFlag.ACK, 60_000);
  step(net, [a, b], 60_000);
  assert.equal(counter(a, 'delta_records_sent'), sent + 1, 'the adopted session is sent as a change');
});
