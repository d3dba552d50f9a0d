/**
 * Pipeline fuzzing, shared by the test (a bounded run) and `npm run bench -- pipeline --fuzz N`.
 *
 * Frames are random or mutated from the scenario fixtures (half of the mutants get their checksums
 * repaired so they reach the forwarders instead of dying at verification). Three identical pipelines run
 * in lockstep on each frame placed differently: inside two buffers poisoned with different random bytes
 * before and after it, and as an exact-size copy. Identical outputs prove no read outside the frame's
 * bytes (a read past an exact-size buffer gives undefined, which would show). Every frame sent must
 * re-parse cleanly with correct checksums (partial ones: exactly the pseudo-header sum).
 */

import { MutableFrame, RxStatus, VnetFlag, type VnetState } from '../../../src/engine/pipeline/index.js';
import { ArpPacket } from '../../../src/wire/arp.js';
import { readU16 } from '../../../src/wire/bytes.js';
import { checksum, checksumOk, fold, pseudoSumV4At, pseudoSumV6At } from '../../../src/wire/checksum.js';
import { EthernetFrame, EtherType } from '../../../src/wire/ethernet.js';
import { IpProto, Ipv4Packet } from '../../../src/wire/ipv4.js';
import { Ipv6Packet } from '../../../src/wire/ipv6.js';
import { Reason } from '../../../src/wire/reasons.js';
import { TcpPacket } from '../../../src/wire/tcp.js';
import { UdpPacket } from '../../../src/wire/udp.js';
import { type Built, build, fromHex, loadScenarios, type Setup, toHex } from './harness.js';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------ output validation

const eth = new EthernetFrame();
const ip4 = new Ipv4Packet();
const ip6 = new Ipv6Packet();
const tcp = new TcpPacket();
const udp = new UdpPacket();
const arp = new ArpPacket();

let judgeSums = true;

function checkL4(
  b: Uint8Array,
  v6: boolean,
  l3: number,
  proto: number,
  l4: number,
  len: number,
  partial: boolean,
): string | null {
  if (!judgeSums) {
    if (proto === IpProto.TCP) return tcp.reset(b, l4, len).check() === Reason.OK ? null : 'bad TCP header';
    if (proto === IpProto.UDP)
      return udp.reset(b, l4, len).check() === Reason.OK && udp.length === len ? null : 'bad UDP header';
    return null;
  }
  const pseudo = v6 ? pseudoSumV6At(b, l3, proto, len) : pseudoSumV4At(b, l3, proto, len);
  if (proto === IpProto.TCP) {
    if (tcp.reset(b, l4, len).check() !== Reason.OK) return 'bad TCP header';
    if (partial)
      return readU16(b, l4 + 16) === fold(pseudo) ? null : 'partial TCP sum is not the pseudo-header sum';
    return checksumOk(b, l4, len, pseudo) ? null : 'bad TCP checksum';
  }
  if (proto === IpProto.UDP) {
    if (udp.reset(b, l4, len).check() !== Reason.OK || udp.length !== len) return 'bad UDP header';
    if (partial)
      return readU16(b, l4 + 6) === fold(pseudo) ? null : 'partial UDP sum is not the pseudo-header sum';
    if (udp.checksum === 0) return v6 ? 'zero UDP checksum over IPv6' : null;
    return checksumOk(b, l4, len, pseudo) ? null : 'bad UDP checksum';
  }
  if (proto === IpProto.ICMP) return checksumOk(b, l4, len, 0) ? null : 'bad ICMP checksum';
  if (proto === IpProto.ICMPV6) return checksumOk(b, l4, len, pseudo) ? null : 'bad ICMPv6 checksum';
  return null;
}

