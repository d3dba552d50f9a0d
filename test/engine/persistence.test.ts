import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../src/engine/addr.js';
import { BalancerStat } from '../../src/engine/balancer.js';
import { ManualClock } from '../../src/engine/clock.js';
import { Dir, TcpFlag } from '../../src/engine/conntable/tcp-states.js';
import { Forwarding } from '../../src/engine/forwarding.js';
import { addService, destAddrText, flow, makeBalancer } from './helpers.js';

const dests = [{ addr: '192.168.1.1' }, { addr: '192.168.1.2' }, { addr: '192.168.1.3' }];

test('persistence: clients within the netmask keep their RS until the template expires', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { scheduler: 'rr', dests, persistence: { timeoutMs: 300_000, prefixLen: 24 } });
  const first = b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now());
  const rs = b.conns.dest(first);
  // Same /24, other hosts and ports: the template holds them on the same RS although rr would rotate.
  for (let i = 0; i < 10; i++) {
    const id = b.schedule(svc.id, flow(`203.0.113.${10 + i}`, 50000 + i), clock.now());
    assert.equal(b.conns.dest(id), rs);
  }
  // Another /24 is scheduled anew by rr (next RS in list order).
  const other = b.schedule(svc.id, flow('203.0.114.5', 40000), clock.now());
  assert.notEqual(b.conns.dest(other), rs);
  assert.equal(b.dests.persistConns[rs], 1, 'one template per client net');
  assert.equal(b.dests.inactConns[rs], 11);
});

test('persistence: the template outlives its connections by its timeout, then the client is rescheduled', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { scheduler: 'rr', dests, persistence: { timeoutMs: 300_000, prefixLen: 32 } });
  const id = b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now());
  const rs = b.conns.dest(id);
  b.conns.tcpTransition(id, Dir.INPUT, TcpFlag.RST, clock.now()); // CLOSE, 10 s
  clock.advance(20_000);
  b.tick(clock.now());
  assert.equal(b.conns.count, 1, 'only the template is left');
  clock.advance(200_000);
  const again = b.schedule(svc.id, flow('203.0.113.5', 40001), clock.now());
  assert.equal(b.conns.dest(again), rs, 'within the persistence timeout');
  b.conns.remove(again);
  clock.advance(300_001);
  b.tick(clock.now());
  assert.equal(b.conns.count, 0, 'template expired');
  assert.equal(b.dests.persistConns[rs], 0);
});

test('persistence: a template still controlling connections at expiry gets 60 s more', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { dests, persistence: { timeoutMs: 10_000, prefixLen: 32 } });
  const id = b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now());
  b.conns.tcpTransition(id, Dir.INPUT, TcpFlag.ACK, clock.now()); // ESTABLISHED 900 s
  const t = b.conns.control(id);
  assert.ok(t > 0 && b.conns.isTemplate(t));
  clock.advance(10_500);
  b.tick(clock.now());
  assert.ok(b.conns.inUse(t), 'kept while it controls a connection');
  const left = b.conns.remainingMs(t, clock.now());
  assert.ok(left > 59_000 && left <= 60_000, `re-armed with 60 s (left ${left} ms)`);
  // The same client is still sent to the same RS through the busy template.
  const again = b.schedule(svc.id, flow('203.0.113.5', 40001), clock.now());
  assert.equal(b.conns.dest(again), b.conns.dest(id));
});

test('persistence: a template whose RS was deleted or failed is replaced; weight 0 alone keeps it', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { dests, persistence: { timeoutMs: 300_000, prefixLen: 32 } });
  const id = b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now());
  const rs = b.conns.dest(id);
  svc.editDest(rs, { address: b.dests.address(rs), port: 8080, weight: 0 });
  const q = b.schedule(svc.id, flow('203.0.113.5', 40001), clock.now());
  assert.equal(b.conns.dest(q), rs, 'quiesced RS keeps persistent clients (IPVS default)');
  b.expireQuiescentTemplate = true;
  const r = b.schedule(svc.id, flow('203.0.113.5', 40002), clock.now());
  assert.notEqual(b.conns.dest(r), rs, 'expire_quiescent_template');
  assert.equal(b.stats[BalancerStat.TEMPLATE_INVALID], 1);
  const rs2 = b.conns.dest(r);
  svc.unlink(rs2); // health check failed
  const s = b.schedule(svc.id, flow('203.0.113.5', 40003), clock.now());
  assert.notEqual(b.conns.dest(s), rs2);
  assert.equal(b.conns.lookupIn(flow('203.0.113.5', 40002), clock.now()), r, 'existing connection untouched');
});

