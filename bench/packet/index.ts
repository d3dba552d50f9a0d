/**
 * `npm run bench -- packet [--seconds S] [--repeat N] [--compared-repeat N] [--warmup S] [--flows N]
 *                          [--frame-len B] [--generators N] [--modes a,b] [--generator xdp|ring]`
 *
 * Forwarding throughput of one director core: a generator namespace blasts bounded bursts of small UDP
 * frames at the director, which forwards them to a sink namespace; we count what the sink receives and
 * how busy the director's CPU was. The same run measures the kernel (routing, nftables DNAT) as the peer
 * to beat, then the tslvs packet worker. Needs root, two CPUs and a C compiler.
 *
 * The generator sends XDP frames (`xdp`, the default where the kernel has live-frame test runs): the
 * director's veth then receives pages with headroom, as from a NIC, in every mode. With `ring` (an
 * AF_PACKET TX ring) it receives socket buffers whose data lives in another socket's ring, which a native
 * XDP program on veth must first copy into a page of its own, and free on the director's CPU: a cost no
 * NIC has, and only the XDP modes pay. (Measured here: that copy and free were about half the director's
 * work in packet_dr_xdp.) The generic hook copies them too, as it copies a NIC driver's buffers (less than
 * 256 bytes of headroom): with `ring` the default director on veth (generic) is measured as it would run
 * on a NIC with the generic hook, which is why `dataplane.xdp: auto` takes the driver hook on NICs.
 */
import { cpus } from 'node:os';

/** /proc/stat unit (sysconf(_SC_CLK_TCK)); 100 on every mainstream Linux build. */
const USER_HZ = 100;

import { libc } from '../../src/dataplane/packet/libc.js';
import { run } from '../../test/helpers/netns.js';
import { buildGenerator, type Generator, runBurst } from './generator.js';
import { type BenchMode, BOOST, MODES } from './modes.js';
import {
  buildTopology,
  cpuSample,
  type GeneratorEngine,
  inputRingDrops,
  ksoftirqd,
  niceOf,
  rxPackets,
  type Topology,
  threadTicks,
} from './topology.js';

interface Options {
  /** Generator processes (at most one per non-director CPU). */
  generators: number;
  /**
   * Runs per mode; the best is reported (interference from other work only ever slows a run down, and
   * paced runs look for the rate an overloaded director still delivers).
   */
  repeat: number;
  /**
   * Runs of the compared modes (kernel_dnat and the default director's packet_<mode>): this VM's speed
   * swings by 2x for seconds at a time, and the comparison is what the benchmark is for, so both of its
   * sides get more chances at a quiet spell than the informative modes.
   */
  comparedRepeat: number;
  seconds: number;
  warmup: number;
  flows: number;
  frameLen: number;
  maxPackets: number;
  modes: readonly BenchMode[];
  generator: GeneratorEngine;
}

interface Row {
  mode: BenchMode;
  offeredKpps: number;
  kpps: number;
  /** Lost before the director saw them: its input ring was full (xdp generator; see inputRingDrops). */
  inputLostKpps: number;
  /** Percent of the director CPU: all director work, the worker thread's share, unrelated tasks. */
  worker: number;
  others: number;
  cpu: number;
  cpuPer100: number;
  details: Record<string, number | string>;
}