/** Validates an IP packet filling exactly [off, end); `partialAt`: absolute L4 offset of a partial sum, or -1. */
function checkIp(b: Uint8Array, off: number, end: number, partialAt: number, depth: number): string | null {
  const v = b[off]! >>> 4;
  if (v === 4) {
    const ip = ip4.reset(b, off, end - off);
    if (ip.check() !== Reason.OK) return 'bad IPv4 header';
    if (!ip.verifyChecksum()) return 'bad IPv4 header checksum';
    if (ip.totalLen !== end - off) return 'IPv4 total length does not match the frame';
    if (ip.ttl === 0) return 'TTL 0 sent';
    const proto = ip.protocol;
    const l4 = ip.payloadOff;
    if ((proto === IpProto.IPIP || proto === IpProto.IPV6) && depth === 0)
      return checkIp(b, l4, end, partialAt, 1);
    if (ip.isFragment) return null;
    return checkL4(b, false, off, proto, l4, end - l4, partialAt === l4);
  }
  if (v === 6) {
    const ip = ip6.reset(b, off, end - off);
    if (ip.check() !== Reason.OK) return 'bad IPv6 header';
    if (ip.end !== end) return 'IPv6 payload length does not match the frame';
    const proto = ip.upperProto;
    const l4 = ip.upperOff;
    if ((proto === IpProto.IPIP || proto === IpProto.IPV6) && depth === 0)
      return checkIp(b, l4, end, partialAt, 1);
    if (!ip.hasL4Header) return null;
    return checkL4(b, true, off, proto, l4, end - l4, partialAt === l4);
  }
  return `IP version ${v}`;
}

/** `sums`: judge L4 checksums too (false when the input's were vouched for by the kernel, not checked). */
export function validateOutput(b: Uint8Array, vnet: VnetState | null, sums = true): string | null {
  judgeSums = sums;
  const e = eth.reset(b, 0, b.length);
  if (e.check() !== Reason.OK) return 'bad Ethernet header';
  if (e.etherType === EtherType.ARP)
    return arp.reset(b, e.payloadOff, b.length - e.payloadOff).check() === Reason.OK ? null : 'bad ARP';
  if (e.etherType !== EtherType.IPV4 && e.etherType !== EtherType.IPV6) return `ethertype ${e.etherType}`;
  const partial = vnet !== null && (vnet.vnetFlags & VnetFlag.NEEDS_CSUM) !== 0;
  if (partial && vnet!.csumStart + vnet!.csumOffset + 2 > b.length) return 'csum_start outside the frame';
  return checkIp(b, e.payloadOff, b.length, partial ? vnet!.csumStart : -1, 0);
}

// ------------------------------------------------------------------ input generation

/** Sets valid checksums on an Ethernet/IP(/TCP|UDP|ICMP) frame where it can; `partial` writes pseudo sums. */
export function repairChecksums(f: Uint8Array, partial: boolean): boolean {
  const e = eth.reset(f, 0, f.length);
  if (e.check() !== Reason.OK) return false;
  const off = e.payloadOff;
  let proto: number;
  let l4: number;
  let len: number;
  let pseudo: number;
  if (e.etherType === EtherType.IPV4) {
    const ip = ip4.reset(f, off, f.length - off);
    if (ip.check() !== Reason.OK) return false;
    ip.fillChecksum();
    if (ip.isFragment) return false;
    proto = ip.protocol;
    l4 = ip.payloadOff;
    len = ip.payloadLen;
    pseudo = pseudoSumV4At(f, off, proto, len);
  } else if (e.etherType === EtherType.IPV6) {
    const ip = ip6.reset(f, off, f.length - off);
    if (ip.check() !== Reason.OK || !ip.hasL4Header) return false;
    proto = ip.upperProto;
    l4 = ip.upperOff;
    len = ip.upperLen;
    pseudo = pseudoSumV6At(f, off, proto, len);
  } else {
    return false;
  }
  const at =
    proto === IpProto.TCP
      ? 16
      : proto === IpProto.UDP
        ? 6
        : proto === IpProto.ICMP || proto === IpProto.ICMPV6
          ? 2
          : -1;
  if (at < 0 || len < at + 2) return false;
  if (proto === IpProto.ICMP) pseudo = 0;
  if (proto === IpProto.UDP && len >= 8 && readU16(f, l4 + 4) !== len) return false;
  f[l4 + at] = 0;
  f[l4 + at + 1] = 0;
  const c =
    partial && (proto === IpProto.TCP || proto === IpProto.UDP) ? fold(pseudo) : checksum(f, l4, len, pseudo);
  f[l4 + at] = c >>> 8;
  f[l4 + at + 1] = c;
  return partial && (proto === IpProto.TCP || proto === IpProto.UDP);
}

