/**
 * Pipeline options that the fixture scenarios (default options) do not cover, on frames taken from the
 * fixtures: TOA kind, VIP answering for a VRRP backup, no vnet sink, checksum policies, TTL left alone,
 * a full session table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIp } from '../../../src/engine/addr.js';
import {
  DROP_NAMES,
  MutableFrame,
  PASS_NAMES,
  type PipelineOptions,
  RxStatus,
  Verdict,
} from '../../../src/engine/pipeline/index.js';
import { validateOutput } from './fuzz-lib.js';
import { build, fromHex, loadScenarios, type Setup } from './harness.js';

interface Step {
  desc: string;
  in: { port: number; hex: string; status: number; tci: number; vnet: Record<string, number> | null };
  out: { hex: string }[];
}
const { topology, scenarios } = loadScenarios() as {
  topology: never;
  scenarios: { name: string; setup: Setup; steps: Step[] }[];
};

function stepOf(scenario: string, desc: string): Step {
  const sc = scenarios.find((s) => s.name.startsWith(scenario));
  const st = sc?.steps.find((s) => s.desc.startsWith(desc));
  assert.ok(st, `fixture step ${scenario} / ${desc}`);
  return st;
}

function frame(s: Step, status = s.in.status): MutableFrame {
  const b = fromHex(s.in.hex);
  const f = new MutableFrame().set(b, 0, b.length, s.in.port, status);
  f.vlanTci = s.in.tci;
  if (s.in.vnet) Object.assign(f, s.in.vnet);
  return f;
}

function run(extra: Partial<PipelineOptions> = {}, setup: Setup = {}, capacity = 4096) {
  return build(topology, setup, capacity, extra);
}

describe('pipeline options', () => {
  test('TOA kind per service', () => {
    const { pipeline, balancer, log } = run();
    const svc = balancer.services.byEndpoint('tcp', parseIp('198.51.100.13'), 80)!;
    pipeline.setServiceOptions(svc.id, { toaKind: 200 });
    assert.equal(pipeline.process(frame(stepOf('fnat: LIP', 'SYN with 20 bytes')), 1000), Verdict.FORWARD);
    const out = log[0]!.bytes;
    const tcp = 18 + 20; // Ethernet + VLAN tag, IPv4
    assert.deepEqual([out[tcp + 20], out[tcp + 21]], [200, 8]);
    assert.equal(validateOutput(out, null), null);
  });

  test('a VRRP backup answers ARP neither for VIPs nor for local addresses, but for its own addresses', () => {
    const { pipeline, log } = run({ answerVips: false });
    assert.equal(pipeline.process(frame(stepOf('arp:', 'who-has VIP')), 1000), Verdict.PASS);
    assert.equal(PASS_NAMES[pipeline.lastReason], 'arp');
    // Local addresses move with the VIPs: the master holds the Full-NAT sessions real servers answer.
    assert.equal(
      pipeline.process(frame(stepOf('arp:', 'who-has LIP on the VLAN (tag in')), 1000),
      Verdict.PASS,
    );
    assert.equal(pipeline.process(frame(stepOf('arp:', 'who-has own address')), 1000), Verdict.REPLY);
    pipeline.answerVips = true;
    assert.equal(pipeline.process(frame(stepOf('arp:', 'who-has VIP')), 1000), Verdict.REPLY);
    assert.equal(
      pipeline.process(frame(stepOf('arp:', 'who-has LIP on the VLAN (tag in')), 1000),
      Verdict.REPLY,
    );
    assert.equal(log.length, 3);
  });

  test('sinks without vnet headers: partial checksums are finished here, GSO is refused', () => {
    const { pipeline, log } = run({ checksums: { vnet: false } });
    const sc = 'partial checksums: NAT';
    pipeline.process(frame(stepOf(sc, 'SYN')), 1000);
    const partial = stepOf(sc, 'partial data (status');
    assert.equal(pipeline.process(frame(partial), 1001), Verdict.FORWARD);
    const out = log[1]!;
    assert.equal(out.vnet, null);
    assert.equal(validateOutput(out.bytes, null), null, 'a full, correct checksum');
    // Only the checksum differs from what the vnet path sends.
    const want = fromHex(partial.out[0]!.hex);
    want[14 + 20 + 16] = out.bytes[14 + 20 + 16]!;
    want[14 + 20 + 17] = out.bytes[14 + 20 + 17]!;
    assert.deepEqual(out.bytes, want);
    assert.equal(pipeline.process(frame(stepOf(sc, 'GSO super-frame')), 1002), Verdict.DROP);
    assert.equal(DROP_NAMES[pipeline.lastReason], 'gso_unsupported');
  });

  test('checksum policy: CSUM_VALID frames are trusted in auto mode, checked in always mode', () => {
    const bad = frame(stepOf('drops and passes', 'bad TCP checksum'), RxStatus.CSUM_VALID);
    const auto = run();
    assert.equal(auto.pipeline.process(bad, 1000), Verdict.FORWARD);
    const always = run({ checksums: { verifyL4: 'always' } });
    assert.equal(always.pipeline.process(bad, 1000), Verdict.DROP);
    assert.equal(DROP_NAMES[always.pipeline.lastReason], 'bad_tcp_checksum');
    const never = run({ checksums: { verifyL4: 'never' } });
    assert.equal(
      never.pipeline.process(frame(stepOf('drops and passes', 'bad TCP checksum')), 1000),
      Verdict.FORWARD,
    );
    const hdr = run({ checksums: { verifyIpv4Header: false } });
    assert.equal(
      hdr.pipeline.process(frame(stepOf('drops and passes', 'bad IPv4 header')), 1000),
      Verdict.FORWARD,
    );
  });

  test('decrementTtl false: DR changes nothing but the MAC addresses', () => {
    const { pipeline, log } = run({ decrementTtl: false });
    const syn = stepOf('dr: handshake', 'SYN');
    assert.equal(pipeline.process(frame(syn), 1000), Verdict.FORWARD);
    const input = fromHex(syn.in.hex);
    assert.deepEqual(log[0]!.bytes.subarray(12), input.subarray(12));
    assert.equal(log[0]!.bytes[5], 0x02); // RS MAC 02:00:00:00:0a:02
  });

  test('a full session table drops new sessions it cannot evict for (UDP is never evicted)', () => {
    const { pipeline } = run({}, {}, 1);
    const q = stepOf('nat udp', 'query -> RS');
    assert.equal(pipeline.process(frame(q), 1000), Verdict.FORWARD);
    const other = fromHex(q.in.hex);
    other[14 + 12 + 3] ^= 1; // another client address
    other[14 + 10] = 0;
    other[14 + 11] = 0;
    other[14 + 20 + 6] = 0; // no UDP checksum (IPv4)
    other[14 + 20 + 7] = 0;
    const f = new MutableFrame().set(other, 0, other.length);
    // A fresh IPv4 header checksum: verification must see a sound packet.
    const sum = (o: number, n: number) => {
      let s = 0;
      for (let i = 0; i < n; i += 2) s += (other[o + i]! << 8) | (other[o + i + 1] ?? 0);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return ~s & 0xffff;
    };
    const c = sum(14, 20);
    other[14 + 10] = c >>> 8;
    other[14 + 11] = c & 0xff;
    assert.equal(pipeline.process(f, 1001), Verdict.DROP);
    assert.equal(DROP_NAMES[pipeline.lastReason], 'table_full');
  });

  test('deleted real server: its sessions drop (and go, with expireNodestConn)', () => {
    const { pipeline, balancer } = run();
    const sc = 'nat: DNAT in';
    pipeline.process(frame(stepOf(sc, 'SYN')), 1000);
    const svc = balancer.services.byEndpoint('tcp', parseIp('198.51.100.11'), 80)!;
    svc.removeDest(svc.list[0]!);
    assert.equal(pipeline.process(frame(stepOf(sc, 'ACK')), 1001), Verdict.DROP);
    assert.equal(DROP_NAMES[pipeline.lastReason], 'dest_unavailable');
    assert.equal(balancer.conns.count, 1, 'kept without expireNodestConn');
  });
});
