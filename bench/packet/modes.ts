/**
 * What the director runs during a measurement. One entry per mode; each sets the director up, says where
 * the generator should aim, and tears down what it set. To benchmark the forwarding pipeline later, add
 * entries built with `packetMode()` (e.g. `packet_dr`, `packet_nat`, `packet_tun`, `packet_fnat`) that name
 * the pipeline's handler module and its options.
 */
import { type PacketWorker, PacketWorker as Worker } from '../../src/dataplane/packet/worker.js';
import { nft, type Topology } from './topology.js';

export interface RunningMode {
  /** Extra facts for the report (worker counters...). */
  details(): Record<string, number | string>;
  /** Threads of this process whose CPU time is director work (the packet worker). */
  threads(): number[];
  stop(): Promise<void>;
}

export interface BenchMode {
  /** Metric prefix: RESULT <name>_kpps=... */
  name: string;
  title: string;
  target(t: Topology): { dstIp: string; dstPort: number };
  start(t: Topology): Promise<RunningMode>;
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

export interface PacketModeSpec {
  name: string;
  title: string;
  /** A built-in handler name or the absolute path of a handler module. */
  handler: string;
  handlerOptions?: (t: Topology) => unknown;
  target: (t: Topology) => { dstIp: string; dstPort: number };
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
    async start(t) {
      await forwarding(t, false);
      await nft(
        t.lab,
        t.dir,
        `table netdev tlbenchpkt {\n chain in {\n  type filter hook ingress device ${t.dirIn} priority 0;\n  meta protocol ip drop\n }\n}`,
      );
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
        await t.lab.exec(t.dir, ['nft', 'delete', 'table', 'netdev', 'tlbenchpkt']);
        throw err;
      }
      return {
        threads: () => [worker.tid],
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
          await t.lab.exec(t.dir, ['nft', 'delete', 'table', 'netdev', 'tlbenchpkt']);
        },
      };
    },
  };
}

export const MODES: readonly BenchMode[] = [
  kernelRoute,
  kernelDnat,
  packetMode({
    name: 'packet_raw_forward',
    title: 'tslvs worker, forward-to (raw copy in -> out)',
    handler: 'forward-to',
    target: (t) => ({ dstIp: t.sinkIp, dstPort: 9 }),
  }),
];
