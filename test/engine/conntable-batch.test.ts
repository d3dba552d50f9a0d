/**
 * The batched lookups (lookupInBatch / lookupOutBatch) must answer exactly as the single ones. A small
 * table (one bucket per entry, so chains of two and more are common) holds NAT, FNAT, UDP, IPv6 and
 * persistent sessions (templates share the in-index); batches mix hits, near misses and repeated keys.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../src/engine/addr.js';
import { BATCH_MAX, newFlowBatch } from '../../src/engine/conntable/hash-index.js';
import { Forwarding } from '../../src/engine/forwarding.js';
import type { FlowKey } from '../../src/engine/schedulers/scheduler.js';
import { addService, flow, makeBalancer, seededRandom } from './helpers.js';

interface OutKey {
  proto: number;
  af: number;
  src: Uint32Array;
  sport: number;
  dst: Uint32Array;
  dport: number;
}

test('batched lookups equal single lookups, chains included', () => {
  const b = makeBalancer({
    conntable: { capacity: 96, seed: 3 },
    localAddresses: [parseIp('10.9.0.1'), parseIp('10.9.0.2'), parseIp('2001:db8:9::1')],
    localPortRange: [5000, 5999],
  });
  const dests = [{ addr: '192.168.1.1' }, { addr: '192.168.1.2' }];
  const services = [
    addService(b, { name: 'nat', forwarding: Forwarding.NAT, dests }),
    addService(b, { name: 'fnat', port: 443, forwarding: Forwarding.FNAT, dests }),
    addService(b, { name: 'udp', proto: 'udp', port: 53, forwarding: Forwarding.NAT, dests }),
    addService(b, { name: 'dr', port: 22, forwarding: Forwarding.DR, dests }),
    addService(b, {
      name: 'persist',
      port: 8000,
      forwarding: Forwarding.NAT,
      dests,
      persistence: { timeoutMs: 300_000, prefixLen: 24 },
    }),
    addService(b, {
      name: 'v6',
      vip: '2001:db8::100',
      forwarding: Forwarding.FNAT,
      dests: [{ addr: '2001:db8:1::1' }, { addr: '2001:db8:1::2' }],
    }),
  ];
  const rnd = seededRandom(7);
  const now = 1000;
  const keys: FlowKey[] = [];
  const outs: OutKey[] = [];
  for (let i = 0; keys.length < 70; i++) {
    const svc = services[i % services.length]!;
    const v6 = svc.address.family === 6;
    const client = v6 ? `2001:db8:2::${(i % 5) + 1}` : `203.0.113.${(i % 7) + 1}`;
    const f = flow(
      client,
      40000 + i,
      v6 ? '2001:db8::100' : '10.0.0.100',
      svc.port,
      svc.proto === 17 ? 'udp' : 'tcp',
    );
    const id = b.schedule(svc.id, f, now);
    assert.ok(id > 0, `session ${i}`);
    keys.push(f);
    const c = b.conns;
    const fnat = c.fwd(id) === Forwarding.FNAT;
    const d = c.dest(id);
    outs.push({
      proto: f.proto,
      af: f.af,
      src: b.dests.addr.slice(d * 4, d * 4 + 4),
      sport: c.dport(id),
      dst: fnat ? b.lips!.addr.slice(c.lip(id) * 4, c.lip(id) * 4 + 4) : f.saddr.slice(),
      dport: fnat ? c.lport(id) : f.sport,
    });
  }
  // Near misses: another port, client word, VIP or protocol than a real key.
  const misses: FlowKey[] = keys.slice(0, 20).map((k, i) => {
    const m = flow('0.0.0.0', 0);
    m.af = k.af;
    m.proto = i % 4 === 0 ? (k.proto === 6 ? 17 : 6) : k.proto;
    m.saddr.set(k.saddr);
    m.daddr.set(k.daddr);
    m.sport = i % 4 === 1 ? k.sport + 1 : k.sport;
    m.dport = k.dport;
    if (i % 4 === 2) m.saddr[k.af === 6 ? 3 : 0] = (m.saddr[k.af === 6 ? 3 : 0]! + 1) >>> 0;
    if (i % 4 === 3) m.daddr[0] = (m.daddr[0]! ^ 1) >>> 0;
    return m;
  });
  const pool = [...keys, ...misses];
  const batch = newFlowBatch();
  const found = new Uint32Array(BATCH_MAX);
  let hits = 0;
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(rnd() * BATCH_MAX);
    const picked: FlowKey[] = [];
    for (let k = 0; k < n; k++) {
      const f = pool[Math.floor(rnd() * pool.length)]!;
      picked.push(f);
      batch.proto[k] = f.proto;
      batch.af[k] = f.af;
      batch.sport[k] = f.sport;
      batch.dport[k] = f.dport;
      batch.saddr.set(f.saddr, k * 4);
      batch.daddr.set(f.daddr, k * 4);
    }
    batch.count = n;
    b.conns.lookupInBatch(batch, found, now);
    for (let k = 0; k < n; k++) {
      const want = b.conns.lookupIn(picked[k]!, now);
      assert.equal(found[k], want, `in: round ${round}, key ${k}`);
      if (want !== 0) hits++;
    }
    const outPicked: OutKey[] = [];
    for (let k = 0; k < n; k++) {
      const o = outs[Math.floor(rnd() * outs.length)]!;
      const miss = rnd() < 0.25;
      outPicked.push(o);
      batch.proto[k] = o.proto;
      batch.af[k] = o.af;
      batch.sport[k] = o.sport;
      batch.dport[k] = miss ? o.dport ^ 1 : o.dport;
      batch.saddr.set(o.src, k * 4);
      batch.daddr.set(o.dst, k * 4);
    }
    b.conns.lookupOutBatch(batch, found, now);
    for (let k = 0; k < n; k++) {
      const o = outPicked[k]!;
      const want = b.conns.lookupOut(o.proto, o.af, o.src, 0, o.sport, o.dst, 0, batch.dport[k]!, now);
      assert.equal(found[k], want, `out: round ${round}, key ${k}`);
    }
  }
  assert.ok(hits > 1000, `only ${hits} hits`);
});
