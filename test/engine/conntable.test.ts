import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../src/engine/addr.js';
import { BalancerStat } from '../../src/engine/balancer.js';
import { ManualClock } from '../../src/engine/clock.js';
import { ConnStat } from '../../src/engine/conntable/table.js';
import { Dir, TcpFlag } from '../../src/engine/conntable/tcp-states.js';
import { Forwarding } from '../../src/engine/forwarding.js';
import { addService, destAddrText, flow, makeBalancer } from './helpers.js';

const { SYN, ACK, FIN } = TcpFlag;

test('in-direction lookup finds the session by 5-tuple, and only it', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { dests: [{ addr: '192.168.1.1' }, { addr: '192.168.1.2' }] });
  const f = flow('203.0.113.5', 40000);
  const id = b.schedule(svc.id, f, clock.now());
  assert.equal(b.conns.lookupIn(f, clock.now()), id);
  assert.equal(b.conns.lookupIn(flow('203.0.113.5', 40001), clock.now()), 0, 'other port');
  assert.equal(b.conns.lookupIn(flow('203.0.113.6', 40000), clock.now()), 0, 'other client');
  assert.equal(
    b.conns.lookupIn(flow('203.0.113.5', 40000, '10.0.0.100', 80, 'udp'), clock.now()),
    0,
    'other proto',
  );
  assert.equal(b.conns.lookupIn(flow('203.0.113.5', 40000, '10.0.0.101'), clock.now()), 0, 'other vip');
});

test('out-direction lookup: NAT replies match RS -> client, FNAT replies RS -> local address', () => {
  const clock = new ManualClock();
  const b = makeBalancer({
    localAddresses: [parseIp('10.9.0.1'), parseIp('10.9.0.2')],
    localPortRange: [5000, 5009],
  });
  const nat = addService(b, {
    name: 'nat',
    forwarding: Forwarding.NAT,
    dests: [{ addr: '192.168.1.1', port: 8080 }],
  });
  const fnat = addService(b, {
    name: 'fnat',
    port: 443,
    forwarding: Forwarding.FNAT,
    dests: [{ addr: '192.168.2.1', port: 8443 }],
  });
  const dr = addService(b, {
    name: 'dr',
    port: 22,
    forwarding: Forwarding.DR,
    dests: [{ addr: '192.168.3.1', port: 22 }],
  });
  const now = clock.now();
  const n = b.schedule(nat.id, flow('203.0.113.5', 40000), now);
  const rs = parseIp('192.168.1.1').words;
  const client = parseIp('203.0.113.5').words;
  assert.equal(b.conns.lookupOut(6, 4, rs, 0, 8080, client, 0, 40000, now), n);
  assert.equal(b.conns.lookupOut(6, 4, rs, 0, 8081, client, 0, 40000, now), 0);
  assert.equal(b.conns.lookupOut(17, 4, rs, 0, 8080, client, 0, 40000, now), 0);

  const fa = b.schedule(fnat.id, flow('203.0.113.5', 40000, '10.0.0.100', 443), now);
  const fb = b.schedule(fnat.id, flow('203.0.113.9', 40000, '10.0.0.100', 443), now);
  const lipA = b.lips!.addresses[b.conns.lip(fa)]!;
  const lipB = b.lips!.addresses[b.conns.lip(fb)]!;
  assert.notDeepEqual(lipA.words, lipB.words, 'local addresses taken round robin');
  assert.equal(b.conns.lport(fa), 5000);
  const rs2 = parseIp('192.168.2.1').words;
  assert.equal(b.conns.lookupOut(6, 4, rs2, 0, 8443, lipA.words, 0, 5000, now), fa);
  assert.equal(
    b.conns.lookupOut(6, 4, rs2, 0, 8443, client, 0, 40000, now),
    0,
    'FNAT replies never go to the client',
  );

  const d = b.schedule(dr.id, flow('203.0.113.5', 40000, '10.0.0.100', 22), now);
  assert.ok(d > 0);
  assert.equal(
    b.conns.lookupOut(6, 4, parseIp('192.168.3.1').words, 0, 22, client, 0, 40000, now),
    0,
    'DR is not out-hashed',
  );
});

