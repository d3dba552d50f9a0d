/**
 * The packet data plane, main-thread side: checks the host (preflight.ts), reads the interface and the
 * kernel's routes, starts the packet worker running the LVS handler (engine + pipeline), and drives it:
 * per-service Full-NAT options, VIP announcements, VIP ownership for VRRP, session sync (which runs in
 * the worker; this side sets it up, passes the VRRP role and reads its status). The engine in the worker
 * is reached through `engineHost()` (an EngineHost posting operations as messages).
 */
import { fileURLToPath } from 'node:url';
import type { IpAddress } from '../../engine/addr.js';
import type { EngineOp } from '../../engine/ops.js';
import type { ConnFilter, ConnSnapshot, EngineSnapshot } from '../../engine/snapshot.js';
import type { SyncOptions, SyncStatus } from '../../ha/sync/types.js';
import type { DataPlane, DataPlaneService, DataPlaneStats } from '../types.js';
import { formatMac } from './ifinfo.js';
import { interfaceAddresses, kernelRoutes } from './kernel-routes.js';
import type { LvsControl, LvsHandlerOptions, LvsStats } from './lvs-protocol.js';
import { preflight } from './preflight.js';
import { PacketWorker } from './worker.js';

export interface PacketDataPlaneOptions {
  interface: string;
  localAddresses: IpAddress[];
  /** VIPs of the configured services (for the preflight check). */
  vips: IpAddress[];
  capacity: number;
  /** Answer ARP for VIPs at start (false when VRRP decides). */
  answerVips: boolean;
  /** Echo replies for the addresses held (default true), at most this many a second (0: no limit). */
  answerPing?: boolean;
  pingRatePerSec?: number;
  /** Attach the XDP fast path (LvsHandlerOptions.xdp; xdpOptional: run without it if it cannot). */
  xdp?: 'native' | 'generic' | 'auto';
  xdpOptional?: boolean;
  /** Pin the worker to this CPU. */
  cpu?: number;
  /** Told when the fast path's state (LvsStats.xdp) changes while running: GRO turned on or off. */
  onFastPathChange?: (state: string, previous: string) => void;
}

const HANDLER = fileURLToPath(new URL('./handlers/lvs.js', import.meta.url));

export class PacketDataPlane implements DataPlane {
  readonly kind = 'packet' as const;
  readonly worker: PacketWorker;
  readonly interfaceName: string;
  /** The services' VIPs, by `addrKey`. */
  #vips = new Map<string, IpAddress>();
  #lastStats: LvsStats | null = null;
  #statsTimer: NodeJS.Timeout;
  /** Director-wide addresses are ours: Full-NAT local addresses and VIPs no VRRP instance manages. */
  #answerVips: boolean;
  /** VRRP: the virtual addresses held now, and those some instance manages (keys of `addrKey`). */
  #owned = new Set<string>();
  #managed = new Set<string>();
  readonly #localAddresses: IpAddress[];

