/**
 * Pipeline throughput on one core without I/O: frames from a pre-built array (one arena, as the worker's
 * ring mapping), outputs into a sink over the same arena, processBatch in batches of 64 as the packet loop
 * would call it. Per mode, a realistic mix over `--flows` established sessions: mostly data packets of
 * established sessions in random order (NAT/FNAT: replies too), 5% SYNs of new connections. Also the
 * single-frame path and the bytes allocated per frame in the steady state (new-space growth). Rates are
 * frames per second of CPU time (see `pass`).
 *
 *   npm run bench -- pipeline [--flows 100000] [--frames 262144] [--reps 5] [--modes dr,nat] [--cpu N|none]
 *                             [--v8-defaults]
 *
 * V8's inlining budgets are raised as the packet worker raises them (src/dataplane/packet/v8-tuning.ts);
 * `--v8-defaults` measures with V8's own.
 *
 * The measuring thread is pinned to one CPU (the last, unless `--cpu` says otherwise): "one core" as the
 * figure means it, and without migrations, which on a small VM moved the median of a run by 20%.
 *   npm run bench -- pipeline --fuzz 1000000      (the test suite's fuzz, at any size)
 */
import os from 'node:os';
import v8 from 'node:v8';
import { adviseHugePages } from '../../src/dataplane/hugepages.js';
import { DEFAULT_BATCH_SIZE } from '../../src/dataplane/packet/loop.js';
import { pinThreadToCpu } from '../../src/dataplane/packet/sched.js';
import { PACKET_PATH_V8_FLAGS, tuneV8ForPacketPath } from '../../src/dataplane/packet/v8-tuning.js';
import { parseIp } from '../../src/engine/addr.js';
import { Balancer } from '../../src/engine/balancer.js';
import { Forwarding, type ForwardingMethod } from '../../src/engine/forwarding.js';
import { type FrameSink, MutableFrame, Pipeline, RxStatus } from '../../src/engine/pipeline/index.js';
import { newFlowKey } from '../../src/engine/schedulers/scheduler.js';
import { readU16, writeU16 } from '../../src/wire/bytes.js';
import { csumUpdate16 } from '../../src/wire/checksum.js';
import { type Figure, median, printResults, xorshift } from '../lib/report.js';
import { SYN_OPTIONS, TS_OPTIONS, writeTcpFrame } from './frames.js';

const D0 = 0x0200_0000_0d00;
const GW = 0x0200_0000_0ffe;
const VIP = parseIp('198.51.100.10').words[0];
const RS = (i: number) => (0x0a00000a + i) >>> 0; // 10.0.0.10 + i
const RS_MAC = (i: number) => 0x0200_0000_0a00 + i;
const CLIENT = (i: number) => (0xc0000000 + (i >>> 8) * 256 + (i & 255) + 0x10000) >>> 0; // 192.1.x.y
const N_RS = 8;
/** Frames per processBatch call: what the packet worker's loop hands over from one ring by default. */
const BATCH = DEFAULT_BATCH_SIZE;
const FRAME_SLOT = 192;

class BenchSink implements FrameSink {
  readonly buf: Uint8Array;
  readonly capacity = 2048;
  readonly slot: number;
  sent = 0;
  constructor(buf: Uint8Array, slot: number) {
    this.buf = buf;
    this.slot = slot;
  }
  acquire(): number {
    return this.slot;
  }
  send(): boolean {
    this.sent++;
    return true;
  }
}

interface Env {
  name: string;
  pipeline: Pipeline;
  sink: BenchSink;
  batches: MutableFrame[][];
  /** Offsets of SYN frames whose client port is rotated before each pass, so they open new sessions. */
  syns: number[];
  arena: Uint8Array;
  frames: number;
}

type Mode = 'dr' | 'nat' | 'tun' | 'fnat' | 'fnat_toa' | 'fnat_proxy';

function method(m: Mode): ForwardingMethod {
  if (m === 'dr') return Forwarding.DR;
  if (m === 'nat') return Forwarding.NAT;
  if (m === 'tun') return Forwarding.TUN;
  return Forwarding.FNAT;
}