test('FNAT local ports: no collision per (LIP, RS), freed on expiry, exhaustion counted', () => {
  const clock = new ManualClock();
  const b = makeBalancer({ localAddresses: [parseIp('10.9.0.1')], localPortRange: [6000, 6003] });
  const svc = addService(b, { forwarding: Forwarding.FNAT, dests: [{ addr: '192.168.2.1', port: 80 }] });
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) ids.push(b.schedule(svc.id, flow('203.0.113.5', 40000 + i), clock.now()));
  assert.deepEqual(ids.map((id) => b.conns.lport(id)).sort(), [6000, 6001, 6002, 6003]);
  assert.equal(b.schedule(svc.id, flow('203.0.113.5', 41000), clock.now()), 0);
  assert.equal(b.lastFailure, BalancerStat.NO_LOCAL_PORT);
  assert.equal(b.stats[BalancerStat.NO_LOCAL_PORT], 1);
  // A second RS has its own port space on the same LIP.
  svc.addDest({ address: parseIp('192.168.2.2'), port: 80, weight: 1 });
  svc.unlink(svc.findDest(parseIp('192.168.2.1'), 80));
  const other = b.schedule(svc.id, flow('203.0.113.5', 42000), clock.now());
  assert.ok(other > 0);
  assert.equal(destAddrText(b, b.conns.dest(other)), '192.168.2.2');
  // Expiry frees the port.
  b.conns.tcpTransition(ids[1]!, Dir.INPUT, 0, clock.now()); // -> CLOSE, 10 s
  clock.advance(10_001);
  b.tick(clock.now());
  svc.link(svc.findDest(parseIp('192.168.2.1'), 80));
  svc.unlink(svc.findDest(parseIp('192.168.2.2'), 80));
  const again = b.schedule(svc.id, flow('203.0.113.5', 43000), clock.now());
  assert.equal(b.conns.lport(again), 6001);
});

test('expiry is exact for lookups and the wheel reclaims entries', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { forwarding: Forwarding.NAT, dests: [{ addr: '192.168.1.1' }] });
  const f = flow('203.0.113.5', 40000);
  const id = b.schedule(svc.id, f, clock.now());
  b.conns.tcpTransition(id, Dir.INPUT, SYN, clock.now()); // SYN_RECV 60 s
  clock.advance(59_999);
  assert.equal(b.conns.lookupIn(f, clock.now()), id);
  b.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now()); // ESTABLISHED 900 s from here
  clock.advance(899_999);
  b.tick(clock.now());
  assert.equal(b.conns.lookupIn(f, clock.now()), id, 'still there 1 ms before expiry');
  clock.advance(1);
  assert.equal(b.conns.lookupIn(f, clock.now()), 0, 'gone at expiry');
  assert.equal(b.conns.count, 0);
  assert.equal(b.dests.activeConns[svc.list[0]!], 0);

  const f2 = flow('203.0.113.6', 40000);
  const id2 = b.schedule(svc.id, f2, clock.now());
  b.conns.tcpTransition(id2, Dir.INPUT, SYN | ACK, clock.now());
  clock.advance(60_500);
  const examined = b.tick(clock.now());
  assert.ok(examined >= 1);
  assert.equal(b.conns.count, 0, 'reclaimed by the wheel without a lookup');
  assert.equal(b.conns.stats[ConnStat.EXPIRED], 2);
});

test('expiry cost is proportional to what is due, not to the table size', () => {
  const clock = new ManualClock();
  const b = makeBalancer({ conntable: { capacity: 20_000 } });
  const svc = addService(b, { forwarding: Forwarding.DR, dests: [{ addr: '192.168.1.1' }] });
  for (let i = 0; i < 10_000; i++) {
    const id = b.schedule(svc.id, flow(`198.51.${i >> 8}.${i & 255}`, 1000 + i), clock.now());
    b.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now());
  }
  clock.advance(5_000);
  b.tick(clock.now()); // lazily re-armed entries move to their real slots once
  for (let i = 0; i < 10; i++) {
    const id = b.schedule(svc.id, flow(`192.0.2.${i}`, 2000), clock.now());
    b.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now());
    b.conns.tcpTransition(id, Dir.INPUT, 0, clock.now()); // CLOSE, 10 s
  }
  clock.advance(11_000);
  const examined = b.tick(clock.now());
  assert.equal(b.conns.count, 10_000);
  assert.ok(examined <= 20, `examined ${examined} entries to expire 10`);
});

