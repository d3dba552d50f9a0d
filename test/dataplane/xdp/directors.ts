/**
 * Directors for the fast-path equivalence tests: one interface, one TCP service to one real server, in
 * each forwarding method over IPv4 (`director`) and DR/NAT/Full-NAT over IPv6 (`director6`, with
 * `tcp6Frame` to build segments). `forward` runs a frame through the pipeline and returns what it sent.
 */
import assert from 'node:assert/strict';
import { TS_OPTIONS } from '../../../bench/pipeline/frames.js';
import { Bpf, MapType, ProgType } from '../../../src/dataplane/xdp/bpf.js';
import { fastPathProgram, KEY, VAL } from '../../../src/dataplane/xdp/fastpath-prog.js';
import { KEY6, VAL6 } from '../../../src/dataplane/xdp/fastpath-prog6.js';
import { parseIp } from '../../../src/engine/addr.js';
import { Balancer } from '../../../src/engine/balancer.js';
import { Forwarding } from '../../../src/engine/forwarding.js';
import { MutableFrame, Pipeline, Verdict } from '../../../src/engine/pipeline/index.js';
import { newFlowKey } from '../../../src/engine/schedulers/scheduler.js';
import { checksum, pseudoSumV6At } from '../../../src/wire/checksum.js';
import { RecordingSink, type SentFrame } from '../../engine/pipeline/harness.js';

export const D0 = 0x0200_0000_0d00;
export const GW = 0x0200_0000_0ffe;
export const RS_MAC = 0x0200_0000_0a0a;
export const VIP = parseIp('198.51.100.10').words[0];
export const CLIENT = parseIp('192.0.2.77').words[0];

/** What a one-service director is built from (addresses as text, either family). */
interface DirectorSpec {
  mode: 'dr' | 'nat' | 'tun' | 'fnat';
  vip: string;
  client: string;
  rs: string;
  lip: string;
  own: [string, number][];
  gateway: string;
  defaultRoute: string;
  proxyProtocol: 0 | 2;
}

/**
 * One interface (MAC D0) with the `own` addresses, a default route to `gateway`, one TCP service VIP:80
 * with one real server (port 80 in DR/TUN, 8080 otherwise) and Full-NAT local address `lip`. `backPort()`
 * is where the real server answers (the client's port, or the local port Full-NAT chose).
 */
function oneService(o: DirectorSpec) {
  const b = new Balancer({ conntable: { capacity: 64, seed: 3 }, localAddresses: [parseIp(o.lip)] });
  const forwarding = { dr: Forwarding.DR, nat: Forwarding.NAT, tun: Forwarding.TUN, fnat: Forwarding.FNAT }[
    o.mode
  ];
  const svc = b.services.add({
    name: o.mode,
    protocol: 'tcp',
    address: parseIp(o.vip),
    port: 80,
    scheduler: 'rr',
    forwarding,
  });
  const rsPort = o.mode === 'dr' || o.mode === 'tun' ? 80 : 8080;
  svc.addDest({ address: parseIp(o.rs), port: rsPort, weight: 1 });
  const log: SentFrame[] = [];
  const pipeline = new Pipeline(b, [new RecordingSink(0, log)], {
    interfaces: [{ mac: D0, addresses: o.own.map(([a, len]) => ({ address: parseIp(a), prefixLen: len })) }],
    routes: [{ prefix: parseIp(o.defaultRoute), prefixLen: 0, via: parseIp(o.gateway), iface: 0 }],
    staticNeighbours: [
      { address: parseIp(o.gateway), mac: GW },
      { address: parseIp(o.rs), mac: RS_MAC },
    ],
  });
  if (o.proxyProtocol) pipeline.setServiceOptions(svc.id, { proxyProtocol: o.proxyProtocol, toa: false });
  const frame = new MutableFrame();
  let now = 1000;
  return {
    rsPort,
    backPort(): number {
      if (o.mode !== 'fnat') return 40000;
      const k = newFlowKey();
      const client = parseIp(o.client);
      k.af = client.family;
      k.saddr.set(client.words);
      k.daddr.set(parseIp(o.vip).words);
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

/** A one-interface director with one TCP service to one real server, as the fixtures' topology has it. */
export function director(mode: 'dr' | 'nat' | 'tun' | 'fnat') {
  const d = oneService({
    mode,
    vip: '198.51.100.10',
    client: '192.0.2.77',
    rs: '10.0.0.10',
    lip: '10.0.0.200',
    own: [
      ['10.0.0.1', 24],
      ['203.0.113.1', 24],
    ],
    gateway: '203.0.113.254',
    defaultRoute: '0.0.0.0',
    proxyProtocol: 0,
  });
  return {
    ...d,
    rs: parseIp('10.0.0.10').words[0],
    get back(): number {
      return mode === 'fnat' ? parseIp('10.0.0.200').words[0] : CLIENT;
    },
    get backPort(): number {
      return d.backPort();
    },
  };
}

export const VIP6 = '2001:db8:1::10';
export const CLIENT6 = '2001:db8:c::77';
export const RS6 = '2001:db8:10::10';

interface Tcp6 {
  srcMac: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  flags: number;
  payload: number;
  ack?: number;
}

/** Ethernet + IPv6 + TCP (timestamps option) with a correct checksum, to D0. */
export function tcp6Frame(o: Tcp6): Uint8Array {
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
  v.setUint32(62, o.ack ?? 1);
  f[66] = 8 << 4;
  f[67] = o.flags;
  v.setUint16(68, 64240);
  f.set(TS_OPTIONS, 74);
  for (let i = 0; i < o.payload; i++) f[86 + i] = (i * 7) & 255;
  v.setUint16(70, checksum(f, 54, tcpLen, pseudoSumV6At(f, 14, 6, tcpLen)));
  return f;
}

/** director() for IPv6: VIP 2001:db8:1::10, one real server 2001:db8:10::10, local address 2001:db8:10::200. */
export function director6(mode: 'dr' | 'nat' | 'fnat', proxyProtocol: 0 | 2 = 0) {
  const d = oneService({
    mode,
    vip: VIP6,
    client: CLIENT6,
    rs: RS6,
    lip: '2001:db8:10::200',
    own: [
      ['2001:db8:10::1', 64],
      ['2001:db8:203::1', 64],
    ],
    gateway: '2001:db8:203::fe',
    defaultRoute: '::',
    proxyProtocol,
  });
  return { ...d, back: () => (mode === 'fnat' ? '2001:db8:10::200' : CLIENT6) };
}

/** The fast-path program loaded with fresh maps (1024 entries each), for BPF_PROG_TEST_RUN. */
/** Key and value buffers for both maps' entries. */
export function entryBuffers() {
  return {
    key: new Uint8Array(KEY.LEN),
    value: new Uint8Array(VAL.LEN),
    key6: new Uint8Array(KEY6.LEN),
    value6: new Uint8Array(VAL6.LEN),
  };
}

export function loadFastPath() {
  const bpf = new Bpf();
  const map = bpf.mapCreate(MapType.HASH, KEY.LEN, VAL.LEN, 1024, 'tslvs_test');
  const map6 = bpf.mapCreate(MapType.HASH, KEY6.LEN, VAL6.LEN, 1024, 'tslvs_test6');
  const prog = bpf.progLoad(ProgType.XDP, fastPathProgram(map, map6).bytes(), 'tslvs_test');
  return {
    bpf,
    map,
    map6,
    prog,
    close() {
      bpf.close(prog);
      bpf.close(map);
      bpf.close(map6);
      bpf.dispose();
    },
  };
}
