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
import { Bpf, MapType, ProgType, XdpAction } from '../../../src/dataplane/xdp/bpf.js';
import {
  ACK_OUT,
  ENCAP,
  fastPathProgram,
  KEY,
  SEQ_IN,
  VAL,
} from '../../../src/dataplane/xdp/fastpath-prog.js';
import { KEY6, VAL6 } from '../../../src/dataplane/xdp/fastpath-prog6.js';
import { NotOffloadable, offloadEntry } from '../../../src/dataplane/xdp/offload-entry.js';
import { offloadEntry6 } from '../../../src/dataplane/xdp/offload-entry6.js';
import { parseIp } from '../../../src/engine/addr.js';
import { Balancer } from '../../../src/engine/balancer.js';
import { Forwarding } from '../../../src/engine/forwarding.js';
import { MutableFrame, Pipeline, Verdict } from '../../../src/engine/pipeline/index.js';
import { newFlowKey } from '../../../src/engine/schedulers/scheduler.js';
import { checksum, pseudoSumV6At } from '../../../src/wire/checksum.js';
import {
  fromHex,
  loadScenarios,
  RecordingSink,
  type SentFrame,
  toHex,
} from '../../engine/pipeline/harness.js';
import { rootSkipReason } from '../../helpers/env.js';
import { fnatDirector, type Seg } from './fnat-director.js';

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
  const key = new Uint8Array(KEY.LEN);
  const value = new Uint8Array(VAL.LEN);
  const key6 = new Uint8Array(KEY6.LEN);
  const value6 = new Uint8Array(VAL6.LEN);
  const stored = new Uint8Array(VAL6.LEN);

  before(() => {
    bpf = new Bpf();
    map = bpf.mapCreate(MapType.HASH, KEY.LEN, VAL.LEN, 1024, 'tslvs_test');
    map6 = bpf.mapCreate(MapType.HASH, KEY6.LEN, VAL6.LEN, 1024, 'tslvs_test6');
    prog = bpf.progLoad(ProgType.XDP, fastPathProgram(map, map6).bytes(), 'tslvs_test');
  });
  after(() => {
    bpf.close(prog);
    bpf.close(map);
    bpf.close(map6);
    bpf.dispose();
  });

  /** The entry for a fixture step, installed; null with the reason when refused. */
  /** The map and key of the last entry installed. */
  let cur = { map: -1, key };

  function install(s: Step): number {
    const inp = fromHex(s.in.hex);
    const out = fromHex(s.out[0]!.hex);
    const ifindex = ifindexOf(s.out[0]!.port, s.in.port);
    const v6 = inp[12] === 0x86 && inp[13] === 0xdd;
    const r = v6
      ? offloadEntry6(inp, 0, inp.length, out, 0, out.length, ifindex, key6, value6)
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
        const f = new Uint8Array(256);
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
          // 1481 bytes of IP would leave as 1501: the pipeline's (frag-needed), not the program's.
          const big = new Uint8Array(1600);
          const len = writeTcpFrame(big, 0, {
            srcMac: GW,
            dstMac: D0,
            src: CLIENT,
            dst: VIP,
            sport: 40000,
            dport: 80,
            seq: 3000,
            ack: 1,
            flags: 0x10,
            payload: 1481 - 52,
            options: TS_OPTIONS,
          });
          assert.equal(
            bpf.testRun(prog, big.slice(0, len), LO).action,
            XdpAction.PASS,
            'too big for the tunnel',
          );
          const fits = writeTcpFrame(big, 0, {
            srcMac: GW,
            dstMac: D0,
            src: CLIENT,
            dst: VIP,
            sport: 40000,
            dport: 80,
            seq: 3000,
            ack: 1,
            flags: 0x10,
            payload: 1480 - 52,
            options: TS_OPTIONS,
          });
          assert.equal(bpf.testRun(prog, big.slice(0, fits), LO).action, XdpAction.TX, 'fits the tunnel');
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
          offloadEntry6(first, 0, first.length, out1, 0, out1.length, LO, key6, value6),
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
        bpf.mapDelete(map6, key6);
      }
    }
  });

  test('Full-NAT behind a PROXY header: sequence and acknowledgment shifted as the pipeline shifts them', () => {
    const d = fnatDirector({ proxyProtocol: 2, toa: false });
    const isn = 1001;
    d.send(true, { seq: 1000, flags: 0x02, payload: 0 });
    d.send(false, { seq: 5000, ack: 1001, flags: 0x12, payload: 0 });
    d.send(true, { seq: 1001, ack: 5001, flags: 0x10, payload: 0 });
    const first = d.send(true, { seq: 1001, ack: 5001, flags: 0x18, payload: 20 });
    const shift = first.length - d.segment(true, { seq: 1001, ack: 5001, flags: 0x18, payload: 20 }).length;
    assert.ok(shift > 0, 'the PROXY header went in front of the first byte');
    const entry = (inp: Uint8Array, out: Uint8Array) =>
      offloadEntry(inp, 0, inp.length, out, 0, out.length, LO, 1500, isn, key, value);
    // Real server -> client: acknowledgments come back down by the header's length.
    const rsAck = d.segment(false, { seq: 5001, ack: isn + 20 + shift, flags: 0x10, payload: 0 });
    assert.equal(entry(rsAck, d.forward(rsAck)), 0, 'RS -> client entry');
    assert.equal(value[VAL.FLAGS]! & ACK_OUT, ACK_OUT);
    bpf.mapUpdate(map, key, value);
    // Client -> real server: sequence numbers go up by it.
    const data2 = d.segment(true, { seq: isn + 20, ack: 5001, flags: 0x18, payload: 20 });
    assert.equal(entry(data2, d.forward(data2)), 0, 'client -> RS entry');
    assert.equal(value[VAL.FLAGS]! & SEQ_IN, SEQ_IN);
    bpf.mapUpdate(map, key, value);
    const later: [boolean, Seg][] = [
      [true, { seq: isn + 40, ack: 5001, flags: 0x18, payload: 100 }],
      [true, { seq: isn + 140, ack: 5101, flags: 0x10, payload: 0 }],
      [false, { seq: 5001, ack: isn + 140 + shift, flags: 0x18, payload: 100 }],
      [false, { seq: 5101, ack: isn + 141 + shift, flags: 0x10, payload: 0, options: new Uint8Array(0) }],
    ];
    for (const [fromClient, s] of later) {
      const f = d.segment(fromClient, s);
      const want = d.forward(f);
      const { action, output } = bpf.testRun(prog, f, LO);
      assert.equal(action, XdpAction.TX, `${fromClient ? 'client' : 'RS'} seq ${s.seq}`);
      assert.equal(
        toHex(output),
        toHex(want),
        `${fromClient ? 'client' : 'RS'} seq ${s.seq}: the pipeline's frame`,
      );
    }
    // What only the pipeline may do: the first byte again (it needs the header again), anything before
    // it, an acknowledgment of part of the header, and SACK blocks (their edges shift too).
    const sack = Uint8Array.of(1, 1, 5, 10, 0, 0, 0x04, 0x10, 0, 0, 0x04, 0x30);
    const leftAlone: [string, boolean, Seg][] = [
      ['the first segment again', true, { seq: isn, ack: 5001, flags: 0x18, payload: 20 }],
      ['before the first byte', true, { seq: isn - 1, ack: 5001, flags: 0x10, payload: 0 }],
      [
        'part of the header acknowledged',
        false,
        { seq: 5001, ack: isn + shift - 1, flags: 0x10, payload: 0 },
      ],
      ['SACK', false, { seq: 5001, ack: isn + 40 + shift, flags: 0x10, payload: 0, options: sack }],
    ];
    for (const [what, fromClient, s] of leftAlone) {
      const f = d.segment(fromClient, s);
      const { action, output } = bpf.testRun(prog, f, LO);
      assert.equal(action, XdpAction.PASS, what);
      assert.equal(toHex(output), toHex(f), `${what}: untouched`);
    }
    bpf.mapDelete(map, key);
  });
});

