/**
 * The engine side of session sync: the journal of changed entries, reading an entry into a record and
 * installing it in another Balancer (matched by addresses, not ids), updates, persistence, Full-NAT local
 * ports, and refusals. Two balancers stand for two directors running the same configuration.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../../src/engine/addr.js';
import type { Balancer } from '../../../src/engine/balancer.js';
import { SyncJournal, stopJournal, takeChanged } from '../../../src/engine/conntable/journal.js';
import { CF } from '../../../src/engine/conntable/layout.js';
import {
  InstallFail,
  newSyncedSession,
  readSynced,
  type SyncedSession,
} from '../../../src/engine/conntable/sync.js';
import { Dir, TcpFlag, TcpState } from '../../../src/engine/conntable/tcp-states.js';
import { Forwarding, type ForwardingMethod } from '../../../src/engine/forwarding.js';
import { addService, flow, makeBalancer, seededRandom } from '../../engine/helpers.js';

const RS = ['192.168.1.1', '192.168.1.2', '192.168.1.3'];
const GRACE = 30_000;

/** The same service on two directors; the second adds its real servers in another order (other ids). */
function pair(
  o: { forwarding?: ForwardingMethod; persistence?: { timeoutMs: number; prefixLen: number } } = {},
) {
  const lip = { localAddresses: [parseIp('10.10.1.100')], localPortRange: [2000, 2010] as [number, number] };
  const fnat = o.forwarding === Forwarding.FNAT;
  const a = makeBalancer(fnat ? lip : {});
  const b = makeBalancer({ ...(fnat ? lip : {}), random: seededRandom(7) });
  const spec = { forwarding: o.forwarding ?? Forwarding.DR, persistence: o.persistence ?? null };
  const sa = addService(a, { ...spec, dests: RS.map((addr) => ({ addr })) });
  const sb = addService(b, { ...spec, dests: [...RS].reverse().map((addr) => ({ addr })) });
  return { a, b, sa, sb };
}

function destAddr(bal: Balancer, id: number): number {
  return bal.dests.addr[bal.conns.dest(id) * 4]!;
}

function copy(from: Balancer, id: number, to: Balancer, now: number, rec = newSyncedSession()): number {
  assert.ok(readSynced(from.conns, id, now, rec), 'readable');
  return to.installSynced(rec, now, GRACE);
}

test('journal: a new entry is queued once however often it changes; freed entries are skipped', () => {
  const { a, sa } = pair();
  a.conns.journal = new SyncJournal(16);
  const j = a.conns.journal;
  a.schedule(sa.id, flow('203.0.113.1', 1000), 0);
  assert.equal(j.length, 0, 'inactive: nothing queued');
  j.active = true;
  const id = a.schedule(sa.id, flow('203.0.113.1', 1001), 0);
  a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.SYN, 0);
  a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.ACK, 0);
  assert.equal(j.length, 1);
  assert.ok(a.conns.flags(id) & CF.SYNC_PENDING);
  assert.equal(takeChanged(a.conns), id);
  assert.equal(takeChanged(a.conns), 0);
  assert.equal(a.conns.flags(id) & CF.SYNC_PENDING, 0);
  // A packet that changes nothing queues nothing; a state change queues again.
  a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.ACK, 10);
  assert.equal(j.length, 0);
  a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.FIN, 20);
  assert.equal(takeChanged(a.conns), id);
  const gone = a.schedule(sa.id, flow('203.0.113.1', 1002), 0);
  a.conns.remove(gone);
  assert.equal(takeChanged(a.conns), 0, 'a freed entry is not handed out');
});

test('journal: a full ring counts overflows and leaves entries unmarked for the refresh walk', () => {
  const { a, sa } = pair();
  a.conns.journal = new SyncJournal(16);
  a.conns.journal.active = true;
  const ids = Array.from({ length: 20 }, (_, i) => a.schedule(sa.id, flow('203.0.113.2', 2000 + i), 0));
  assert.equal(a.conns.journal.length, 16);
  assert.equal(a.conns.journal.overflows, 4);
  assert.equal(a.conns.flags(ids[19]!) & CF.SYNC_PENDING, 0);
  stopJournal(a.conns);
  assert.equal(a.conns.journal.length, 0);
  assert.ok(
    ids.every((id) => (a.conns.flags(id) & CF.SYNC_PENDING) === 0),
    'stopping clears every mark',
  );
});