export async function main(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  const skip = skipReason();
  if (skip) {
    console.log(`packet benchmark skipped: ${skip}`);
    return;
  }
  // CPU 0 is the director's. The generators take every other CPU (one process each); the sink's receive
  // work and this process share the last one.
  const n = cpus().length;
  const directorCpu = 0;
  const sideCpu = n - 1;
  const generatorCpus = Array.from({ length: Math.min(n - 1, opts.generators) }, (_, i) => i + 1);
  pinMainThread(sideCpu);
  const gen = await buildGenerator();
  if (typeof gen === 'string') {
    console.log(`packet benchmark skipped: ${gen}`);
    return;
  }
  let topo: Topology | null = null;
  const rows: Row[] = [];
  const restore = await boostSoftirq([directorCpu, sideCpu]);
  // The compared modes run in every round, the others in the first `repeat`.
  const rounds = Math.max(opts.repeat, opts.comparedRepeat);
  try {
    topo = await buildInput(opts.generator, directorCpu, sideCpu, generatorCpus, gen);
    console.log(
      `director on CPU ${directorCpu}; generators (${topo.generator}) on CPU ${generatorCpus.join(',')}; sink and this process on CPU ${sideCpu}; ` +
        `${opts.frameLen}-byte frames (64 on the wire with FCS), ${opts.flows} flows per generator, ` +
        `best of ${opts.repeat} x ${opts.seconds} s per mode (${rounds} x for kernel_dnat and packet_<mode>)`,
    );
    // Rounds: every mode once per round, so that a slow spell of the machine (this VM's throughput moves by
    // a quarter for seconds at a time) hits several modes a little rather than one mode's every run.
    // First at full speed. A director that loses much of an overload may be livelocked (softirq starving
    // the worker on a shared core), so later runs offer a little more than the best delivered so far.
    // Not with the xdp generator: veth drops its overload on the generator's CPU, before the director
    // sees it, and live-frame test runs cannot be paced finely (each call sends its frames as a burst).
    const best = new Map<BenchMode, Row>();
    const pace = new Map<BenchMode, number>();
    const skipped = new Set<BenchMode>();
    for (let i = 0; i < rounds; i++) {
      for (const mode of opts.modes) {
        if (skipped.has(mode) || i >= (mode.compared ? rounds : opts.repeat)) continue;
        const pps = pace.get(mode) ?? 0;
        let r: Row;
        try {
          r = await measure(mode, topo, gen, opts, pps);
        } catch (err) {
          if (!mode.optional) throw err;
          console.log(`  ${mode.name} skipped: ${(err as Error).message}`);
          skipped.add(mode);
          continue;
        }
        const paced = pps > 0 ? `offered ${fmt(pps / 1000)} kpps paced` : 'offered at full speed';
        const lost = topo.generator === 'xdp' ? `, lost at input ${fmt(r.inputLostKpps)}` : '';
        console.log(
          `  ${mode.name} run ${i + 1} (${paced}): ${fmt(r.kpps)} kpps of ${fmt(r.offeredKpps)} offered${lost}, director CPU ${fmt(r.cpu)} %`,
        );
        const b = best.get(mode);
        if (!b || r.kpps > b.kpps) best.set(mode, r);
        const overloaded = r.kpps < 0.9 * r.offeredKpps && topo.generator === 'ring';
        pace.set(mode, overloaded ? Math.round(best.get(mode)!.kpps * 1100) : 0);
      }
    }
    for (const mode of opts.modes) {
      const b = best.get(mode);
      if (b) rows.push(b);
    }
  } finally {
    await topo?.lab.cleanup();
    gen.dispose();
    await restore();
  }
  report(rows);
}

