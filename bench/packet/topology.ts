/**
 * The benchmark topology: three namespaces in a line, generator -> director -> sink, with static
 * neighbours (no ARP during a run) and RPS steering so that everything the director does (softirq
 * forwarding, and the packet worker when it runs) lands on one CPU while the generator and the sink use
 * another. The sink drops at nft netdev ingress, after the veth has counted the frame as received.
 *
 * With the `xdp` generator (udpgen.c) frames reach the director's input as XDP frames in pages, as a
 * NIC's driver hands them over; veth takes those only while the input runs NAPI, so GRO is turned on
 * there (no XDP program needed) and the NAPI runs as threads on the director's CPU in every mode.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setGro } from '../../src/dataplane/packet/ethtool.js';
import { formatMac, interfaceInfo } from '../../src/dataplane/packet/ifinfo.js';
import { withNetns } from '../../src/dataplane/packet/netns.js';
import { createLab, type Lab } from '../../test/helpers/netns.js';

/** SCHED_FIFO priority of the packet worker (and the director's NAPI threads) during a run. */
export const REALTIME_PRIORITY = 10;

export interface Topology {
  lab: Lab;
  gen: string;
  dir: string;
  sink: string;
  genIf: string;
  dirIn: string;
  dirOut: string;
  sinkIf: string;
  genMac: string;
  dirInMac: string;
  dirOutMac: string;
  sinkMac: string;
  genIp: string;
  dirInIp: string;
  dirOutIp: string;
  sinkIp: string;
  /** Address the DNAT modes translate (nothing holds it). */
  vip: string;
  directorCpu: number;
  /** Where the sink's receive work runs. */
  sideCpu: number;
  /** One generator process per CPU listed. */
  generatorCpus: number[];
  /** How the generator sends (udpgen.c): XDP frames (`xdp`) or socket buffers from a packet ring. */
  generator: GeneratorEngine;
  /** The director input's NAPI threads when the topology pinned them for the whole run (xdp generator). */
  dirNapi: number[];
}

export type GeneratorEngine = 'xdp' | 'ring';

export async function buildTopology(
  directorCpu: number,
  sideCpu: number,
  generatorCpus: number[],
  generator: GeneratorEngine,
): Promise<Topology> {
  const lab = createLab();
  try {
    const gen = await lab.addNs('gen');
    const dir = await lab.addNs('dir');
    const sink = await lab.addNs('sink');
    const t = {
      lab,
      gen,
      dir,
      sink,
      genIf: 'eth0',
      dirIn: 'in0',
      dirOut: 'out0',
      sinkIf: 'eth0',
      genIp: '10.80.1.2',
      dirInIp: '10.80.1.1',
      dirOutIp: '10.80.2.1',
      sinkIp: '10.80.2.2',
      vip: '10.80.9.1',
      directorCpu,
      sideCpu,
      generatorCpus,
      generator,
      dirNapi: [] as number[],
    };
    await lab.addVeth(
      { ns: gen, name: t.genIf, addresses: [`${t.genIp}/24`] },
      { ns: dir, name: t.dirIn, addresses: [`${t.dirInIp}/24`] },
    );
    await lab.addVeth(
      { ns: dir, name: t.dirOut, addresses: [`${t.dirOutIp}/24`] },
      { ns: sink, name: t.sinkIf, addresses: [`${t.sinkIp}/24`] },
    );
    const mac = (ns: string, ifname: string) => formatMac(withNetns(ns, () => interfaceInfo(ifname)).mac);
    const topo: Topology = {
      ...t,
      genMac: mac(gen, t.genIf),
      dirInMac: mac(dir, t.dirIn),
      dirOutMac: mac(dir, t.dirOut),
      sinkMac: mac(sink, t.sinkIf),
    };
    const neigh = (ns: string, ip: string, lladdr: string, dev: string) =>
      lab.ip(ns, ['neigh', 'replace', ip, 'lladdr', lladdr, 'dev', dev, 'nud', 'permanent']);
    await neigh(gen, topo.dirInIp, topo.dirInMac, topo.genIf);
    await neigh(dir, topo.genIp, topo.genMac, topo.dirIn);
    await neigh(dir, topo.sinkIp, topo.sinkMac, topo.dirOut);
    await neigh(sink, topo.dirOutIp, topo.dirOutMac, topo.sinkIf);
    await lab.ip(sink, ['route', 'add', 'default', 'via', topo.dirOutIp]);
    await lab.ip(gen, ['route', 'add', 'default', 'via', topo.dirInIp]);
    await steer(lab, dir, topo.dirIn, directorCpu);
    if (generator === 'xdp') {
      withNetns(dir, () => setGro(topo.dirIn, true));
      topo.dirNapi = await pinNapiThreads(lab, dir, topo.dirIn, directorCpu);
    }
    await steer(lab, sink, topo.sinkIf, sideCpu);
    await nft(
      lab,
      sink,
      `table netdev tlsink {\n chain in {\n  type filter hook ingress device ${topo.sinkIf} priority 0; policy drop;\n }\n}`,
    );
    return topo;
  } catch (err) {
    await lab.cleanup();
    throw err;
  }
}