test('install: same real server by address, state, counters, SYNCED, expiry = remaining + grace', () => {
  const { a, b } = pair();
  const svcA = a.services.byName('web')!;
  const ids = [1, 2, 3].map((i) => a.schedule(svcA.id, flow('203.0.113.3', 3000 + i), 0));
  for (const id of ids) {
    a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.SYN, 0);
    a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.ACK, 0);
  }
  const now = 100_000;
  const idsDiffer: boolean[] = [];
  for (const id of ids) {
    const got = copy(a, id, b, now);
    assert.ok(got > 0, `installed (${got})`);
    assert.equal(destAddr(b, got), destAddr(a, id), 'same real server');
    idsDiffer.push(b.conns.dest(got) !== a.conns.dest(id));
    assert.equal(b.conns.state(got), TcpState.ESTABLISHED);
    assert.ok(b.conns.flags(got) & CF.SYNCED);
    assert.equal(b.conns.remainingMs(got, now), a.conns.remainingMs(id, now) + GRACE);
    const d = b.conns.dest(got);
    assert.equal(b.dests.activeConns[d], 1);
    assert.equal(b.dests.inactConns[d], 0);
  }
  assert.ok(idsDiffer.includes(true), 'matched by address although the ids differ');
  assert.equal(b.conns.count, 3);
  assert.ok(b.conns.lookupIn(flow('203.0.113.3', 3001), now) > 0, 'found by its client tuple');
  const svcB = b.services.byName('web')!.id;
  assert.equal(b.services.stats.snapshot(svcB).conns, 0, 'a copy is not a scheduled connection');
});

test('install: a record for an existing session updates it (state, counters) instead of adding one', () => {
  const { a, b, sa } = pair();
  const id = a.schedule(sa.id, flow('203.0.113.4', 4000), 0);
  a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.SYN, 0);
  a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.ACK, 0);
  const first = copy(a, id, b, 1000);
  a.conns.tcpTransition(id, Dir.INPUT, TcpFlag.FIN, 2000);
  const second = copy(a, id, b, 2000);
  assert.equal(second, first);
  assert.equal(b.conns.count, 1);
  assert.equal(b.conns.state(first), TcpState.FIN_WAIT);
  const d = b.conns.dest(first);
  assert.deepEqual([b.dests.activeConns[d], b.dests.inactConns[d]], [0, 1]);
});

test('install: a session re-bound on the sender (connection reuse) is re-bound here', () => {
  const { a, b, sa } = pair();
  const id = a.schedule(sa.id, flow('203.0.113.5', 5000), 0);
  const rec = newSyncedSession();
  readSynced(a.conns, id, 0, rec);
  const first = b.installSynced(rec, 0, GRACE);
  const other = RS.find((r) => parseIp(r).words[0] !== rec.daddr[0])!;
  rec.daddr[0] = parseIp(other).words[0]!;
  const second = b.installSynced(rec, 0, GRACE);
  assert.ok(second > 0);
  assert.equal(b.conns.count, 1);
  assert.equal(b.dests.addr[b.conns.dest(second) * 4], parseIp(other).words[0]);
  assert.ok(first > 0);
});

test('install: unknown service, unknown real server, nonsense fields are refused with their reason', () => {
  const { a, b, sa } = pair();
  const id = a.schedule(sa.id, flow('203.0.113.6', 6000), 0);
  const rec = newSyncedSession();
  const fresh = () => {
    readSynced(a.conns, id, 0, rec);
    return rec;
  };
  fresh().vport = 81;
  assert.equal(b.installSynced(rec, 0, GRACE), -InstallFail.UNKNOWN_SERVICE);
  fresh().daddr[0] = parseIp('192.168.9.9').words[0]!;
  assert.equal(b.installSynced(rec, 0, GRACE), -InstallFail.UNKNOWN_DEST);
  const bad: Array<(r: SyncedSession) => void> = [
    (r) => {
      r.state = 99;
    },
    (r) => {
      r.proto = 1;
    },
    (r) => {
      r.fwd = 9;
    },
    (r) => {
      r.flags = 0x8000;
    },
    (r) => {
      r.timeoutMs = -1;
    },
    (r) => {
      r.timeoutMs = Number.NaN;
    },
  ];
  for (const spoil of bad) {
    spoil(fresh());
    assert.equal(b.installSynced(rec, 0, GRACE), -InstallFail.INVALID);
  }
  assert.equal(b.conns.count, 0);
});

test('install: persistence templates come across and connections attach to them', () => {
  const persistence = { timeoutMs: 300_000, prefixLen: 24 };
  const { a, b, sa, sb } = pair({ persistence });
  const id = a.schedule(sa.id, flow('203.0.113.7', 7000), 0);
  const tpl = a.conns.control(id);
  assert.ok(tpl > 0);
  const t2 = copy(a, tpl, b, 0);
  const c2 = copy(a, id, b, 0);
  assert.ok(b.conns.isTemplate(t2));
  assert.equal(b.conns.control(c2), t2, 'attached to the copied template');
  assert.equal(b.conns.control(t2), 1);
  assert.equal(
    b.conns.remainingMs(t2, 0),
    persistence.timeoutMs + GRACE,
    'the template keeps its synced expiry',
  );
  // A new client of the same /24 scheduled on b goes where the template says, as it would on a.
  const n = b.schedule(sb.id, flow('203.0.113.99', 7001), 10);
  assert.equal(destAddr(b, n), destAddr(a, id));
});