const D0 = 0x0200_0000_0d00;
const GW = 0x0200_0000_0ffe;
const RS_MAC = 0x0200_0000_0a0a;
const VIP = parseIp('198.51.100.10').words[0];
const CLIENT = parseIp('192.0.2.77').words[0];

/** A one-interface director with one TCP service to one real server, as the fixtures' topology has it. */
function director(mode: 'dr' | 'nat' | 'tun' | 'fnat') {
  const b = new Balancer({ conntable: { capacity: 64, seed: 3 }, localAddresses: [parseIp('10.0.0.200')] });
  const forwarding = { dr: Forwarding.DR, nat: Forwarding.NAT, tun: Forwarding.TUN, fnat: Forwarding.FNAT }[
    mode
  ];
  const svc = b.services.add({
    name: mode,
    protocol: 'tcp',
    address: parseIp('198.51.100.10'),
    port: 80,
    scheduler: 'rr',
    forwarding,
  });
  const rsPort = mode === 'dr' || mode === 'tun' ? 80 : 8080;
  svc.addDest({ address: parseIp('10.0.0.10'), port: rsPort, weight: 1 });
  const log: SentFrame[] = [];
  const pipeline = new Pipeline(b, [new RecordingSink(0, log)], {
    interfaces: [
      {
        mac: D0,
        addresses: [
          { address: parseIp('10.0.0.1'), prefixLen: 24 },
          { address: parseIp('203.0.113.1'), prefixLen: 24 },
        ],
      },
    ],
    routes: [{ prefix: parseIp('0.0.0.0'), prefixLen: 0, via: parseIp('203.0.113.254'), iface: 0 }],
    staticNeighbours: [
      { address: parseIp('203.0.113.254'), mac: GW },
      { address: parseIp('10.0.0.10'), mac: RS_MAC },
    ],
  });
  const frame = new MutableFrame();
  let now = 1000;
  return {
    rs: parseIp('10.0.0.10').words[0],
    rsPort,
    get back(): number {
      return mode === 'fnat' ? parseIp('10.0.0.200').words[0] : CLIENT;
    },
    get backPort(): number {
      if (mode !== 'fnat') return 40000;
      const k = newFlowKey();
      k.saddr[0] = CLIENT;
      k.daddr[0] = VIP;
      k.sport = 40000;
      k.dport = 80;
      return b.conns.lport(b.conns.lookupIn(k, now));
    },
    /** The pipeline's one output frame for `f` (which must be forwarded). */
    forward(f: Uint8Array): Uint8Array {
      log.length = 0;
      const v = pipeline.process(frame.set(f.slice(), 0, f.length, 0, 0), now++);
      assert.equal(v, Verdict.FORWARD, `pipeline verdict (reason ${pipeline.lastReason})`);
      assert.equal(log.length, 1);
      return log[0]!.bytes;
    },
  };
}