/**
 * Turns the NAPI of `ifname` (in namespace `ns`) into kernel threads and pins them, at the worker's
 * priority, to `cpu`. veth's NAPI poll (where it runs an XDP program, and builds socket buffers from XDP
 * frames) otherwise runs as softirq on the CPU that sent the frame: the generator's. A NIC would run it
 * on the director's CPU (its interrupt's); the threads put it there and let its time be counted as the
 * director's.
 */
export async function pinNapiThreads(lab: Lab, ns: string, ifname: string, cpu: number): Promise<number[]> {
  // Thread names carry the interface name only ("napi/eth0-8195"), which other namespaces reuse: the
  // threads that appear when this interface turns threaded are this interface's.
  // (A device made threaded before keeps that setting and gets its threads at once: then all of them.)
  const before = new Set(napiThreads(ifname));
  await lab.exec(ns, ['tee', `/sys/class/net/${ifname}/threaded`], { input: '1\n' });
  const now = napiThreads(ifname);
  const fresh = now.filter((pid) => !before.has(pid));
  const pids = fresh.length > 0 ? fresh : now;
  if (pids.length === 0) throw new Error(`no NAPI thread appeared for ${ifname}`);
  for (const pid of pids) {
    await lab.exec(null, ['taskset', '-pc', String(cpu), String(pid)]);
    await lab.exec(null, ['chrt', '-f', '-p', String(REALTIME_PRIORITY), String(pid)]);
  }
  return pids;
}

function napiThreads(ifname: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').startsWith(`napi/${ifname}-`)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The director input's NAPI threads, on the director's CPU: made once for the run, or now. */
export async function inputNapi(t: Topology): Promise<number[]> {
  if (t.dirNapi.length > 0) return t.dirNapi;
  return pinNapiThreads(t.lab, t.dir, t.dirIn, t.directorCpu);
}

/** RPS: process this interface's received frames on `cpu` (veth has no hardware queues to pin). */
async function steer(lab: Lab, ns: string, ifname: string, cpu: number): Promise<void> {
  const mask = (1n << BigInt(cpu)).toString(16);
  await lab.exec(ns, ['tee', `/sys/class/net/${ifname}/queues/rx-0/rps_cpus`], { input: `${mask}\n` });
}

export async function nft(lab: Lab, ns: string, ruleset: string): Promise<void> {
  await lab.exec(ns, ['nft', '-f', '-'], { input: `${ruleset}\n` });
}

/** Packets the interface has received (veth counts a frame when its peer hands it over). */
export async function rxPackets(lab: Lab, ns: string, ifname: string): Promise<number> {
  const r = await lab.ip(ns, ['-j', '-s', 'link', 'show', 'dev', ifname]);
  return Number(JSON.parse(r.stdout)[0].stats64.rx.packets);
}

/**
 * Frames the generator's XDP redirects could not put into the director input's ring (veth's 256-frame
 * ring was full): `ethtool -S`'s tx_queue_0_xdp_xmit_errors on the generator's end (veth reports there
 * what its peer's receive queue counted of its transmissions). 0 where the device has no such counter.
 */
export async function inputRingDrops(lab: Lab, ns: string, ifname: string): Promise<number> {
  const r = await lab.exec(ns, ['ethtool', '-S', ifname], { allowFailure: true });
  const m = /^\s*tx_queue_0_xdp_xmit_errors:\s*(\d+)/m.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}

/** One CPU's /proc/stat counters (USER_HZ ticks) and when they were read. */
export interface CpuSample {
  user: number;
  system: number;
  idle: number;
  atMs: number;
}

/**
 * Reads one CPU's line of /proc/stat. Tick sampling misses interrupt work done while the CPU was in
 * tickless idle (it is neither idle nor softirq), so callers derive busy time as wall time minus idle.
 */
export function cpuSample(cpu: number): CpuSample {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) throw new Error(`cpu${cpu} not in /proc/stat`);
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number) => v[i] ?? 0;
  return { user: at(0) + at(1), system: at(2), idle: at(3) + at(4) + at(7), atMs: performance.now() };
}

/** utime + stime of one thread (of this or another process; USER_HZ ticks). */
export function threadTicks(tid: number): number {
  const text = readFileSync(`/proc/${tid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The kernel threads that run deferred packet work (ksoftirqd/N), by CPU. */
export function ksoftirqd(cpu: number): number | null {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === `ksoftirqd/${cpu}`) return Number(pid);
    } catch {
      // the process went away while we looked
    }
  }
  return null;
}

/** The nice value of a process or thread. */
export function niceOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[16]);
}