test('install: Full-NAT keeps the local address and port, and the new master never hands that port out', () => {
  const { a, b, sa, sb } = pair({ forwarding: Forwarding.FNAT });
  const id = a.schedule(sa.id, flow('203.0.113.8', 8000), 0);
  a.conns.setSeqDelta(id, 28);
  const rec = newSyncedSession();
  readSynced(a.conns, id, 0, rec);
  rec.isn = 123456;
  const got = b.installSynced(rec, 0, GRACE);
  assert.ok(got > 0);
  assert.equal(b.conns.lport(got), a.conns.lport(id));
  assert.equal(b.conns.seqDelta(got), 28);
  assert.equal(b.lips!.addr[b.conns.lip(got) * 4], parseIp('10.10.1.100').words[0]);
  // b now schedules every client it can towards every real server: the synced port towards that RS stays
  // taken (the port range holds 11 ports, so each RS runs out).
  const taken = `${destAddr(b, got)}:${b.conns.lport(got)}`;
  let made = 0;
  for (let i = 0; i < 60; i++) {
    const n = b.schedule(sb.id, flow('198.51.100.1', 9000 + i), 0);
    if (n === 0) continue;
    made++;
    assert.notEqual(`${destAddr(b, n)}:${b.conns.lport(n)}`, taken);
  }
  assert.equal(made, 3 * 11 - 1, 'every other port of the range was used');
});

test('install: a conflicting local port here gives way to the sender binding', () => {
  const { a, b, sa, sb } = pair({ forwarding: Forwarding.FNAT });
  const id = a.schedule(sa.id, flow('203.0.113.9', 9100), 0);
  // b was master briefly too and gave the same port towards the same RS to another client.
  const rs = b.conns.dests.addr.indexOf(destAddr(a, id)) / 4;
  const mine = b.createConn(sb, rs, flow('198.51.100.2', 9200), 0, 0);
  assert.equal(b.conns.lport(mine), a.conns.lport(id), 'setup: same RS and port on both');
  const got = copy(a, id, b, 0);
  assert.ok(got > 0);
  const out = b.conns.lookupOut(
    6,
    4,
    b.dests.addr,
    b.conns.dest(got) * 4,
    b.conns.dport(got),
    b.lips!.addr,
    0,
    b.conns.lport(got),
    0,
  );
  assert.equal(out, got, 'replies on that port belong to the synced session');
});

test('install: copies are not journalled (no echo), later changes here are', () => {
  const { a, b, sa } = pair();
  b.conns.journal = new SyncJournal(64);
  b.conns.journal.active = true;
  const id = a.schedule(sa.id, flow('203.0.113.10', 9300), 0);
  const got = copy(a, id, b, 0);
  assert.equal(b.conns.journal.length, 0);
  assert.ok(b.conns.journal.active, 'journalling resumes after the install');
  b.conns.tcpTransition(got, Dir.INPUT, TcpFlag.SYN, 1);
  assert.equal(takeChanged(b.conns), got);
});

test('journalling allocates nothing: state changes marked and taken, 100k times', async () => {
  const v8 = await import('node:v8');
  const newSpace = () =>
    v8
      .getHeapSpaceStatistics()
      .filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space')
      .reduce((n, s) => n + s.space_used_size, 0);
  const { a, sa } = pair();
  a.conns.journal = new SyncJournal(1024);
  a.conns.journal.active = true;
  const ids = Array.from({ length: 64 }, (_, i) => a.schedule(sa.id, flow('203.0.113.11', 9400 + i), 0));
  const flags = [TcpFlag.SYN, TcpFlag.ACK, TcpFlag.FIN, TcpFlag.RST];
  let taken = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      a.conns.tcpTransition(ids[i & 63]!, Dir.INPUT, flags[(i >> 6) & 3]!, i);
      if ((i & 63) === 63) while (takeChanged(a.conns) !== 0) taken++;
    }
  };
  run(50_000);
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 5 && best >= 1; attempt++) {
    const before = newSpace();
    run(100_000);
    const grown = newSpace() - before;
    if (grown >= 0) best = Math.min(best, grown / 100_000);
  }
  assert.ok(taken > 10_000, `changes were journalled (${taken})`);
  assert.ok(best < 1, `${best.toFixed(2)} bytes allocated per packet`);
});