  private constructor(worker: PacketWorker, o: PacketDataPlaneOptions) {
    this.worker = worker;
    this.interfaceName = o.interface;
    this.#localAddresses = o.localAddresses;
    this.#answerVips = o.answerVips;
    this.#statsTimer = setInterval(() => {
      this.#control({ type: 'stats' }).then(
        (s) => {
          const previous = this.#lastStats?.xdp;
          this.#lastStats = s as LvsStats;
          const state = this.#lastStats.xdp;
          if (previous !== undefined && previous !== state) o.onFastPathChange?.(state, previous);
        },
        () => undefined,
      );
    }, 1000);
    this.#statsTimer.unref();
  }

  static async start(o: PacketDataPlaneOptions): Promise<PacketDataPlane> {
    const info = await preflight({
      interface: o.interface,
      userspaceAddresses: [...o.vips, ...o.localAddresses],
    });
    const routes = await kernelRoutes(o.interface);
    const own = await interfaceAddresses(o.interface);
    const connected = routes.filter((r) => r.via === null);
    const prefixOf = (a: IpAddress) =>
      connected.find((r) => r.dst.family === a.family && containsAddr(r.dst, r.prefixLen, a))?.prefixLen ??
      (a.family === 4 ? 32 : 128);
    const options: LvsHandlerOptions = {
      capacity: o.capacity,
      interfaces: [
        {
          name: o.interface,
          mac: formatMac(info.mac),
          mtu: info.mtu,
          addresses: own.map((a) => ({ address: a, prefixLen: prefixOf(a) })),
        },
      ],
      routes: routes
        .filter((r) => r.via !== null)
        .map((r) => ({ prefix: r.dst, prefixLen: r.prefixLen, via: r.via, src: r.src })),
      localAddresses: o.localAddresses,
      answerVips: o.answerVips,
      ...(o.answerPing !== undefined ? { answerPing: o.answerPing } : {}),
      ...(o.pingRatePerSec !== undefined ? { pingRatePerSec: o.pingRatePerSec } : {}),
      ...(o.xdp ? { xdp: o.xdp, xdpOptional: o.xdpOptional ?? false } : {}),
    };
    const worker = await PacketWorker.start({
      rings: [{ ifname: o.interface }],
      handler: HANDLER,
      handlerOptions: options,
      ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
    });
    return new PacketDataPlane(worker, o);
  }

  #control(m: LvsControl): Promise<unknown> {
    return this.worker.control(m);
  }

  /** The engine in the worker, as the control plane sees engines. */
  engineHost() {
    return {
      apply: async (ops: readonly EngineOp[]) => {
        await this.#control({ type: 'ops', ops: [...ops] });
      },
      snapshot: async () => (await this.#control({ type: 'snapshot' })) as EngineSnapshot,
      conns: async (filter: ConnFilter, offset: number, limit: number) =>
        (await this.#control({ type: 'conns', filter, offset, limit })) as {
          total: number;
          items: ConnSnapshot[];
        },
      close: async () => undefined,
    };
  }

  async syncServices(services: readonly DataPlaneService[]): Promise<void> {
    await this.#control({
      type: 'services',
      services: services.map((s) => ({
        key: s.key,
        proxyProtocol: s.proxyProtocol === 'v1' ? 1 : s.proxyProtocol === 'v2' ? 2 : 0,
        toa: s.protocol === 'tcp',
      })),
    });
    const vips = new Map(services.map((s) => [addrKey(s.address.addr), s.address.addr]));
    // A new VIP is announced only where it is answered: held here, or managed by no VRRP instance.
    const fresh = services
      .map((s) => s.address.addr)
      .filter((a) => !this.#vips.has(addrKey(a)) && this.#answers(a));
    this.#vips = vips;
    if (fresh.length > 0) await this.announce(fresh, 3);
  }

  #answers(a: IpAddress): boolean {
    const k = addrKey(a);
    return this.#owned.has(k) || (this.#answerVips && !this.#managed.has(k));
  }

  /**
   * The XDP fast path: `off`, the mode it runs in (LvsStats.xdp), or `unavailable: <why>`; `refused`: why
   * the hooks `auto` tried first were refused.
   */
  async fastPath(): Promise<{ state: string; refused: string[] }> {
    const s = (await this.#control({ type: 'stats' })) as LvsStats;
    return { state: s.xdp, refused: s.xdpRefused };
  }

  /** Gratuitous ARP for `addresses`, `count` times. */
  async announce(addresses: IpAddress[], count: number): Promise<void> {
    await this.#control({ type: 'announce', addresses, count });
  }

  /**
   * VRRP: answer ARP/ND (and ping) for `owned` — the virtual addresses of every instance this director is
   * master of — and not for the rest of `managed` (every instance's addresses); Full-NAT local addresses
   * while it owns anything. `announce`: addresses just taken over, announced with the local addresses
   * (real servers must learn that the local addresses moved, clients that the VIPs did).
   */
  async setVipOwnership(o: {
    owned: IpAddress[];
    managed: IpAddress[];
    /** Director-wide addresses (local addresses, VIPs no instance manages) are ours too. */
    directorWide: boolean;
    /** Addresses just taken over. */
    announce: IpAddress[];
  }): Promise<void> {
    const gained = o.directorWide && !this.#answerVips;
    this.#answerVips = o.directorWide;
    this.#owned = new Set(o.owned.map(addrKey));
    this.#managed = new Set(o.managed.map(addrKey));
    await this.#control({ type: 'answerVips', on: o.directorWide, addresses: o.owned, managed: o.managed });
    const announce = [...o.announce];
    if (gained) {
      announce.push(...this.#localAddresses);
      // VIPs nobody manages come with the director-wide addresses.
      for (const [k, a] of this.#vips) {
        if (!this.#managed.has(k)) announce.push(a);
      }
    }
    if (announce.length > 0) await this.announce(announce, 3);
  }

  /** Starts (or restarts with new settings) session sync in the worker; rejects when it cannot listen. */
  async startSync(
    options: SyncOptions,
    o: { master: boolean; requestSnapshot: boolean },
  ): Promise<SyncStatus> {
    return (await this.#control({ type: 'syncStart', options, ...o })) as SyncStatus;
  }

  async setSyncRole(master: boolean): Promise<void> {
    await this.#control({ type: 'syncRole', master });
  }

  async stopSync(): Promise<void> {
    await this.#control({ type: 'syncStop' });
  }

  async syncStatus(): Promise<SyncStatus | null> {
    return (await this.#control({ type: 'syncStatus' })) as SyncStatus | null;
  }

  async stop(_graceMs: number): Promise<void> {
    clearInterval(this.#statsTimer);
    await this.worker.stop();
  }

  stats(): DataPlaneStats {
    const c = this.worker.snapshot();
    const counters: Record<string, number> = {};
    for (const [k, v] of Object.entries(c)) counters[`io_${k}`] = v;
    const s = this.#lastStats;
    if (s) {
      for (const [k, v] of Object.entries(s.drops)) counters[`drop_${k}`] = v;
      for (const [k, v] of Object.entries(s.events)) counters[k] = v;
      for (const [k, v] of Object.entries(s.sync)) counters[`sync_${k}`] = v;
    }
    // 1 while the XDP fast path runs (an `auto` that could not attach shows 0, with the warning at start).
    const gauges: Record<string, number> = {};
    if (s) gauges.xdp_attached = s.xdp !== 'off' && !s.xdp.startsWith('unavailable') ? 1 : 0;
    return { counters, gauges };
  }
}

function containsAddr(net: IpAddress, len: number, a: IpAddress): boolean {
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(32, len - 32 * i));
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((net.words[i]! & mask) >>> 0 !== (a.words[i]! & mask) >>> 0) return false;
  }
  return true;
}

function addrKey(a: IpAddress): string {
  return `${a.family}/${a.words.join('.')}`;
}
