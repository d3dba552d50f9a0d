/**
 * What the director runs during a measurement. One entry per mode; each sets the director up, says where
 * the generator should aim, and tears down what it set. `packet_dr/nat/tun/fnat` run the real director
 * (the LVS handler: engine + pipeline) with one UDP service forwarding to the sink.
 */
import { fileURLToPath } from 'node:url';
import type { LvsHandlerOptions, LvsStats } from '../../src/dataplane/packet/lvs-protocol.js';
import { type PacketWorker, PacketWorker as Worker } from '../../src/dataplane/packet/worker.js';
import { parseIp } from '../../src/engine/addr.js';
import { type ForwardingName, forwardingFromName } from '../../src/engine/forwarding.js';
import type { Generator } from './generator.js';
import { cForward, xdpForward } from './peers.js';
import { dropIngress, forwarding, REALTIME_PRIORITY, sinkNapi, undoDropIngress } from './setup.js';
import { inputNapi, nft, type Topology } from './topology.js';

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
  /**
   * One side of the comparison the benchmark exists for (the kernel's DNAT against the director as it runs
   * by default): these modes get `--compared-repeat` runs, the others `--repeat`.
   */
  compared?: boolean;
}

/** Nice value for the generator and ksoftirqd (see index.ts). */
export const BOOST = -10;

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
  compared: true,
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
  /** The handler attaches the XDP fast path in this mode (native: see sinkNapi and inputNapi). */
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
      const napi = spec.xdp === 'native' ? await inputNapi(t) : [];
      return {
        threads: () => [worker.tid, ...napi],
        async finalDetails() {
          if (spec.handler !== LVS_HANDLER) return {};
          const s = (await worker.control({ type: 'stats' })) as LvsStats;
          const top = Object.entries({ ...s.drops, ...s.passes })
            .sort((a, b) => b[1] - a[1])
            .slice(0, 3);
          const xdp = Object.entries(s.events).filter(([k]) => k.startsWith('xdp_'));
          return Object.fromEntries([
            ...top.map(([k, v]) => [`dropped/passed ${k}`, v]),
            ['fast path', s.xdp],
            ...xdp,
          ]);
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

const XDP_SUFFIX = { auto: '', off: '_pipeline', native: '_xdp', generic: '_xdp_generic' } as const;
const XDP_TITLE = {
  auto: 'engine + pipeline + XDP fast path as by default: dataplane.xdp auto, on veth the generic hook',
  off: 'engine + pipeline alone: dataplane.xdp off',
  native: 'engine + pipeline + XDP fast path, native',
  generic: 'engine + pipeline + XDP fast path, generic',
} as const;

/**
 * The real director: engine + pipeline, one UDP service on the VIP forwarding to the sink, with the XDP
 * fast path as `dataplane.xdp` says: `packet_<mode>` is the director as it runs by default (auto),
 * `_pipeline` without the fast path, `_xdp` with it in the driver (native), `_xdp_generic` asked for.
 */
function lvsMode(
  mode: ForwardingName & ('dr' | 'nat' | 'tun' | 'fnat'),
  xdp: 'auto' | 'off' | 'native' | 'generic',
): BenchMode {
  const attach = xdp === 'off' ? null : xdp;
  const bench = packetMode({
    name: `packet_${mode}${XDP_SUFFIX[xdp]}`,
    title: `tslvs ${mode.toUpperCase()} (${XDP_TITLE[xdp]})`,
    handler: LVS_HANDLER,
    // auto falls back to the pipeline alone where XDP is refused, as the daemon does: never skipped.
    ...(xdp === 'native' || xdp === 'generic' ? { xdp } : {}),
    target: (t) => ({ dstIp: t.vip, dstPort: 80 }),
    handlerOptions(t): LvsHandlerOptions {
      const key = `udp/${t.vip}:80`;
      return {
        ...(attach ? { xdp: attach, xdpOptional: xdp === 'auto' } : {}),
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
  return xdp === 'auto' ? { ...bench, compared: true } : bench;
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
  lvsMode('dr', 'auto'),
  lvsMode('nat', 'auto'),
  lvsMode('tun', 'auto'),
  lvsMode('fnat', 'auto'),
  lvsMode('dr', 'off'),
  lvsMode('nat', 'off'),
  lvsMode('tun', 'off'),
  lvsMode('fnat', 'off'),
  lvsMode('dr', 'native'),
  lvsMode('nat', 'native'),
  lvsMode('tun', 'native'),
  lvsMode('fnat', 'native'),
  lvsMode('dr', 'generic'),
];