test('weight 0 quiesces: no new connections, existing ones kept', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { scheduler: 'rr', dests });
  const f = flow('203.0.113.5', 40000);
  const id = b.schedule(svc.id, f, clock.now());
  const rs = b.conns.dest(id);
  svc.editDest(rs, { address: b.dests.address(rs), port: 8080, weight: 0 });
  for (let i = 0; i < 30; i++) {
    const n = b.schedule(svc.id, flow('198.51.100.1', 1000 + i), clock.now());
    assert.notEqual(b.conns.dest(n), rs);
  }
  assert.equal(b.conns.lookupIn(f, clock.now()), id);
});

test('upper threshold: an RS at its limit is skipped until below the lower threshold', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, {
    scheduler: 'rr',
    forwarding: Forwarding.DR,
    dests: [
      { addr: '192.168.1.1', upper: 2, lower: 1 },
      { addr: '192.168.1.2', upper: 0 },
    ],
  });
  const limited = svc.findDest(parseIp('192.168.1.1'), 8080);
  const ids: number[] = [];
  for (let i = 0; i < 8; i++) ids.push(b.schedule(svc.id, flow('198.51.100.1', 1000 + i), clock.now()));
  const onLimited = ids.filter((id) => b.conns.dest(id) === limited);
  assert.equal(onLimited.length, 2, 'at most u-threshold connections');
  assert.ok(b.dests.isOverloaded(limited));
  b.conns.remove(onLimited[0]!);
  assert.ok(b.dests.isOverloaded(limited), 'total 1 is not below lower threshold 1');
  b.conns.remove(onLimited[1]!);
  assert.ok(!b.dests.isOverloaded(limited), 'cleared below the lower threshold');
});

test('quorum down and scheduler failure fall back to the sorry server; none = counted failure', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { dests: [{ addr: '192.168.1.1' }] });
  svc.unlink(svc.list[0]!);
  assert.equal(b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now()), 0);
  assert.equal(b.lastFailure, BalancerStat.NO_DEST);
  b.setSorryServer(svc, { addr: parseIp('192.168.9.9'), port: 80 });
  const id = b.schedule(svc.id, flow('203.0.113.5', 40001), clock.now());
  assert.equal(destAddrText(b, b.conns.dest(id)), '192.168.9.9');
  svc.link(svc.findDest(parseIp('192.168.1.1'), 8080));
  svc.up = false;
  const id2 = b.schedule(svc.id, flow('203.0.113.5', 40002), clock.now());
  assert.equal(destAddrText(b, b.conns.dest(id2)), '192.168.9.9', 'below quorum: sorry server');
  svc.up = true;
  const id3 = b.schedule(svc.id, flow('203.0.113.5', 40003), clock.now());
  assert.equal(destAddrText(b, b.conns.dest(id3)), '192.168.1.1');
  assert.equal(b.stats[BalancerStat.SORRY], 2);
});

test('removing a service removes its sessions and templates', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  const svc = addService(b, { dests, persistence: { timeoutMs: 1000, prefixLen: 32 } });
  const other = addService(b, { name: 'other', port: 81, dests });
  b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now());
  const keep = b.schedule(other.id, flow('203.0.113.5', 40000, '10.0.0.100', 81), clock.now());
  b.removeService(svc);
  assert.equal(b.conns.count, 1);
  assert.ok(b.conns.inUse(keep));
  assert.equal(b.services.find(6, 4, parseIp('10.0.0.100').words, 0, 80), -1);
});
