/**
 * What the director runs during a measurement. One entry per mode; each sets the director up, says where
 * the generator should aim, and tears down what it set. `packet_dr/nat/tun/fnat` run the real director
 * (the LVS handler: engine + pipeline) with one UDP service forwarding to the sink.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { interfaceInfo } from '../../src/dataplane/packet/ifinfo.js';
import type { LvsHandlerOptions, LvsStats } from '../../src/dataplane/packet/lvs-protocol.js';
import { withNetns } from '../../src/dataplane/packet/netns.js';
import { type PacketWorker, PacketWorker as Worker } from '../../src/dataplane/packet/worker.js';
import { Program } from '../../src/dataplane/xdp/asm.js';
import { Bpf, ProgType, XdpAction, XdpFlags } from '../../src/dataplane/xdp/bpf.js';
import { parseIp } from '../../src/engine/addr.js';
import { type ForwardingName, forwardingFromName } from '../../src/engine/forwarding.js';
import type { Generator } from './generator.js';
import { nft, type Topology } from './topology.js';

export interface RunningMode {
  /** Extra facts for the report (worker counters...). */
  details(): Record<string, number | string>;
  /** Asked once after a run, before stop: facts only a control message can fetch (drop reasons). */
  finalDetails?(): Promise<Record<string, number | string>>;
  /** Threads (of this or another process) whose CPU time is director work (the packet worker). */
  threads(): number[];
  stop(): Promise<void>;
}

export interface BenchMode {
  /** Metric prefix: RESULT <name>_kpps=... */
  name: string;
  title: string;
  target(t: Topology): { dstIp: string; dstPort: number };
  /** `tools`: the benchmark's compiled C programs (the C forwarding peer uses one). */
  start(t: Topology, tools: Generator): Promise<RunningMode>;
  /** A peer this kernel may not support (AF_XDP): when it cannot start, the mode is reported as skipped. */
  optional?: boolean;
}

/** Nice value for the generator and ksoftirqd (see index.ts). */
export const BOOST = -10;
/** SCHED_FIFO priority of the packet worker during a run. */
const REALTIME_PRIORITY = 10;

const forwarding = async (t: Topology, on: boolean) => t.lab.sysctl(t.dir, 'net.ipv4.ip_forward', on ? 1 : 0);

const kernelRoute: BenchMode = {
  name: 'kernel_route',
  title: 'kernel ip_forward routing',
  target: (t) => ({ dstIp: t.sinkIp, dstPort: 9 }),
  async start(t) {
    await forwarding(t, true);
    return { details: () => ({}), threads: () => [], stop: () => forwarding(t, false) };
  },
};

const kernelDnat: BenchMode = {
  name: 'kernel_dnat',
  title: 'nftables DNAT + conntrack',
  target: (t) => ({ dstIp: t.vip, dstPort: 80 }),
  async start(t) {
    await forwarding(t, true);
    await nft(
      t.lab,
      t.dir,
      `table ip tlbench {\n chain pre {\n  type nat hook prerouting priority dstnat;\n  ip daddr ${t.vip} udp dport 80 dnat to ${t.sinkIp}:8080\n }\n}`,
    );
    return {
      details: () => ({}),
      threads: () => [],
      async stop() {
        await t.lab.exec(t.dir, ['nft', 'delete', 'table', 'ip', 'tlbench']);
        await forwarding(t, false);
      },
    };
  },
};

/** Drops IPv4 at the director's ingress, after the AF_PACKET taps: the user-space forwarder's job alone. */
async function dropIngress(t: Topology): Promise<void> {
  await nft(
    t.lab,
    t.dir,
    `table netdev tlbenchpkt {\n chain in {\n  type filter hook ingress device ${t.dirIn} priority 0;\n  meta protocol ip drop\n }\n}`,
  );
}

const undoDropIngress = (t: Topology) =>
  t.lab.exec(t.dir, ['nft', 'delete', 'table', 'netdev', 'tlbenchpkt']);

/**
 * A C forwarding peer (`binary` of the built tools) that takes every frame on the director's input and
 * sends it out of its output, MACs rewritten, pinned and prioritised as the worker is.
 */
interface CPeerSpec {
  name: string;
  title: string;
  binary: (tools: Generator) => string;
  /** Drop at the director's ingress after the AF_PACKET taps (the kernel must not forward too). */
  ingressDrop: boolean;
  /** Run the input interface's NAPI as threads on the director's CPU (pinNapiThreads). */
  napiThreads: boolean;
  optional: boolean;
}