async function measure(mode: BenchMode, t: Topology, gen: Generator, o: Options, pps: number): Promise<Row> {
  const running = await mode.start(t, gen);
  try {
    const target = mode.target(t);
    const burst = {
      ...target,
      flows: o.flows,
      frameLen: o.frameLen,
      maxPackets: o.maxPackets,
      nice: BOOST,
      pps,
    };
    await runBurst(gen, t, { ...burst, seconds: o.warmup });
    const threads = [...new Set([...running.threads(), ...t.dirNapi])];
    const rx0 = await rxPackets(t.lab, t.sink, t.sinkIf);
    const lost0 = await inputRingDrops(t.lab, t.gen, t.genIf);
    const cpu0 = cpuSample(t.directorCpu);
    const th0 = threads.reduce((a, tid) => a + threadTicks(tid), 0);
    const started = performance.now();
    const g = await runBurst(gen, t, { ...burst, seconds: o.seconds });
    const cpu1 = cpuSample(t.directorCpu);
    const th1 = threads.reduce((a, tid) => a + threadTicks(tid), 0);
    const elapsed = (performance.now() - started) / 1000;
    const rx1 = await rxPackets(t.lab, t.sink, t.sinkIf);
    const kpps = (rx1 - rx0) / elapsed / 1000;
    const lost = (await inputRingDrops(t.lab, t.gen, t.genIf)) - lost0;
    // Director work on its CPU = wall time - idle - time of unrelated tasks there. Those tasks' user and
    // system ticks are what the CPU spent in user/system minus our worker thread's own ticks (tick
    // accounting also charges softirq ticks to the interrupted worker, so this errs slightly high when
    // unrelated tasks share the CPU; on a quiet director core it is exact to the tick).
    const wall = ((cpu1.atMs - cpu0.atMs) / 1000) * USER_HZ;
    const workerTicks = th1 - th0;
    const foreign = Math.max(0, cpu1.user - cpu0.user + (cpu1.system - cpu0.system) - workerTicks);
    const busy = Math.max(0, wall - (cpu1.idle - cpu0.idle));
    const cpu = (100 * Math.min(wall, Math.max(0, busy - foreign))) / wall;
    return {
      mode,
      offeredKpps: (g.sent + g.errors) / g.seconds / 1000,
      kpps,
      inputLostKpps: lost / elapsed / 1000,
      worker: (100 * Math.min(wall, workerTicks)) / wall,
      others: (100 * Math.min(wall, foreign)) / wall,
      cpu,
      cpuPer100: kpps > 0 ? (cpu * 100) / kpps : 0,
      details: { ...running.details(), ...(await running.finalDetails?.()) },
    };
  } finally {
    await running.stop();
  }
}

