/**
 * Director-side setup shared by the benchmark's modes: the worker's scheduling priority, IP forwarding
 * off, IPv4 dropped at ingress after the AF_PACKET taps, NAPI as threads pinned to a CPU, and the
 * XDP_PASS program a veth peer needs to accept redirected frames.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { interfaceInfo } from '../../src/dataplane/packet/ifinfo.js';
import { withNetns } from '../../src/dataplane/packet/netns.js';
import { Program } from '../../src/dataplane/xdp/asm.js';
import { Bpf, ProgType, XdpAction, XdpFlags } from '../../src/dataplane/xdp/bpf.js';
import { nft, type Topology } from './topology.js';

/** SCHED_FIFO priority of the packet worker during a run. */
export const REALTIME_PRIORITY = 10;

export const forwarding = async (t: Topology, on: boolean) =>
  t.lab.sysctl(t.dir, 'net.ipv4.ip_forward', on ? 1 : 0);

/** Drops IPv4 at the director's ingress, after the AF_PACKET taps: the user-space forwarder's job alone. */
export async function dropIngress(t: Topology): Promise<void> {
  await nft(
    t.lab,
    t.dir,
    `table netdev tlbenchpkt {\n chain in {\n  type filter hook ingress device ${t.dirIn} priority 0;\n  meta protocol ip drop\n }\n}`,
  );
}

export const undoDropIngress = (t: Topology) =>
  t.lab.exec(t.dir, ['nft', 'delete', 'table', 'netdev', 'tlbenchpkt']);

/**
 * Turns the NAPI of `ifname` (in the director's namespace) into kernel threads and pins them, at the
 * worker's priority, to the director's CPU. veth runs an XDP program in its NAPI poll, which otherwise
 * runs as softirq on the CPU that sent the frame: the generator's. A NIC would run it on the director's
 * CPU (its interrupt's); the threads put it there and let its time be counted as the director's.
 */
export async function pinNapiThreads(
  t: Topology,
  ifname: string,
  ns = t.dir,
  cpu = t.directorCpu,
): Promise<number[]> {
  // Thread names carry the interface name only ("napi/eth0-8195"), which other namespaces reuse: the
  // threads that appear when this interface turns threaded are this interface's.
  // (A device made threaded before keeps that setting and gets its threads at once: then all of them.)
  const before = new Set(napiThreads(ifname));
  await t.lab.exec(ns, ['tee', `/sys/class/net/${ifname}/threaded`], { input: '1\n' });
  const now = napiThreads(ifname);
  const fresh = now.filter((pid) => !before.has(pid));
  const pids = fresh.length > 0 ? fresh : now;
  if (pids.length === 0) throw new Error(`no NAPI thread appeared for ${ifname}`);
  for (const pid of pids) {
    await t.lab.exec(null, ['taskset', '-pc', String(cpu), String(pid)]);
    await t.lab.exec(null, ['chrt', '-f', '-p', String(REALTIME_PRIORITY), String(pid)]);
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

/**
 * The sink's end of the director's output veth gets an XDP_PASS program (native): veth accepts frames
 * that another veth's XDP program redirects to it only while its peer runs NAPI, which an XDP program
 * turns on. That NAPI runs where the redirect flushes, on the director's CPU, so the sink's building of
 * its socket buffers is counted as the director's work here (a NIC would put the frame on the wire
 * instead): the XDP modes' CPU figures err against them. (As a thread on the sink's CPU it overflowed
 * veth's 256-frame ring, which the other modes' backlog of 1000 does not.) Detached with the mode.
 */
export function sinkNapi(t: Topology): { close(): void } {
  const bpf = new Bpf();
  try {
    const prog = bpf.progLoad(
      ProgType.XDP,
      new Program().mov(0, XdpAction.PASS).exit().bytes(),
      'bench_pass',
    );
    const ifindex = withNetns(t.sink, () => interfaceInfo(t.sinkIf).index);
    const link = withNetns(t.sink, () => bpf.attachXdp(prog, ifindex, XdpFlags.DRV_MODE, t.sinkIf));
    return {
      close() {
        bpf.close(link);
        bpf.close(prog);
        bpf.dispose();
      },
    };
  } catch (err) {
    bpf.dispose();
    throw err;
  }
}