function cPeer({ name, title, binary, ingressDrop, napiThreads, optional }: CPeerSpec): BenchMode {
  return {
    name,
    title,
    optional,
    target: (t) => ({ dstIp: t.sinkIp, dstPort: 9 }),
    async start(t, tools) {
      await forwarding(t, false);
      if (ingressDrop) await dropIngress(t);
      // The later modes get the interface as they would have without this one. (Once the XDP program
      // is gone veth has no NAPI and refuses the write: nothing is left to undo then.)
      const undo = async () => {
        if (ingressDrop) await undoDropIngress(t);
        if (napiThreads) {
          const path = `/sys/class/net/${t.dirIn}/threaded`;
          await t.lab.exec(t.dir, ['tee', path], { input: '0\n', allowFailure: true });
        }
      };
      const argv = ['chrt', '-f', String(REALTIME_PRIORITY), 'taskset', '-c', String(t.directorCpu)];
      const proc = t.lab.spawn(t.dir, [
        ...argv,
        binary(tools),
        t.dirIn,
        t.dirOut,
        t.sinkMac,
        t.dirOutMac,
        '120',
      ]);
      try {
        await proc.waitForLine(/^ready$/, 10_000);
      } catch (err) {
        await proc.stop();
        await undo();
        throw new Error(`${name} did not start: ${proc.stderr()}`, { cause: err });
      }
      const napi = napiThreads ? await pinNapiThreads(t, t.dirIn) : [];
      return {
        threads: () => [proc.pid, ...napi],
        details: () => ({}),
        // Its counts come with its exit.
        async finalDetails(): Promise<Record<string, number>> {
          await proc.stop();
          const m = /forwarded (\d+) rx (\d+) drops (\d+)/.exec(proc.lines.at(-1) ?? '');
          return m ? { forwarded: Number(m[1]), rx: Number(m[2]), 'kernel ring drops': Number(m[3]) } : {};
        },
        async stop() {
          await proc.stop();
          await undo();
        },
      };
    },
  };
}

/**
 * Turns the NAPI of `ifname` (in the director's namespace) into kernel threads and pins them, at the
 * worker's priority, to the director's CPU. veth runs an XDP program in its NAPI poll, which otherwise
 * runs as softirq on the CPU that sent the frame: the generator's. A NIC would run it on the director's
 * CPU (its interrupt's); the threads put it there and let its time be counted as the director's.
 */
