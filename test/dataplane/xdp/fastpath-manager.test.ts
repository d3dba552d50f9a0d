/**
 * XdpFastPath as the pipeline's forward observer (maps and program in this kernel, attached nowhere): a
 * Full-NAT connection whose client segments carry TOA until the real server answers is refused while
 * they do, tried again only every 64th segment, and offloaded once the segments are plain rewrites;
 * FIN takes it out again; an expiring session leaves the map. Root only (bpf(2)).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BatchCursor, Bpf, MapType } from '../../../src/dataplane/xdp/bpf.js';
import { FAST_PATH_COUNTERS, XdpFastPath } from '../../../src/dataplane/xdp/fastpath.js';
import { parseIp } from '../../../src/engine/addr.js';
import { CONN_STAT_NAMES } from '../../../src/engine/conntable/table.js';
import { Forwarding } from '../../../src/engine/forwarding.js';
import { newFlowKey } from '../../../src/engine/schedulers/scheduler.js';
import { rootSkipReason } from '../../helpers/env.js';
import { fnatDirector } from './fnat-director.js';

const skip = rootSkipReason();

/** A fast path (maps and program, attached nowhere) observing director `d`'s pipeline. */
function observe(d: ReturnType<typeof fnatDirector>, keepTcp = false, mtu = 1500) {
  const b = d.balancer;
  const fast = new XdpFastPath({
    mode: null,
    ports: [{ ifindex: 1, ifname: 'lo', mtu }],
    conns: b.conns,
    services: b.services,
    dests: b.dests,
    keepTcp,
  });
  d.pipeline.setForwardObserver(fast);
  const count = (name: string) => fast.counters[FAST_PATH_COUNTERS.indexOf(name as never)]!;
  return { fast, count };
}

/** A Full-NAT TCP session through `d`: handshake both ways, then the client's first data segment. */
function establish(d: ReturnType<typeof fnatDirector>): void {
  d.send(true, { seq: 100, flags: 0x02, payload: 0 });
  d.send(false, { seq: 500, flags: 0x12, payload: 0 });
  d.send(false, { seq: 501, flags: 0x10, payload: 0 });
  d.send(true, { seq: 101, flags: 0x18, payload: 20 });
}

/** A DR TCP session through `dr` (only the client's side passes the director): SYN, ACK, data. */
function establishDr(dr: ReturnType<typeof fnatDirector>): void {
  dr.send(true, { seq: 100, flags: 0x02, payload: 0 });
  dr.send(true, { seq: 101, flags: 0x10, payload: 0 });
  dr.send(true, { seq: 101, flags: 0x18, payload: 20 });
}

test('the fast path offloads a Full-NAT session once TOA stops, retries refusals with backoff, follows FIN and expiry', {
  skip: skip ?? false,
}, () => {
  const d = fnatDirector({ proxyProtocol: 0, toa: true });
  const b = d.balancer;
  const { fast, count } = observe(d);
  b.conns.onExpire = (id) => fast.forget(id);
  const send = (fromClient: boolean, seq: number, flags: number, payload = 20) =>
    d.send(fromClient, { seq, flags, payload });
  try {
    send(true, 100, 0x02, 0);
    send(false, 500, 0x12, 0);
    for (let i = 0; i < 70; i++) send(true, 101 + 20 * i, 0x18); // TOA in each: refused
    assert.equal(fast.installed, 0);
    assert.equal(count('xdp_refused_other'), 2, 'tried on the 1st and the 65th segment only');
    send(false, 501, 0x10, 0); // the real server answers: TOA stops; its direction goes to the map
    assert.equal(fast.installed, 1, 'the real server -> client direction');
    let tries = 0;
    while (fast.installed === 1 && tries < 64) send(true, 2000 + 20 * tries++, 0x18);
    assert.equal(fast.installed, 2, 'the client direction offloaded within one backoff period');
    assert.ok(tries > 1, 'not before the backoff ran out');
    assert.equal(count('xdp_installed'), 2);
    send(true, 5000, 0x11, 0); // FIN
    assert.equal(fast.installed, 0);
    assert.equal(count('xdp_removed'), 2);
    // A second connection on the same addresses (the first is in TIME_WAIT: the SYN reuses it), offloaded
    // as soon as it is established, leaves the map when its session expires.
    send(true, 9000, 0x02, 0);
    send(false, 700, 0x12, 0);
    send(false, 701, 0x10, 0);
    send(true, 9001, 0x18);
    assert.equal(fast.installed, 2, 'the second connection offloaded both ways');
    b.conns.expire(d.advance(10 * 60 * 60 * 1000));
    assert.equal(b.conns.count, 0);
    assert.equal(fast.installed, 0, 'expiry took it out of the map');
    assert.equal(count('xdp_removed'), 4);
  } finally {
    fast.close();
  }
});