export interface FuzzInput {
  bytes: Uint8Array;
  port: number;
  status: number;
  tci: number;
  vnet: VnetState | null;
  /** Its L4 checksums are either right or checked by the pipeline (not vouched for by the kernel). */
  sumsTrusted: boolean;
}

export class FrameSource {
  readonly #rand: () => number;
  readonly #seeds: FuzzInput[];

  constructor(seed: number, seeds: FuzzInput[]) {
    this.#rand = prng(seed);
    this.#seeds = seeds;
  }

  #int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  next(): FuzzInput {
    const r = this.#rand();
    if (r < 0.15) return this.#seeds[this.#int(this.#seeds.length)]!;
    if (r < 0.3) return this.#random();
    const base = this.#seeds[this.#int(this.#seeds.length)]!;
    const bytes = this.#mutate(base.bytes);
    // A partial input must carry the right pseudo-header sum for the output invariant to hold; inputs
    // the kernel "verified" (DATA_VALID) may carry anything, and their outputs' L4 sums are not judged.
    const wantPartial = (base.status & RxStatus.CSUMNOTREADY) !== 0 ? this.#rand() < 0.9 : this.#rand() < 0.1;
    let status = base.status & ~RxStatus.CSUMNOTREADY;
    let vnet: VnetState | null = null;
    let sumsTrusted = true;
    if ((wantPartial || this.#rand() < 0.5) && repairChecksums(bytes, wantPartial) && wantPartial) {
      status |= RxStatus.CSUMNOTREADY;
      if (base.vnet && this.#rand() < 0.5) vnet = base.vnet; // may no longer point at the L4 header
    }
    if (this.#rand() < 0.02) {
      vnet = this.#randomVnet();
      sumsTrusted = (vnet.vnetFlags & (VnetFlag.NEEDS_CSUM | VnetFlag.DATA_VALID)) === 0;
    }
    return {
      bytes,
      port: this.#rand() < 0.95 ? base.port : this.#int(3),
      status,
      tci: base.tci,
      vnet,
      sumsTrusted,
    };
  }

  #randomVnet(): VnetState {
    const i = () => this.#int(200);
    return {
      vnetFlags: this.#int(4),
      gsoType: [0, 1, 3, 4, 5][this.#int(5)]!,
      hdrLen: i(),
      gsoSize: this.#int(2000),
      csumStart: i(),
      csumOffset: [6, 16, i()][this.#int(3)]!,
    };
  }

  #random(): FuzzInput {
    const f = new Uint8Array(this.#int(200));
    for (let i = 0; i < f.length; i++) f[i] = this.#int(256);
    if (f.length >= 14) {
      const macs = [0x020000000d00, 0xffffffffffff];
      const m = macs[this.#int(2)]!;
      for (let i = 0; i < 6; i++) f[i] = Math.floor(m / 2 ** (8 * (5 - i))) & 255;
      const t = [0x0800, 0x86dd, 0x0806, 0x8100][this.#int(4)]!;
      f[12] = t >> 8;
      f[13] = t & 255;
    }
    return { bytes: f, port: this.#int(2), status: 0, tci: 0, vnet: null, sumsTrusted: true };
  }

  #mutate(src: Uint8Array): Uint8Array {
    let f = src.slice();
    for (let n = 1 + this.#int(3); n > 0; n--) {
      const pos = this.#rand() < 0.8 ? this.#int(Math.min(f.length, 80)) : this.#int(Math.max(f.length, 1));
      switch (this.#int(7)) {
        case 0:
          f[pos] = f[pos]! ^ (1 << this.#int(8));
          break;
        case 1:
          f[pos] = [0, 0xff, this.#int(256), 1, 2, 0x10, 0x12, 0x04, 0x45, 0x60][this.#int(10)]!;
          break;
        case 2:
          f = f.slice(0, this.#int(f.length + 1));
          break;
        case 3: {
          const g = new Uint8Array(f.length + 1 + this.#int(60));
          g.set(f);
          for (let i = f.length; i < g.length; i++) g[i] = this.#int(256);
          f = g;
          break;
        }
        case 4: {
          const v = [0, 0xffff, f.length, f.length - 14, f.length - 34, this.#int(0x10000)][this.#int(6)]!;
          f[pos] = v >> 8;
          f[pos + 1] = v & 255;
          break;
        }
        case 5: {
          const g = new Uint8Array(f.length + 1);
          g.set(f.subarray(0, pos));
          g[pos] = this.#int(256);
          g.set(f.subarray(pos), pos + 1);
          f = g;
          break;
        }
        default: {
          const g = new Uint8Array(Math.max(0, f.length - 1));
          g.set(f.subarray(0, pos));
          g.set(f.subarray(pos + 1), pos);
          f = g;
        }
      }
    }
    return f;
  }
}

export function scenarioInputs(): { topology: never; inputs: FuzzInput[]; setups: Setup[] } {
  const { topology, scenarios } = loadScenarios() as {
    topology: never;
    scenarios: {
      setup: Setup;
      steps: { in: { port: number; hex: string; status: number; tci: number; vnet: VnetState | null } }[];
    }[];
  };
  const inputs: FuzzInput[] = [];
  for (const s of scenarios)
    for (const st of s.steps) inputs.push({ ...st.in, bytes: fromHex(st.in.hex), sumsTrusted: true });
  return { topology, inputs, setups: scenarios.map((s) => s.setup) };
}

// ------------------------------------------------------------------ the run

const POISON = new Uint8Array(1 << 16);

export interface FuzzResult {
  frames: number;
  sent: number;
  verdicts: number[];
  problems: string[];
  /** The pipeline's counters at the end (what the mix reached). */
  counters: Record<string, number>;
}

/** Runs `count` frames through three lockstep pipelines; problems are returned, not thrown. */
export function runFuzz(count: number, seed: number, maxProblems = 10): FuzzResult {
  const { topology, inputs } = scenarioInputs();
  const rand = prng(seed ^ 0x9e3779b9);
  for (let i = 0; i < POISON.length; i++) POISON[i] = Math.floor(rand() * 256);
  const runs: Built[] = [0, 1, 2].map(() => build(topology, { portRange: [40000, 40063] }, 2048));
  const src = new FrameSource(seed, inputs);
  const arenas = [new Uint8Array(8192), new Uint8Array(8192)];
  const frame = new MutableFrame();
  const verdicts = [0, 0, 0, 0];
  const problems: string[] = [];
  let sent = 0;
  let now = 1_000_000;
  for (let i = 0; i < count && problems.length < maxProblems; i++) {
    const inp = src.next();
    now += 1;
    const traces: string[] = [];
    for (let k = 0; k < 3; k++) {
      const { pipeline, log } = runs[k]!;
      log.length = 0;
      let buf: Uint8Array;
      let off: number;
      if (k < 2) {
        buf = arenas[k]!;
        const p = (i * 7919 + k * 4099) % (POISON.length - buf.length);
        buf.set(POISON.subarray(p, p + buf.length));
        off = 13 + k * 50;
        buf.set(inp.bytes, off);
      } else {
        buf = inp.bytes.slice();
        off = 0;
      }
      frame.set(buf, off, inp.bytes.length, inp.port, inp.status);
      frame.vlanTci = inp.tci;
      if (inp.vnet) Object.assign(frame, inp.vnet);
      let v: number;
      try {
        v = pipeline.process(frame, now);
      } catch (err) {
        problems.push(`frame ${i} (${toHex(inp.bytes)}): threw ${(err as Error).stack}`);
        break;
      }
      if (k === 2) {
        verdicts[v]!++;
        sent += log.length;
        for (const o of log) {
          const why = validateOutput(o.bytes, o.vnet, inp.sumsTrusted);
          if (why) problems.push(`frame ${i} (${toHex(inp.bytes)}) -> ${toHex(o.bytes)}: ${why}`);
        }
      }
      traces.push(
        `${v}|${pipeline.lastReason}|${log.map((o) => `${o.port}:${toHex(o.bytes)}:${JSON.stringify(o.vnet)}`).join(',')}`,
      );
      if (i % 1024 === 0) pipeline.tick(now);
    }
    if (traces.length === 3 && (traces[0] !== traces[1] || traces[1] !== traces[2])) {
      problems.push(
        `frame ${i} (${toHex(inp.bytes)}): outputs depend on the bytes around it:\n${traces.join('\n')}`,
      );
    }
  }
  return { frames: count, sent, verdicts, problems, counters: runs[2]!.pipeline.counters() };
}