async function pinNapiThreads(
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
 * The peer for the user-space modes: cforward.c, the raw forward in C over the same TPACKET_V2 ring
 * geometry. What it reaches is AF_PACKET's own ceiling on this kernel; the gap between it and
 * packet_raw_forward is what the JavaScript worker costs.
 */
const cForward = cPeer({
  name: 'afpacket_c_forward',
  title: 'C forwarder over the same AF_PACKET rings (the ceiling of the ring I/O itself)',
  binary: (tools) => tools.forwarder,
  ingressDrop: true,
  napiThreads: false,
  optional: false,
});

/**
 * The same C forward over AF_XDP (xdpforward.c: an XDP program redirects every frame of the input to an
 * AF_XDP socket in copy mode; a second one sends). XDP takes the frames before the stack, so no ingress
 * drop is needed. It measures what an AF_XDP I/O layer would give the worker here, before building one.
 */
const xdpForward = cPeer({
  name: 'afxdp_c_forward',
  title: 'C forwarder over AF_XDP sockets (copy mode), the candidate I/O layer',
  binary: (tools) => tools.xdpForwarder,
  ingressDrop: false,
  napiThreads: true,
  optional: true,
});

export interface PacketModeSpec {
  name: string;
  title: string;
  /** A built-in handler name or the absolute path of a handler module. */
  handler: string;
  handlerOptions?: (t: Topology) => unknown;
  target: (t: Topology) => { dstIp: string; dstPort: number };
  /** The handler attaches the XDP fast path in this mode (native: see sinkNapi and pinNapiThreads). */
  xdp?: 'native' | 'generic';
}

/**
 * A mode where the tslvs packet worker is the director: rings on both director interfaces, worker
 * pinned to the director CPU, and IPv4 dropped at nft netdev ingress on the way in (after the AF_PACKET
 * taps), so the director's own stack neither forwards nor answers what the worker handles.
 */
export function packetMode(spec: PacketModeSpec): BenchMode {
  return {
    name: spec.name,
    title: spec.title,
    target: spec.target,
    ...(spec.xdp ? { optional: true } : {}),
    async start(t) {
      await forwarding(t, false);
      await dropIngress(t);
      const sinkPass = spec.xdp === 'native' ? sinkNapi(t) : null;
      // Small frames (the generator sends no GSO) and deep rings to ride out scheduling hiccups; TX slots
      // stay busy until the sink frees the zero-copy skb. veth has no qdisc worth keeping: bypass it.
      const geometry = {
        rx: { frameSize: 2048, frameCount: 8192 },
        tx: { frameSize: 2048, frameCount: 4096 },
        qdiscBypass: true,
      };
      let worker: PacketWorker;
      try {
        worker = await Worker.start({
          netns: t.dir,
          cpu: t.directorCpu,
          rings: [
            { ifname: t.dirIn, ...geometry },
            { ifname: t.dirOut, ...geometry },
          ],
          handler: spec.handler,
          handlerOptions: spec.handlerOptions?.(t),
          batchSize: 128,
          // The director core is the worker's, as it would be in production (isolated core): the kernel
          // modes' softirq work preempts ordinary tasks the same way. The worker blocks in poll() when idle.
          priority: { realtime: REALTIME_PRIORITY },
        });
      } catch (err) {
        sinkPass?.close();
        await undoDropIngress(t);
        throw err;
      }
      const napi = spec.xdp === 'native' ? await pinNapiThreads(t, t.dirIn) : [];
      return {
        threads: () => [worker.tid, ...napi],
        async finalDetails() {
          if (spec.handler !== LVS_HANDLER) return {};
          const s = (await worker.control({ type: 'stats' })) as LvsStats;
          const top = Object.entries({ ...s.drops, ...s.passes })
            .sort((a, b) => b[1] - a[1])
            .slice(0, 3);
          const xdp = Object.entries(s.events).filter(([k]) => k.startsWith('xdp_'));
          return Object.fromEntries([...top.map(([k, v]) => [`dropped/passed ${k}`, v]), ...xdp]);
        },
        details() {
          const c = worker.snapshot();
          return {
            'worker rx': c.rxFrames,
            'worker tx': c.txFrames,
            'kernel ring drops': c.kernelDrops,
            'tx ring full': c.txRingFull,
            'tx again': c.txAgain,
          };
        },
        async stop() {
          const r = await worker.stop();
          if (!r.graceful) console.log(`  (${spec.name}: worker needed terminate())`);
          sinkPass?.close();
          await undoDropIngress(t);
        },
      };
    },
  };
}

const LVS_HANDLER = fileURLToPath(new URL('../../src/dataplane/packet/handlers/lvs.js', import.meta.url));

/**
 * The sink's end of the director's output veth gets an XDP_PASS program (native): veth accepts frames
 * that another veth's XDP program redirects to it only while its peer runs NAPI, which an XDP program
 * turns on. That NAPI runs where the redirect flushes, on the director's CPU, so the sink's building of
 * its socket buffers is counted as the director's work here (a NIC would put the frame on the wire
 * instead): the XDP modes' CPU figures err against them. (As a thread on the sink's CPU it overflowed
 * veth's 256-frame ring, which the other modes' backlog of 1000 does not.) Detached with the mode.
 */
function sinkNapi(t: Topology): { close(): void } {
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

/**
 * The real director: engine + pipeline, one UDP service on the VIP forwarding to the sink; with `xdp`,
 * the XDP fast path (native) in front of it.
 */
function lvsMode(
  mode: ForwardingName & ('dr' | 'nat' | 'tun' | 'fnat'),
  xdp: 'native' | 'generic' | null = null,
): BenchMode {
  return packetMode({
    name: `packet_${mode}${xdp === 'native' ? '_xdp' : xdp === 'generic' ? '_xdp_generic' : ''}`,
    title: `tslvs ${mode.toUpperCase()} (engine + pipeline${xdp ? ` + XDP fast path, ${xdp}` : ''})`,
    handler: LVS_HANDLER,
    ...(xdp ? { xdp } : {}),
    target: (t) => ({ dstIp: t.vip, dstPort: 80 }),
    handlerOptions(t): LvsHandlerOptions {
      const key = `udp/${t.vip}:80`;
      return {
        ...(xdp ? { xdp } : {}),
        capacity: 1 << 20,
        interfaces: [
          {
            name: t.dirIn,
            mac: t.dirInMac,
            mtu: 1500,
            addresses: [{ address: parseIp(t.dirInIp), prefixLen: 24 }],
          },
          {
            name: t.dirOut,
            mac: t.dirOutMac,
            mtu: 1500,
            addresses: [{ address: parseIp(t.dirOutIp), prefixLen: 24 }],
          },
        ],
        routes: [],
        localAddresses: mode === 'fnat' ? [parseIp('10.80.2.100')] : [],
        answerVips: true,
        staticNeighbours: [
          { address: parseIp(t.genIp), mac: t.genMac },
          { address: parseIp(t.sinkIp), mac: t.sinkMac },
        ],
        ops: [
          {
            op: 'addService',
            spec: {
              name: 'bench',
              protocol: 'udp',
              address: parseIp(t.vip),
              port: 80,
              scheduler: 'rr',
              forwarding: forwardingFromName(mode),
            },
          },
          // DR and TUN keep the VIP's port (the RS holds the VIP); NAT and FNAT translate it.
          {
            op: 'addDest',
            key,
            dest: {
              address: parseIp(t.sinkIp),
              port: mode === 'dr' || mode === 'tun' ? 80 : 8080,
              weight: 1,
            },
            listed: true,
          },
        ],
      };
    },
  });
}

export const MODES: readonly BenchMode[] = [
  kernelRoute,
  kernelDnat,
  cForward,
  xdpForward,
  packetMode({
    name: 'packet_raw_forward',
    title: 'tslvs worker, forward-to (raw copy in -> out)',
    handler: 'forward-to',
    target: (t) => ({ dstIp: t.sinkIp, dstPort: 9 }),
  }),
  lvsMode('dr'),
  lvsMode('nat'),
  lvsMode('tun'),
  lvsMode('fnat'),
  lvsMode('dr', 'native'),
  lvsMode('nat', 'native'),
  lvsMode('tun', 'native'),
  lvsMode('fnat', 'native'),
  lvsMode('dr', 'generic'),
];