function build(mode: Mode, flows: number, perPass: number, reps: number, csumValid: boolean): Env {
  const rnd = xorshift(0xbe11c4 ^ flows);
  const fwd = method(mode);
  const synShare = mode === 'fnat_toa' ? 0 : 0.05;
  const capacity = flows + Math.ceil(perPass * synShare * (reps + 8)) + 1024;
  const b = new Balancer({
    conntable: { capacity, seed: 11 },
    random: () => 0.5,
    localAddresses: [
      parseIp('10.0.0.200'),
      parseIp('10.0.0.201'),
      parseIp('10.0.0.202'),
      parseIp('10.0.0.203'),
    ],
  });
  // As the packet worker does (src/dataplane/packet/handlers/lvs.ts): huge pages for the session table,
  // before its first write. Without them every random bucket and entry access also pays a TLB miss the
  // forwarder does not.
  adviseHugePages(b.conns.largeArrays);
  const svc = b.services.add({
    name: 'bench',
    protocol: 'tcp',
    address: parseIp('198.51.100.10'),
    port: 80,
    scheduler: 'wlc',
    forwarding: fwd,
  });
  for (let i = 0; i < N_RS; i++)
    svc.addDest({ address: { family: 4, words: [RS(i), 0, 0, 0] }, port: 8080, weight: 1 });
  const synCount = Math.ceil(perPass * synShare);
  // Templates of every frame, then the ring: the pass's frames laid out in processing order, as a
  // packet ring hands them over (sequential, so the header bytes of frame k+1 are prefetched).
  const tpl = new Uint8Array((flows * 2 + synCount + 64) * FRAME_SLOT);
  const arena = new Uint8Array(perPass * FRAME_SLOT + 4096);
  const txSlot = perPass * FRAME_SLOT + 64;
  const sink = new BenchSink(arena, txSlot);
  const pipeline = new Pipeline(b, [sink], {
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
      ...Array.from({ length: N_RS }, (_, i) => ({
        address: { family: 4 as const, words: [RS(i), 0, 0, 0] as const },
        mac: RS_MAC(i),
      })),
    ],
  });
  if (mode === 'fnat_proxy') pipeline.setServiceOptions(svc.id, { proxyProtocol: 2 });
  if (mode === 'fnat') pipeline.setServiceOptions(svc.id, { toa: true });
  const status = csumValid ? RxStatus.CSUM_VALID : 0;
  const scratch = new MutableFrame();
  const tmp = new Uint8Array(FRAME_SLOT);
  const now = clock - 1;
  // Establish every flow: client SYN, then (NAT/FNAT) the RS's SYN-ACK, then (except fnat_toa, where the
  // RS must not have answered yet so every client segment carries TOA) the RS's ACK and the client's ACK.
  const key = newFlowKey();
  key.daddr[0] = VIP;
  key.dport = 80;
  const rsPort = new Uint32Array(flows);
  const rsAddr = new Uint32Array(flows);
  const back = new Uint32Array(flows);
  const backPort = new Uint16Array(flows);
  const sees = fwd === Forwarding.NAT || fwd === Forwarding.FNAT;
  for (let i = 0; i < flows; i++) {
    const c = CLIENT(i);
    const cport = 1024 + (i % 60000);
    const len = writeTcpFrame(tmp, 0, {
      srcMac: GW,
      dstMac: D0,
      src: c,
      dst: VIP,
      sport: cport,
      dport: 80,
      seq: 1000,
      ack: 0,
      flags: 0x02,
      payload: 0,
      options: SYN_OPTIONS,
    });
    pipeline.process(scratch.set(tmp, 0, len), now);
    key.saddr[0] = c;
    key.sport = cport;
    const conn = b.conns.lookupIn(key, now);
    if (conn === 0) throw new Error(`${mode}: flow ${i} not created (${pipeline.lastReason})`);
    const d = b.conns.dest(conn);
    rsAddr[i] = b.dests.addr[d * 4]!;
    rsPort[i] = b.conns.dport(conn);
    back[i] = fwd === Forwarding.FNAT ? b.lips!.addr[b.conns.lip(conn) * 4]! : c;
    backPort[i] = fwd === Forwarding.FNAT ? b.conns.lport(conn) : cport;
    if (!sees || mode === 'fnat_toa') continue;
    const dmac = RS_MAC(rsAddr[i]! - RS(0));
    const sa = writeTcpFrame(tmp, 0, {
      srcMac: dmac,
      dstMac: D0,
      src: rsAddr[i]!,
      dst: back[i]!,
      sport: rsPort[i]!,
      dport: backPort[i]!,
      seq: 5000,
      ack: 1001,
      flags: 0x12,
      payload: 0,
      options: SYN_OPTIONS,
    });
    pipeline.process(scratch.set(tmp, 0, sa), now);
    const ra = writeTcpFrame(tmp, 0, {
      srcMac: dmac,
      dstMac: D0,
      src: rsAddr[i]!,
      dst: back[i]!,
      sport: rsPort[i]!,
      dport: backPort[i]!,
      seq: 5001,
      ack: 1001,
      flags: 0x10,
      payload: 0,
      options: TS_OPTIONS,
    });
    pipeline.process(scratch.set(tmp, 0, ra), now);
  }
  // The measured frames: client data of every flow, RS data of every flow (NAT/FNAT), new SYNs.
  const offs: number[] = [];
  let slot = 0;
  for (let i = 0; i < flows; i++) {
    const off = slot++ * FRAME_SLOT;
    const payload = mode === 'fnat_proxy' ? 64 : 64;
    writeTcpFrame(tpl, off, {
      srcMac: GW,
      dstMac: D0,
      src: CLIENT(i),
      dst: VIP,
      sport: 1024 + (i % 60000),
      dport: 80,
      seq: mode === 'fnat_proxy' ? 1101 : 1001,
      ack: 5001,
      flags: 0x18,
      payload,
      options: TS_OPTIONS,
    });
    offs.push(off);
    if (!sees || mode === 'fnat_toa') continue;
    const o2 = slot++ * FRAME_SLOT;
    writeTcpFrame(tpl, o2, {
      srcMac: RS_MAC(rsAddr[i]! - RS(0)),
      dstMac: D0,
      src: rsAddr[i]!,
      dst: back[i]!,
      sport: rsPort[i]!,
      dport: backPort[i]!,
      seq: 5001,
      ack: 1065,
      flags: 0x18,
      payload: 64,
      options: TS_OPTIONS,
    });
    offs.push(o2);
  }
  const synTpl: number[] = [];
  for (let k = 0; k < synCount; k++) {
    const off = slot++ * FRAME_SLOT;
    writeTcpFrame(tpl, off, {
      srcMac: GW,
      dstMac: D0,
      src: CLIENT(flows + k),
      dst: VIP,
      sport: 1024,
      dport: 80,
      seq: 1000,
      ack: 0,
      flags: 0x02,
      payload: 0,
      options: SYN_OPTIONS,
    });
    synTpl.push(off);
  }
  // A pass: perPass frames, data in random order with the SYNs spread among them.
  const syns: number[] = [];
  const frames: MutableFrame[] = [];
  let s = 0;
  for (let k = 0; k < perPass; k++) {
    const isSyn = s < synTpl.length && (k * synTpl.length) / perPass >= s;
    const from = isSyn ? synTpl[s++]! : offs[rnd() % offs.length]!;
    const off = k * FRAME_SLOT;
    const len = 14 + readU16(tpl, from + 16);
    arena.set(tpl.subarray(from, from + len), off);
    if (isSyn) syns.push(off);
    frames.push(new MutableFrame().set(arena, off, len, 0, status));
  }
  const batches: MutableFrame[][] = [];
  for (let k = 0; k < frames.length; k += BATCH) batches.push(frames.slice(k, k + BATCH));
  return { name: mode, pipeline, sink, batches, syns, arena, frames: frames.length };
}

