/**
 * The XDP fast path against the pipeline's scapy fixtures (test/fixtures/pipeline/scenarios.json, made
 * independently of this code): for every forwarded step whose input/output pair `offloadEntry` accepts,
 * the program, loaded into this kernel and run on the same input by BPF_PROG_TEST_RUN with that entry in
 * its map, must produce exactly the expected frame, with XDP_TX when it leaves by the interface it came in
 * on and XDP_REDIRECT otherwise. Then what it must leave to the pipeline: control segments, TTL 1, IP
 * options, fragments, truncation, misses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TS_OPTIONS, writeTcpFrame } from '../../../bench/pipeline/frames.js';
import { type Bpf, XdpAction } from '../../../src/dataplane/xdp/bpf.js';
import { ENCAP, VAL } from '../../../src/dataplane/xdp/fastpath-prog.js';
import { VAL6 } from '../../../src/dataplane/xdp/fastpath-prog6.js';
import { NotOffloadable, offloadEntry } from '../../../src/dataplane/xdp/offload-entry.js';
import { offloadEntry6 } from '../../../src/dataplane/xdp/offload-entry6.js';
import { fromHex, loadScenarios, toHex } from '../../engine/pipeline/harness.js';
import { rootSkipReason } from '../../helpers/env.js';
import {
  CLIENT,
  CLIENT6,
  D0,
  director,
  director6,
  entryBuffers,
  GW,
  loadFastPath,
  RS_MAC,
  RS6,
  tcp6Frame,
  VIP,
  VIP6,
} from './directors.js';

const skip = rootSkipReason();

interface Step {
  desc: string;
  in: { port: number; hex: string; status: number; tci: number; vnet: unknown };
  verdict: string;
  out: { port: number; hex: string; vnet: unknown }[];
}

/** Ones'-complement sum of the 20-byte IPv4 header at `o` (0xFFFF when its checksum is right). */
function ipv4HeaderSum(b: Uint8Array, o: number): number {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (b[o + i]! << 8) | b[o + i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

const { scenarios } = loadScenarios() as { scenarios: { name: string; steps: Step[] }[] };

/** Fixture port i is interface index 1 (the loopback device, which test runs may name) when it is the input's. */
const LO = 1;
const ifindexOf = (port: number, inPort: number) => (port === inPort ? LO : 100 + port);

describe('XDP fast path', { skip: skip ?? false }, () => {
  let bpf: Bpf;
  let map = -1;
  let map6 = -1;
  let prog = -1;
  const { key, value, key6, value6 } = entryBuffers();
  const stored = new Uint8Array(VAL6.LEN);

  let fp: ReturnType<typeof loadFastPath>;
  before(() => {
    fp = loadFastPath();
    ({ bpf, map, map6, prog } = fp);
  });
  after(() => fp.close());

  /** The entry for a fixture step, installed; null with the reason when refused. */
  /** The map and key of the last entry installed. */
  let cur = { map: -1, key };

  function install(s: Step): number {
    const inp = fromHex(s.in.hex);
    const out = fromHex(s.out[0]!.hex);
    const ifindex = ifindexOf(s.out[0]!.port, s.in.port);
    const v6 = inp[12] === 0x86 && inp[13] === 0xdd;
    const r = v6
      ? offloadEntry6(inp, 0, inp.length, out, 0, out.length, ifindex, 1500, 0, key6, value6)
      : offloadEntry(inp, 0, inp.length, out, 0, out.length, ifindex, 1500, 0, key, value);
    cur = v6 ? { map: map6, key: key6 } : { map, key };
    if (r === 0) bpf.mapUpdate(cur.map, cur.key, v6 ? value6 : value);
    return r;
  }

  test('reproduces every offloadable forwarded step of the fixtures byte for byte', () => {
    const accepted = new Map<string, number>();
    const refused = new Map<number, number>();
    for (const sc of scenarios) {
      for (const s of sc.steps) {
        if (s.verdict !== 'forward' || s.out.length !== 1 || s.in.vnet || s.out[0]!.vnet || s.in.tci)
          continue;
        const r = install(s);
        if (r !== 0) {
          refused.set(r, (refused.get(r) ?? 0) + 1);
          continue;
        }
        const where = `${sc.name} / ${s.desc}`;
        const { action, output } = bpf.testRun(prog, fromHex(s.in.hex), LO);
        const want = s.out[0]!.port === s.in.port ? XdpAction.TX : XdpAction.REDIRECT;
        assert.equal(action, want, `${where}: action`);
        const expected = fromHex(s.out[0]!.hex);
        if (value[VAL.FLAGS]! & ENCAP) {
          // The outer identification is the program's own (the pipeline counts, the program draws), and
          // the outer checksum follows it: compare the rest, and check that checksum on its own.
          assert.equal(ipv4HeaderSum(output, 14), 0xffff, `${where}: outer header checksum`);
          expected.set(output.subarray(18, 20), 18);
          expected.set(output.subarray(24, 26), 24);
        }
        assert.equal(toHex(output), toHex(expected), `${where}: frame`);
        assert.ok(bpf.mapLookup(cur.map, cur.key, stored.subarray(0, cur.map === map ? VAL.LEN : VAL6.LEN)));
        const packets = Number(new DataView(stored.buffer).getBigUint64(VAL.PACKETS, true));
        assert.ok(packets >= 1, `${where}: counted`);
        bpf.mapDelete(cur.map, cur.key);
        const mode = sc.name.split(/[ :]/)[0]!;
        accepted.set(mode, (accepted.get(mode) ?? 0) + 1);
      }
    }
    // Every forwarding method has offloadable steps in the fixtures, and what is refused is refused for
    // the reasons that must hold (SYN/FIN/RST, TOA or PROXY insertion, sequence translation, IPv6...).
    // (The fixtures' Full-NAT real servers sit behind a VLAN, which the program leaves alone: Full-NAT is
    // covered by the equivalence test below.)
    for (const mode of ['dr', 'nat', 'tun', 'dr6'])
      assert.ok((accepted.get(mode) ?? 0) > 0, `no ${mode} step offloaded`);
    assert.ok((refused.get(NotOffloadable.TCP_CONTROL) ?? 0) > 0);
    assert.ok((refused.get(NotOffloadable.NOT_IPV4) ?? 0) > 0);
  });

  /** A forwarded established-TCP step of the fixtures (input with an entry installed), for mutations. */
  function tcpDataStep(prefix: string): Step {
    for (const sc of scenarios) {
      if (!sc.name.startsWith(prefix)) continue;
      for (const s of sc.steps) {
        if (s.verdict !== 'forward' || s.out.length !== 1 || s.in.vnet || s.out[0]!.vnet) continue;
        const inp = fromHex(s.in.hex);
        if (inp[23] === 6 && install(s) === 0) return s;
      }
    }
    throw new Error(`no offloadable TCP step in ${prefix} scenarios`);
  }

  test('leaves control segments, TTL 1, options, fragments, truncated frames and misses to the pipeline', () => {
    const s = tcpDataStep('nat');
    const base = fromHex(s.in.hex);
    const put = (i: number, v: number) => (f: Uint8Array) => f.fill(v, i, i + 1);
    const or = (i: number, v: number) => (f: Uint8Array) => f.fill(f[i]! | v, i, i + 1);
    const cases: [string, (f: Uint8Array) => Uint8Array][] = [
      ['SYN', or(47, 0x02)],
      ['FIN', or(47, 0x01)],
      ['RST', or(47, 0x04)],
      ['TTL 1', put(22, 1)],
      ['IP options', put(14, 0x46)],
      ['more fragments', or(20, 0x20)],
      ['fragment offset', put(21, 1)],
      ['truncated below the IP total length', (f) => f.slice(0, f.length - 1)],
      ['truncated TCP header', (f) => f.slice(0, 50)],
      ['not IPv4', (f) => put(13, 0xdd)(put(12, 0x86)(f))],
      ['another flow', put(35, base[35]! ^ 1)],
      ['data offset below 5', put(46, 0x40)],
    ];
    for (const [name, mutate] of cases) {
      const f = mutate(base.slice());
      const { action, output } = bpf.testRun(prog, f, LO);
      assert.equal(action, XdpAction.PASS, name);
      assert.equal(toHex(output), toHex(f), `${name}: frame untouched`);
    }
    // The unmutated frame still goes the fast way (the entry was there all along).
    assert.notEqual(bpf.testRun(prog, base, LO).action, XdpAction.PASS);
    bpf.mapDelete(map, key);
  });

  test('later segments of a session get from the program what the pipeline gives them (DR, NAT, TUN, Full-NAT)', () => {
    for (const mode of ['dr', 'nat', 'tun', 'fnat'] as const) {
      const d = director(mode);
      const seg = (from: 'client' | 'rs', seq: number, flags = 0x18, payload = 40) => {
        const f = new Uint8Array(1600);
        const c = from === 'client';
        const len = writeTcpFrame(f, 0, {
          srcMac: c ? GW : RS_MAC,
          dstMac: D0,
          src: c ? CLIENT : d.rs,
          dst: c ? VIP : d.back,
          sport: c ? 40000 : d.rsPort,
          dport: c ? 80 : d.backPort,
          seq,
          ack: 1,
          flags,
          payload,
          options: TS_OPTIONS,
        });
        return f.slice(0, len);
      };
      d.forward(seg('client', 1000, 0x02, 0));
      const oneWay = mode === 'dr' || mode === 'tun';
      const sides: ('client' | 'rs')[] = oneWay ? ['client'] : ['client', 'rs'];
      if (!oneWay) {
        d.forward(seg('rs', 5000, 0x12, 0));
        d.forward(seg('client', 1001, 0x10, 0));
        d.forward(seg('rs', 5001, 0x10, 0)); // Full-NAT: TOA stops once the real server has answered
      }
      for (const side of sides) {
        const first = seg(side, 2000);
        const out1 = d.forward(first);
        assert.equal(
          offloadEntry(first, 0, first.length, out1, 0, out1.length, LO, 1500, 0, key, value),
          0,
          `${mode} ${side}`,
        );
        bpf.mapUpdate(map, key, value);
        for (const [seq, payload] of [
          [2040, 100],
          [9999, 7],
          [2140, 0],
        ] as const) {
          const later = seg(side, seq, 0x10, payload);
          const want = d.forward(later);
          const { action, output } = bpf.testRun(prog, later, LO);
          assert.equal(action, XdpAction.TX, `${mode} ${side} seq ${seq}`);
          if (mode === 'tun') {
            assert.equal(ipv4HeaderSum(output, 14), 0xffff, 'outer header checksum');
            want.set(output.subarray(18, 20), 18); // the identification is the program's own
            want.set(output.subarray(24, 26), 24);
          }
          assert.equal(toHex(output), toHex(want), `${mode} ${side} seq ${seq}: the pipeline's frame`);
        }
        if (mode === 'tun') {
          // 1481 bytes of IP would leave as 1501: the pipeline's (frag-needed), not the program's. (52: the
          // IPv4 and TCP headers with timestamps.)
          const big = seg('client', 3000, 0x10, 1481 - 52);
          assert.equal(bpf.testRun(prog, big, LO).action, XdpAction.PASS, 'too big for the tunnel');
          const fits = seg('client', 3000, 0x10, 1480 - 52);
          assert.equal(bpf.testRun(prog, fits, LO).action, XdpAction.TX, 'fits the tunnel');
        }
        bpf.mapDelete(map, key);
      }
    }
  });

  test('IPv6: later segments get from the program what the pipeline gives them (DR, NAT, Full-NAT)', () => {
    for (const mode of ['dr', 'nat', 'fnat'] as const) {
      const d = director6(mode);
      const seg = (from: 'client' | 'rs', seq: number, flags = 0x18, payload = 40) =>
        tcp6Frame(
          from === 'client'
            ? { srcMac: GW, src: CLIENT6, dst: VIP6, sport: 40000, dport: 80, seq, flags, payload }
            : {
                srcMac: RS_MAC,
                src: RS6,
                dst: d.back(),
                sport: d.rsPort,
                dport: d.backPort(),
                seq,
                flags,
                payload,
              },
        );
      d.forward(seg('client', 1000, 0x02, 0));
      const sides: ('client' | 'rs')[] = mode === 'dr' ? ['client'] : ['client', 'rs'];
      if (mode !== 'dr') {
        d.forward(seg('rs', 5000, 0x12, 0));
        d.forward(seg('client', 1001, 0x10, 0));
        d.forward(seg('rs', 5001, 0x10, 0));
      }
      for (const side of sides) {
        const first = seg(side, 2000);
        const out1 = d.forward(first);
        assert.equal(
          offloadEntry6(first, 0, first.length, out1, 0, out1.length, LO, 1500, 0, key6, value6),
          0,
          `${mode} ${side}`,
        );
        bpf.mapUpdate(map6, key6, value6);
        for (const [seq, payload] of [
          [2040, 100],
          [9999, 7],
        ] as const) {
          const later = seg(side, seq, 0x10, payload);
          const want = d.forward(later);
          const { action, output } = bpf.testRun(prog, later, LO);
          assert.equal(action, XdpAction.TX, `IPv6 ${mode} ${side} seq ${seq}`);
          assert.equal(toHex(output), toHex(want), `IPv6 ${mode} ${side} seq ${seq}: the pipeline's frame`);
        }
        // Hop limit 1 is the pipeline's (time exceeded).
        const last = seg(side, 3000);
        last[21] = 1;
        assert.equal(bpf.testRun(prog, last, LO).action, XdpAction.PASS, `IPv6 ${mode}: hop limit 1`);
        // Longer than the output MTU (150 here) is the pipeline's too (packet too big), when the entry
        // rewrites; DR's packet leaves as it came (a GSO aggregate is segmented on its way out).
        assert.equal(
          offloadEntry6(first, 0, first.length, out1, 0, out1.length, LO, 150, 0, key6, value6),
          0,
        );
        bpf.mapUpdate(map6, key6, value6);
        const over = seg(side, 4000, 0x10, 100);
        assert.equal(
          bpf.testRun(prog, over, LO).action,
          mode === 'dr' ? XdpAction.TX : XdpAction.PASS,
          `IPv6 ${mode}: over the MTU`,
        );
        const under = seg(side, 4000, 0x10, 7);
        assert.equal(bpf.testRun(prog, under, LO).action, XdpAction.TX, `IPv6 ${mode}: under the MTU`);
        bpf.mapDelete(map6, key6);
      }
    }
  });
});
