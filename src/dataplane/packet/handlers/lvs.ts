/**
 * The packet worker's LVS handler: the engine (Balancer) and the forwarding pipeline run here, in the
 * worker thread that owns the rings; the main thread drives them with control messages (lvs-protocol.ts).
 * Frames are decided a batch at a time so the session lookups of a batch overlap their cache misses.
 * Session sync (src/ha/sync/) runs here too, beside the session table it reads and fills: the main thread
 * only configures it, tells it the VRRP role and reads its status.
 */
import { Balancer } from '../../../engine/balancer.js';
import { RateEstimator } from '../../../engine/estimator.js';
import { applyEngineOps, findService } from '../../../engine/ops.js';
import {
  DROP_NAMES,
  PASS_NAMES,
  Pipeline,
  Verdict as PV,
  STAT_NAMES,
  VERDICT_NAMES,
} from '../../../engine/pipeline/index.js';
import { ALL_NODES, NaFlag, writeNdMessage } from '../../../engine/pipeline/nd.js';
import { macHiOf, macLoOf, putMac } from '../../../engine/pipeline/words.js';
import { listConns, snapshotEngine } from '../../../engine/snapshot.js';
import { SessionSync } from '../../../ha/sync/session-sync.js';
import { UdpSyncSocket } from '../../../ha/sync/socket.js';
import { balancerStore } from '../../../ha/sync/store.js';
import { SYNC_COUNTER_NAMES } from '../../../ha/sync/types.js';
import { writeGratuitousArp } from '../../../wire/arp.js';
import { Icmpv6Type } from '../../../wire/icmp.js';
import { adviseHugePages } from '../../hugepages.js';
import { attachInOrder, autoModes } from '../../xdp/auto-mode.js';
import { FAST_PATH_COUNTERS, XdpFastPath, type XdpMode } from '../../xdp/fastpath.js';
import { aggregatesTcp, driverName } from '../ethtool.js';
import type { FrameHandler, HandlerContext, RxFrame } from '../handler.js';
import { Verdict } from '../handler.js';
import type { LvsControl, LvsHandlerOptions, LvsStats } from '../lvs-protocol.js';

function named(names: readonly string[], v: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  names.forEach((n, i) => {
    if (v[i]) out[n] = v[i]!;
  });
  return out;
}

/** How often the generic hook's interfaces are asked again whether they aggregate TCP (ms). */
const GRO_CHECK_MS = 1000;

/** The port's driver, or '' when the device does not say (auto-mode.ts then tries native first). */
function driverOf(ifname: string): string {
  try {
    return driverName(ifname);
  } catch {
    return '';
  }
}

/** Pipeline verdict -> packet-loop verdict. */
const LOOP_VERDICT = new Uint8Array(8);
LOOP_VERDICT[PV.FORWARD] = Verdict.SENT;
LOOP_VERDICT[PV.REPLY] = Verdict.SENT;
LOOP_VERDICT[PV.DROP] = Verdict.DROP;
LOOP_VERDICT[PV.PASS] = Verdict.PASS;