const VIP6 = '2001:db8:1::10';
const CLIENT6 = '2001:db8:c::77';
const RS6 = '2001:db8:10::10';

interface Tcp6 {
  srcMac: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  flags: number;
  payload: number;
}

/** Ethernet + IPv6 + TCP (timestamps option) with a correct checksum, to D0. */
function tcp6Frame(o: Tcp6): Uint8Array {
  const tcpLen = 32 + o.payload;
  const f = new Uint8Array(14 + 40 + tcpLen);
  const v = new DataView(f.buffer);
  v.setUint16(0, D0 / 2 ** 32);
  v.setUint32(2, D0 % 2 ** 32);
  v.setUint16(6, o.srcMac / 2 ** 32);
  v.setUint32(8, o.srcMac % 2 ** 32);
  v.setUint16(12, 0x86dd);
  v.setUint32(14, 0x60000000);
  v.setUint16(18, tcpLen);
  f[20] = 6;
  f[21] = 64;
  for (let i = 0; i < 4; i++) {
    v.setUint32(22 + 4 * i, parseIp(o.src).words[i]!);
    v.setUint32(38 + 4 * i, parseIp(o.dst).words[i]!);
  }
  v.setUint16(54, o.sport);
  v.setUint16(56, o.dport);
  v.setUint32(58, o.seq);
  v.setUint32(62, 1);
  f[66] = 8 << 4;
  f[67] = o.flags;
  v.setUint16(68, 64240);
  f.set(TS_OPTIONS, 74);
  for (let i = 0; i < o.payload; i++) f[86 + i] = (i * 7) & 255;
  v.setUint16(70, checksum(f, 54, tcpLen, pseudoSumV6At(f, 14, 6, tcpLen)));
  return f;
}

/** director() for IPv6: VIP 2001:db8:1::10, one real server 2001:db8:10::10, local address 2001:db8:10::200. */
function director6(mode: 'dr' | 'nat' | 'fnat') {
  const lip = parseIp('2001:db8:10::200');
  const b = new Balancer({ conntable: { capacity: 64, seed: 3 }, localAddresses: [lip] });
  const forwarding = { dr: Forwarding.DR, nat: Forwarding.NAT, fnat: Forwarding.FNAT }[mode];
  const svc = b.services.add({
    name: mode,
    protocol: 'tcp',
    address: parseIp(VIP6),
    port: 80,
    scheduler: 'rr',
    forwarding,
  });
  const rsPort = mode === 'dr' ? 80 : 8080;
  svc.addDest({ address: parseIp(RS6), port: rsPort, weight: 1 });
  const log: SentFrame[] = [];
  const pipeline = new Pipeline(b, [new RecordingSink(0, log)], {
    interfaces: [
      {
        mac: D0,
        addresses: [
          { address: parseIp('2001:db8:10::1'), prefixLen: 64 },
          { address: parseIp('2001:db8:203::1'), prefixLen: 64 },
        ],
      },
    ],
    routes: [{ prefix: parseIp('::'), prefixLen: 0, via: parseIp('2001:db8:203::fe'), iface: 0 }],
    staticNeighbours: [
      { address: parseIp('2001:db8:203::fe'), mac: GW },
      { address: parseIp(RS6), mac: RS_MAC },
    ],
  });
  const frame = new MutableFrame();
  let now = 1000;
  return {
    rsPort,
    back: () => (mode === 'fnat' ? '2001:db8:10::200' : CLIENT6),
    backPort(): number {
      if (mode !== 'fnat') return 40000;
      const k = newFlowKey();
      k.af = 6;
      k.saddr.set(parseIp(CLIENT6).words);
      k.daddr.set(parseIp(VIP6).words);
      k.sport = 40000;
      k.dport = 80;
      return b.conns.lport(b.conns.lookupIn(k, now));
    },
    forward(f: Uint8Array): Uint8Array {
      log.length = 0;
      const v = pipeline.process(frame.set(f.slice(), 0, f.length, 0, 0), now++);
      assert.equal(v, Verdict.FORWARD, `pipeline verdict (reason ${pipeline.lastReason})`);
      assert.equal(log.length, 1);
      return log[0]!.bytes;
    },
  };
}