test('with keepTcp (the generic hook after GRO) established Full-NAT TCP sessions stay with the pipeline, counted; DR ones do not', {
  skip: skip ?? false,
}, () => {
  const d = fnatDirector({ proxyProtocol: 0, toa: false });
  const { fast, count } = observe(d, true);
  try {
    establish(d);
    assert.equal(fast.installed, 0);
    assert.equal(count('xdp_refused_tcp_after_gro'), 2, 'both directions refused, once each');
    assert.equal(count('xdp_installed'), 0);
  } finally {
    fast.close();
  }
  const dr = fnatDirector({ proxyProtocol: 0, toa: false, forwarding: Forwarding.DR });
  const { fast: fastDr } = observe(dr, true);
  try {
    establishDr(dr);
    assert.equal(fastDr.installed, 1, 'the DR session (client direction only) offloaded');
  } finally {
    fastDr.close();
  }
});

test('GRO turned on while running (setKeepTcp): Full-NAT TCP sessions leave the map at once and stay out; DR ones stay; off again, they come back', {
  skip: skip ?? false,
}, () => {
  const d = fnatDirector({ proxyProtocol: 0, toa: false });
  const { fast, count } = observe(d);
  try {
    establish(d);
    assert.equal(fast.installed, 2, 'offloaded both ways while GRO was off');
    assert.equal(fast.setKeepTcp(true), 1, 'one session withdrawn');
    assert.equal(fast.installed, 0);
    assert.equal(count('xdp_removed'), 2);
    d.send(true, { seq: 121, flags: 0x18, payload: 20 });
    assert.equal(fast.installed, 0, 'not offloaded again');
    assert.equal(count('xdp_refused_tcp_after_gro'), 1);
    assert.equal(fast.setKeepTcp(false), 0);
    let tries = 0;
    while (fast.installed === 0 && tries < 70)
      d.send(true, { seq: 141 + 20 * tries++, flags: 0x18, payload: 20 });
    assert.equal(fast.installed, 1, 'the client direction offloaded again once its backoff ran out');
  } finally {
    fast.close();
  }
  const dr = fnatDirector({ proxyProtocol: 0, toa: false, forwarding: Forwarding.DR });
  const { fast: fastDr } = observe(dr);
  try {
    establishDr(dr);
    assert.equal(fastDr.installed, 1);
    assert.equal(fastDr.setKeepTcp(true), 0, 'DR rewrites nothing an aggregate would break');
    assert.equal(fastDr.installed, 1);
  } finally {
    fastDr.close();
  }
});

test('a session whose packets all go through the map does not expire while they flow; once they stop, it does', {
  skip: skip ?? false,
}, () => {
  const d = fnatDirector({ proxyProtocol: 0, toa: false });
  const b = d.balancer;
  const { fast } = observe(d);
  b.conns.onExpire = (id) => fast.forget(id);
  b.conns.keepAlive = (id) => fast.sawPackets(id);
  const bpf = new Bpf();
  try {
    establish(d);
    assert.equal(fast.installed, 2);
    // Three ESTABLISHED timeouts (900 s) pass; in each the client sends through the program only, and the
    // fast path never ticks (its own read-back is what a big map makes slow).
    for (let i = 0; i < 3; i++) {
      const seg = d.segment(true, { seq: 121 + 20 * i, flags: 0x18, payload: 20 });
      assert.notEqual(bpf.testRun(fast.programFd, seg, 1).action, 2, 'forwarded by the program, not passed');
      b.conns.expire(d.advance(1000 * 1000));
      assert.equal(b.conns.count, 1, `kept through timeout ${i + 1}`);
    }
    assert.equal(b.conns.stats[CONN_STAT_NAMES.indexOf('kept_alive')], 3);
    b.conns.expire(d.advance(1000 * 1000));
    assert.equal(b.conns.count, 0, 'no packets in the last timeout: expired');
    assert.equal(fast.installed, 0);
  } finally {
    bpf.dispose();
    fast.close();
  }
});