export async function createHandler(ctx: HandlerContext): Promise<FrameHandler> {
  const o = ctx.options as LvsHandlerOptions;
  const balancer = new Balancer({
    conntable: { capacity: o.capacity, ...(o.seed !== undefined ? { seed: o.seed } : {}) },
    localAddresses: o.localAddresses,
    ...(o.localPortRange ? { localPortRange: o.localPortRange } : {}),
  });
  adviseHugePages(balancer.conns.largeArrays);
  const pipeline = new Pipeline(balancer, ctx.ports, {
    interfaces: o.interfaces.map((i) => ({ name: i.name, mac: i.mac, mtu: i.mtu, addresses: i.addresses })),
    routes: o.routes.map((r) => ({
      prefix: r.prefix,
      prefixLen: r.prefixLen,
      via: r.via,
      iface: r.iface ?? 0,
      src: r.src,
    })),
    answerVips: o.answerVips,
    ...(o.answerPing !== undefined ? { answerPing: o.answerPing } : {}),
    ...(o.pingRatePerSec !== undefined ? { pingRatePerSec: o.pingRatePerSec } : {}),
    ...(o.staticNeighbours ? { staticNeighbours: o.staticNeighbours } : {}),
  });
  if (o.ops) applyEngineOps(balancer, o.ops);
  let fast: XdpFastPath | null = null;
  /** Why the fast path could not attach (`auto`), or null. */
  let unavailable: string | null = null;
  /** Whether a port hands the stack TCP aggregates (GRO or LRO on): what the generic hook must allow for. */
  const aggregation = () => ctx.ports.some((p) => aggregatesTcp(p.ifname));
  /** The hook the fast path runs in, once attached. */
  let mode: XdpMode | null = null;
  /** Why hooks tried before it were refused (auto). */
  let refused: string[] = [];
  if (o.xdp) {
    const order = o.xdp === 'auto' ? autoModes(ctx.ports.map((p) => driverOf(p.ifname))) : [o.xdp];
    const got = attachInOrder(
      order,
      (m) =>
        new XdpFastPath({
          mode: m,
          ports: ctx.ports.map((p) => ({ ifindex: p.ring.ifindex, ifname: p.ifname, mtu: p.mtu })),
          conns: balancer.conns,
          isn: (conn) => pipeline.fnatState.isn(conn),
          services: balancer.services,
          dests: balancer.dests,
          keepTcp: m === 'generic' && aggregation(),
        }),
    );
    fast = got.fast;
    mode = got.mode;
    refused = got.refused;
    if (!fast) {
      // `auto`: the pipeline forwards everything, as without the fast path; the daemon warns.
      if (!o.xdpOptional) throw got.error;
      unavailable = refused.join('; ');
      refused = [];
    }
  }
  /** LvsStats.xdp, from what the fast path is now. */
  const xdpState = (): string => {
    if (fast) return fast.keepTcp ? 'generic-after-gro' : mode!;
    return unavailable !== null ? `unavailable: ${unavailable}` : 'off';
  };
  if (fast) {
    pipeline.setForwardObserver(fast);
    balancer.conns.onExpire = (id) => fast.forget(id);
    balancer.conns.keepAlive = (id) => fast.sawPackets(id);
  }
  for (const s of o.services ?? []) {
    pipeline.setServiceOptions(findService(balancer, s.key).id, {
      proxyProtocol: s.proxyProtocol,
      toa: s.toa,
    });
  }
  const rates = {
    services: new RateEstimator(balancer.services.stats),
    dests: new RateEstimator(balancer.dests.stats),
  };
  const verdicts = new Uint8Array(256);
  // One journal slot per session up to 1M (4 bytes each); beyond that the refresh walk catches up.
  const store = balancerStore(balancer, pipeline.fnatState, Math.min(1 << 20, Math.max(4096, o.capacity)));
  let sync: SessionSync | null = null;
  const startSync = async (m: Extract<LvsControl, { type: 'syncStart' }>) => {
    await sync?.close();
    sync = null;
    const socket = await UdpSyncSocket.open(m.options.listen);
    sync = new SessionSync(m.options, store, socket, () => performance.now());
    sync.setRole(m.master);
    if (m.requestSnapshot) sync.requestSnapshot(performance.now());
    return sync.status(performance.now());
  };
  let now = performance.now();
  let nextRates = 0;
  let nextGroCheck = now + GRO_CHECK_MS;
  const mac = o.interfaces[0]!.mac.split(':').reduce((x, h) => x * 256 + Number.parseInt(h, 16), 0);

  return {
    handle(frame: RxFrame): number {
      return LOOP_VERDICT[pipeline.process(frame, now)]!;
    },
    handleBatch(frames: readonly RxFrame[], count: number, out: Uint8Array): void {
      pipeline.processBatch(frames, count, now, verdicts);
      for (let k = 0; k < count; k++) out[k] = LOOP_VERDICT[verdicts[k]!]!;
    },
    tick(): void {
      now = performance.now();
      fast?.tick(now);
      balancer.tick(now, 50_000);
      if (now >= nextRates) {
        nextRates = now + 2000;
        rates.services.tick(now);
        rates.dests.tick(now);
      }
      // GRO and LRO can be turned on (ethtool -K) while the director runs; the generic hook follows.
      if (fast && mode === 'generic' && now >= nextGroCheck) {
        nextGroCheck = now + GRO_CHECK_MS;
        let agg = fast.keepTcp;
        try {
          agg = aggregation();
        } catch {
          // The interface is going away: the loop will report that; keep what was known.
        }
        if (agg !== fast.keepTcp) fast.setKeepTcp(agg);
      }
      sync?.tick(now);
    },
    close(): void {
      fast?.close();
      void sync?.close();
    },
    control(message: unknown): unknown {
      const m = message as LvsControl;
      now = performance.now();
      switch (m.type) {
        case 'ops':
          applyEngineOps(balancer, m.ops);
          return null;
        case 'snapshot':
          return snapshotEngine(balancer, rates);
        case 'conns':
          return listConns(balancer, m.filter, m.offset, m.limit, now);
        case 'services':
          for (const s of m.services) {
            const svc = findService(balancer, s.key);
            pipeline.setServiceOptions(svc.id, { proxyProtocol: s.proxyProtocol, toa: s.toa });
          }
          return null;
        case 'answerVips':
          pipeline.answerVips = m.on;
          if (m.addresses) pipeline.setVirtualAddresses(m.addresses, m.managed ?? m.addresses);
          return null;
        case 'announce': {
          // Gratuitous ARP (request form: Linux arp_is_garp accepts it; keepalived's choice too) for IPv4,
          // an unsolicited Neighbor Advertisement to all nodes (RFC 4861 §7.2.6, Override set) for IPv6.
          const port = ctx.ports[0]!;
          let sent = 0;
          for (let r = 0; r < m.count; r++) {
            for (const a of m.addresses) {
              const off = port.acquire();
              if (off < 0) break;
              const n =
                a.family === 4
                  ? writeGratuitousArp(port.buf, off, mac, a.words[0], { form: 'request' })
                  : writeUnsolicitedNa(port.buf, off, mac, a.words);
              if (port.send(n)) sent++;
            }
          }
          port.ring.txFlush();
          return sent;
        }
        case 'stats': {
          const s: LvsStats = {
            drops: named(DROP_NAMES, pipeline.drops),
            passes: named(PASS_NAMES, pipeline.passes),
            events: {
              ...named(STAT_NAMES, pipeline.stats),
              ...(fast ? named(FAST_PATH_COUNTERS, fast.counters) : {}),
            },
            verdicts: named(VERDICT_NAMES, pipeline.verdicts),
            sync: sync ? named(SYNC_COUNTER_NAMES, sync.counters) : {},
            xdp: xdpState(),
            xdpRefused: refused,
          };
          if (sync && store.journal.overflows > 0) s.sync.journal_overflows = store.journal.overflows;
          return s;
        }
        case 'syncStart':
          return startSync(m);
        case 'syncRole':
          sync?.setRole(m.master);
          return null;
        case 'syncStop': {
          const closing = sync?.close();
          sync = null;
          return closing ?? null;
        }
        case 'syncStatus':
          return sync?.status(now) ?? null;
        default:
          throw new Error(`unknown control message ${(m as { type: string }).type}`);
      }
    },
  };
}

/** Ethernet to 33:33:00:00:00:01 + an unsolicited NA for `target` from it; returns the frame length. */
function writeUnsolicitedNa(b: Uint8Array, off: number, mac: number, target: readonly number[]): number {
  const hi = macHiOf(mac);
  const lo = macLoOf(mac);
  putMac(b, off, 0x3333, 1);
  putMac(b, off + 6, hi, lo);
  b[off + 12] = 0x86;
  b[off + 13] = 0xdd;
  const flags = NaFlag.ROUTER | NaFlag.OVERRIDE;
  return (
    14 +
    writeNdMessage(b, off + 14, Icmpv6Type.NEIGHBOR_ADVERT, flags, target, 0, ALL_NODES, 0, target, 0, hi, lo)
  );
}