test('a state change to a shorter timeout takes effect at once', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { forwarding: Forwarding.DR, dests: [{ addr: '192.168.1.1' }] });
  const id = b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now());
  b.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now()); // 900 s
  b.conns.tcpTransition(id, Dir.INPUT, FIN, clock.now()); // FIN_WAIT 120 s
  b.conns.tcpTransition(id, Dir.INPUT, 0, clock.now()); // CLOSE 10 s
  clock.advance(10_200);
  b.tick(clock.now());
  assert.equal(b.conns.count, 0);
});

test('SYN flood at the entry limit: half-open entries are evicted, established ones never', () => {
  const clock = new ManualClock();
  const cap = 1000;
  const b = makeBalancer({ conntable: { capacity: cap } });
  const svc = addService(b, {
    forwarding: Forwarding.DR,
    dests: [{ addr: '192.168.1.1' }, { addr: '192.168.1.2' }],
  });
  const established: number[] = [];
  for (let i = 0; i < 600; i++) {
    const f = flow(`198.51.100.${i & 255}`, 10000 + i);
    const id = b.schedule(svc.id, f, clock.now());
    b.conns.tcpTransition(id, Dir.INPUT, SYN, clock.now());
    b.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now());
    established.push(id);
  }
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const f = flow(`203.0.${(i >> 8) & 255}.${i & 255}`, 20000 + (i % 30000));
    const id = b.schedule(svc.id, f, clock.now());
    if (id) {
      accepted++;
      b.conns.tcpTransition(id, Dir.INPUT, SYN, clock.now());
    }
  }
  assert.ok(b.conns.count <= cap, 'never above the limit');
  assert.ok(accepted > 400, 'new half-open connections replace older half-open ones');
  for (const [i, id] of established.entries()) {
    const f = flow(`198.51.100.${i & 255}`, 10000 + i);
    assert.equal(b.conns.lookupIn(f, clock.now()), id, `established #${i} survived`);
  }
  assert.ok(b.conns.stats[ConnStat.EVICTED_HALF_OPEN]! > 0);
  assert.ok(b.conns.inDefence, 'defence table active above 3/4 full');
  // Fill with established only: new connections are refused and counted, none evicted.
  const b2 = makeBalancer({ conntable: { capacity: 50 } });
  const svc2 = addService(b2, { forwarding: Forwarding.DR, dests: [{ addr: '192.168.1.1' }] });
  for (let i = 0; i < 50; i++) {
    const id = b2.schedule(svc2.id, flow('198.51.100.1', 1000 + i), clock.now());
    b2.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now());
  }
  assert.equal(b2.schedule(svc2.id, flow('198.51.100.2', 1), clock.now()), 0);
  assert.equal(b2.lastFailure, BalancerStat.TABLE_FULL);
  assert.equal(b2.conns.stats[ConnStat.DROPPED_FULL], 1);
  assert.equal(b2.conns.count, 50);
});

test('removing a dest keeps its sessions until they end, then frees it', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, {
    forwarding: Forwarding.DR,
    dests: [{ addr: '192.168.1.1' }, { addr: '192.168.1.2' }],
  });
  const f = flow('203.0.113.5', 40000);
  const id = b.schedule(svc.id, f, clock.now());
  const dest = b.conns.dest(id);
  b.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now());
  svc.removeDest(dest);
  assert.ok(b.dests.isAllocated(dest), 'still referenced by a session');
  assert.equal(b.conns.lookupIn(f, clock.now()), id, 'the established connection keeps its RS');
  b.conns.remove(id);
  assert.ok(!b.dests.isAllocated(dest), 'freed with its last session');
});