function report(rows: Row[]): void {
  const header = [
    'mode',
    'offered kpps',
    'lost at input kpps',
    'delivered kpps',
    'director CPU %',
    'worker %',
    'other tasks %',
    'CPU % per 100 kpps',
  ];
  console.log(
    "offered: what the generator tried to send; lost at input: what found the director's input ring full",
  );
  console.log(
    '(veth, 256 frames; counted for the xdp generator). director CPU: kernel packet work + the tslvs',
  );
  console.log(
    'worker on the director core (worker %: the worker thread alone); other tasks: unrelated processes there.',
  );
  const lines = rows.map((r) => [
    r.mode.name,
    fmt(r.offeredKpps),
    fmt(r.inputLostKpps),
    fmt(r.kpps),
    fmt(r.cpu),
    fmt(r.worker),
    fmt(r.others),
    fmt(r.cpuPer100, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('');
  console.log(row(header));
  for (const l of lines) console.log(row(l));
  for (const r of rows) {
    const d = Object.entries(r.details);
    console.log(
      `  ${r.mode.name}: ${r.mode.title}${d.length ? ` (${d.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
    );
  }
  console.log('');
  for (const r of rows) console.log(`RESULT ${r.mode.name}_kpps=${r.kpps.toFixed(0)} kpps`);
  for (const r of rows) console.log(`RESULT ${r.mode.name}_cpu_per_100kpps=${r.cpuPer100.toFixed(1)} %cpu`);
}

function fmt(n: number, digits = 0): string {
  return n.toFixed(digits);
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    generators: 8,
    repeat: 3,
    comparedRepeat: 5,
    seconds: 3,
    warmup: 0.5,
    flows: 256,
    frameLen: 60,
    maxPackets: 50_000_000,
    modes: MODES,
    generator: 'xdp',
  };
  for (let i = 0; i < args.length; i++) {
    const key = args[i];
    const value = args[i + 1];
    const num = () => {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${key} needs a positive number`);
      i++;
      return n;
    };
    if (key === '--seconds') o.seconds = Math.min(num(), 30);
    else if (key === '--repeat') o.repeat = Math.min(Math.floor(num()), 10);
    else if (key === '--compared-repeat') o.comparedRepeat = Math.min(Math.floor(num()), 10);
    else if (key === '--generators') o.generators = Math.min(Math.floor(num()), 64);
    else if (key === '--warmup') o.warmup = Math.min(num(), 10);
    else if (key === '--flows') o.flows = Math.min(Math.floor(num()), 2048);
    else if (key === '--frame-len') o.frameLen = Math.max(42, Math.min(Math.floor(num()), 1514));
    else if (key === '--max-packets') o.maxPackets = Math.floor(num());
    else if (key === '--generator') {
      if (value !== 'xdp' && value !== 'ring') throw new Error('--generator needs xdp or ring');
      o.generator = value;
      i++;
    } else if (key === '--modes') {
      const names = (value ?? '').split(',');
      o.modes = names.map((n) => {
        const m = MODES.find((x) => x.name === n);
        if (!m) throw new Error(`unknown mode ${n} (have ${MODES.map((x) => x.name).join(', ')})`);
        return m;
      });
      i++;
    } else throw new Error(`unknown argument ${key}`);
  }
  return o;
}

/**
 * The topology with the generator asked for; for `xdp`, checked by a short burst at the director's own
 * address (the input must count it received). A kernel or setup that cannot (no live-frame test runs, no
 * GRO on veth) falls back to `ring`, saying why.
 */
async function buildInput(
  engine: GeneratorEngine,
  directorCpu: number,
  sideCpu: number,
  generatorCpus: number[],
  gen: Generator,
): Promise<Topology> {
  if (engine === 'xdp') {
    let topo: Topology | null = null;
    let why: string;
    try {
      topo = await buildTopology(directorCpu, sideCpu, generatorCpus, 'xdp');
      const before = await rxPackets(topo.lab, topo.dir, topo.dirIn);
      const probe = 1000 * generatorCpus.length;
      await runBurst(gen, topo, {
        dstIp: topo.dirInIp,
        dstPort: 9,
        flows: 1,
        frameLen: 60,
        seconds: 1,
        maxPackets: probe,
        nice: 0,
        pps: 20_000, // paced: a burst would overflow veth's 256-frame ring, which is the run's business
      });
      const got = (await rxPackets(topo.lab, topo.dir, topo.dirIn)) - before;
      if (got >= probe * 0.9) return topo;
      why = `the director received ${got} of ${probe} probe frames`;
    } catch (err) {
      why = (err as Error).message.split('\n')[0]!;
    }
    await topo?.lab.cleanup();
    console.log(`xdp generator unavailable (${why}); using the AF_PACKET ring generator`);
  }
  return buildTopology(directorCpu, sideCpu, generatorCpus, 'ring');
}

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (namespaces, AF_PACKET)';
  if (cpus().length < 2) return 'needs two CPUs (one for the director, one for generator and sink)';
  return null;
}

/**
 * Raises ksoftirqd on the benchmark CPUs to the benchmark's nice value for the run (and restores it):
 * under load the kernel defers packet work to ksoftirqd, which must not lose the CPU to unrelated
 * processes any more than our worker and generator do.
 */
async function boostSoftirq(cpuList: number[]): Promise<() => Promise<void>> {
  const saved: Array<[number, number]> = [];
  for (const cpu of cpuList) {
    const pid = ksoftirqd(cpu);
    if (pid === null) continue;
    saved.push([pid, niceOf(pid)]);
    await run(['renice', '--priority', String(BOOST), '-p', String(pid)], { allowFailure: true });
  }
  return async () => {
    for (const [pid, nice] of saved)
      await run(['renice', '--priority', String(nice), '-p', String(pid)], { allowFailure: true });
  };
}

/** Keeps this thread (and threads it starts later) off the director's CPU. */
function pinMainThread(cpu: number): void {
  const mask = Buffer.alloc(128);
  mask[cpu >> 3] = 1 << (cpu & 7);
  libc().sched_setaffinity(0, mask.length, mask);
}