/** Gives each SYN frame a fresh client port (checksum updated), so every pass opens new sessions. */
function rotateSyns(env: Env, pass: number): void {
  const a = env.arena;
  for (const off of env.syns) {
    const p = off + 34;
    const old = readU16(a, p);
    const v = 1024 + ((pass + 1) % 60000);
    writeU16(a, p, v);
    writeU16(a, p + 16, csumUpdate16(readU16(a, p + 16), old, v));
  }
}

const out = new Uint8Array(BATCH);
/**
 * The clock passed as `now`. `--epoch-clock` starts it at Date.now() (about 1.7e12 ms, not a small
 * integer for V8): what the loop passes must not make the pipeline allocate either.
 */
let clock = 1_000_001;

/**
 * One pass; returns the milliseconds of CPU the process used (user + system). The benchmark box is shared,
 * so wall time also counts other processes' turns on this core; CPU time does not (the pipeline is one
 * thread and allocates nothing, so GC helper threads add next to nothing). The wall time goes to `wall`.
 */
function pass(env: Env, single: boolean): number {
  const p = env.pipeline;
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  const batches = env.batches;
  for (let k = 0; k < batches.length; k++) {
    const batch = batches[k]!;
    if (single) for (let j = 0; j < batch.length; j++) p.process(batch[j]!, clock);
    else p.processBatch(batch, batch.length, clock, out);
    if ((k & 63) === 63) {
      clock++;
      p.tick(clock);
    }
  }
  const c = process.cpuUsage(c0);
  wall.push(performance.now() - w0);
  return (c.user + c.system) / 1000;
}

const wall: number[] = [];

function newSpaceUsed(): number {
  let s = 0;
  for (const sp of v8.getHeapSpaceStatistics()) {
    if (sp.space_name === 'new_space' || sp.space_name === 'new_large_object_space') s += sp.space_used_size;
  }
  return s;
}