test('mapLookupBatch walks a hash map a batch per call, every element once, and starts over at the end', {
  skip: skip ?? false,
}, () => {
  const bpf = new Bpf();
  const fd = bpf.mapCreate(MapType.HASH, 4, 8, 4096, 'test_batch');
  try {
    const key = new Uint8Array(4);
    const value = new Uint8Array(8);
    const kv = new DataView(key.buffer);
    const vv = new DataView(value.buffer);
    for (let i = 0; i < 3000; i++) {
      kv.setUint32(0, i, true);
      vv.setUint32(0, i * 7, true);
      bpf.mapUpdate(fd, key, value);
    }
    const cursor: BatchCursor = { token: 0, started: false };
    const seen = new Set<number>();
    let calls = 0;
    do {
      const n = bpf.mapLookupBatch(fd, 4, 8, 1024, cursor);
      calls++;
      for (let i = 0; i < n; i++) {
        const v = bpf.view.getUint32(bpf.batchValueAt(i, 8), true);
        assert.equal(v % 7, 0, 'a value as written');
        assert.ok(!seen.has(v), `value ${v} read twice`);
        seen.add(v);
      }
    } while (cursor.started && calls < 20);
    assert.equal(seen.size, 3000, 'every element');
    assert.ok(calls >= 3 && calls <= 5, `${calls} calls for 3000 elements in batches of 1024`);
    assert.ok(bpf.mapLookupBatch(fd, 4, 8, 1024, cursor) > 0, 'the next walk starts over');
  } finally {
    bpf.close(fd);
    bpf.dispose();
  }
});

test('a tick reads the map back: packets the program forwarded re-arm the session and reach the counters', {
  skip: skip ?? false,
}, () => {
  const d = fnatDirector({ proxyProtocol: 0, toa: false });
  const b = d.balancer;
  const { fast, count } = observe(d);
  const bpf = new Bpf();
  try {
    establish(d);
    assert.equal(fast.installed, 2);
    const key = newFlowKey();
    key.saddr[0] = parseIp('192.0.2.77').words[0];
    key.sport = 40000;
    key.daddr[0] = parseIp('198.51.100.10').words[0];
    key.dport = 80;
    const conn = b.conns.lookupIn(key, d.advance(0));
    assert.ok(conn > 0);
    for (let i = 0; i < 5; i++) {
      const seg = d.segment(true, { seq: 121 + 20 * i, flags: 0x18, payload: 20 });
      assert.notEqual(bpf.testRun(fast.programFd, seg, 1).action, 2);
    }
    const now = d.advance(60_000);
    assert.ok(b.conns.remainingMs(conn, now) <= 840_000, 'a minute of the 900 s gone');
    fast.tick(now);
    assert.equal(count('xdp_forwarded_packets'), 5);
    assert.equal(
      count('xdp_forwarded_bytes'),
      5 * (20 + 20 + 12 + 20),
      'L3 bytes: IP, TCP, timestamps, payload',
    );
    assert.equal(b.conns.remainingMs(conn, now), 900_000, 're-armed from the read-back');
    fast.tick(d.advance(1000));
    assert.equal(count('xdp_forwarded_packets'), 5, 'nothing new: nothing added');
  } finally {
    bpf.dispose();
    fast.close();
  }
});

test('a packet longer than the output MTU is left to the pipeline (an aggregate after GRO, a larger input MTU)', {
  skip: skip ?? false,
}, () => {
  const d = fnatDirector({ proxyProtocol: 0, toa: false });
  const { fast } = observe(d, false, 100);
  const bpf = new Bpf();
  try {
    establish(d);
    assert.equal(fast.installed, 2);
    const fits = d.segment(true, { seq: 121, flags: 0x18, payload: 48 }); // IP total length 100
    assert.equal(bpf.testRun(fast.programFd, fits, 1).action, 3, 'at the MTU: forwarded (XDP_TX)');
    const over = d.segment(true, { seq: 169, flags: 0x18, payload: 49 }); // 101
    const r = bpf.testRun(fast.programFd, over, 1);
    assert.equal(r.action, 2, 'one byte over: XDP_PASS');
    assert.deepEqual(r.output, over, 'untouched');
  } finally {
    bpf.dispose();
    fast.close();
  }
});