/** Young-generation bytes allocated per frame over a pass (retried when a scavenge hides the growth). */
function allocPerFrame(env: Env): number {
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 5; attempt++) {
    rotateSyns(env, 1000 + attempt);
    const before = newSpaceUsed();
    pass(env, false);
    const grown = newSpaceUsed() - before;
    if (grown >= 0) best = Math.min(best, grown / env.frames);
  }
  return best;
}

function pinMeasuringThread(args: string[]): void {
  const i = args.indexOf('--cpu');
  const want = i >= 0 ? args[i + 1] : String(os.availableParallelism() - 1);
  if (want === 'none') return;
  try {
    pinThreadToCpu(Number(want));
    console.log(`measuring thread pinned to CPU ${want}`);
  } catch (e) {
    console.log(`measuring thread not pinned (${(e as Error).message})`);
  }
}

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--fuzz')) {
    const { runFuzz } = await import('../../test/engine/pipeline/fuzz-lib.js');
    const n = arg(args, '--fuzz', 1_000_000);
    const t0 = performance.now();
    const r = runFuzz(n, arg(args, '--seed', 0x5eed_7001), 20);
    const s = (performance.now() - t0) / 1000;
    console.log(
      `fuzz: ${n} frames in ${s.toFixed(1)} s, verdicts drop/forward/pass/reply ${r.verdicts.join('/')}, ${r.sent} frames sent`,
    );
    for (const p of r.problems) console.log(`PROBLEM ${p}`);
    printResults([{ metric: 'pipeline_fuzz_problems', value: r.problems.length, unit: '' }]);
    return;
  }
  if (args.includes('--epoch-clock')) clock = Date.now();
  // The packet worker's V8 settings (src/dataplane/packet/v8-tuning.ts), unless asked to measure without.
  if (args.includes('--v8-defaults')) console.log('V8 inlining budgets: the defaults (--v8-defaults)');
  else {
    tuneV8ForPacketPath();
    console.log(`V8 inlining budgets as the packet worker sets them: ${PACKET_PATH_V8_FLAGS.join(' ')}`);
  }
  pinMeasuringThread(args);
  const flows = arg(args, '--flows', 100_000);
  const perPass = arg(args, '--frames', 262_144);
  const reps = arg(args, '--reps', 5);
  const figures: Figure[] = [];
  const mi = args.indexOf('--modes');
  const modes: Mode[] =
    mi >= 0 ? (args[mi + 1]!.split(',') as Mode[]) : ['dr', 'nat', 'tun', 'fnat', 'fnat_toa', 'fnat_proxy'];
  const checks = args.includes('--no-csum-valid') ? [false] : [false, true];
  let worstAlloc = 0;
  for (const mode of modes) {
    for (const csumValid of checks) {
      const env = build(mode, flows, perPass, reps, csumValid);
      rotateSyns(env, 0);
      pass(env, false); // warm-up: JIT, caches
      const times: number[] = [];
      wall.length = 0;
      for (let r = 0; r < reps; r++) {
        rotateSyns(env, r + 1);
        times.push(pass(env, false));
      }
      const fps = Math.round(env.frames / (median(times) / 1000));
      const wallFps = Math.round(env.frames / (median(wall) / 1000));
      const bestFps = Math.round(env.frames / (Math.min(...times) / 1000));
      const sent = env.sink.sent;
      rotateSyns(env, 500);
      const singleFps = Math.round(env.frames / (pass(env, true) / 1000));
      const alloc = allocPerFrame(env);
      const c = env.pipeline.counters();
      const note = csumValid ? ' (kernel-verified checksums)' : '';
      console.log(
        `${mode}${note}: ${fps} frames/s batched (best pass ${bestFps}, ${wallFps} by wall clock), ${singleFps} one at a time; ${alloc.toFixed(2)} B/frame allocated; sent ${sent}, drops ${c.verdict_drop ?? 0}, sessions ${env.pipeline.balancer.conns.count}`,
      );
      if (!csumValid) {
        figures.push({ metric: `pipeline_${mode}_fps`, value: fps, unit: '' });
        figures.push({ metric: `pipeline_${mode}_single_fps`, value: singleFps, unit: '' });
      } else {
        figures.push({ metric: `pipeline_${mode}_csum_valid_fps`, value: fps, unit: '' });
      }
      worstAlloc = Math.max(worstAlloc, alloc);
    }
  }
  figures.push({
    metric: 'pipeline_alloc_bytes_per_frame',
    value: Math.round(worstAlloc * 100) / 100,
    unit: 'B',
  });
  printResults(figures);
}
