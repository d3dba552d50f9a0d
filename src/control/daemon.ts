/**
 * The daemon: the engine host, the data plane, the director and the admin API, started from a config and
 * stopped gracefully. `tslvs run` and `tslvs demo` are thin shells around it.
 */
import type { AddressInfo } from 'node:net';
import { PacketDataPlane } from '../dataplane/packet/packet-dataplane.js';
import { tuneMallocForRelay } from '../dataplane/proxy/malloc-tuning.js';
import { ProxyDataPlane } from '../dataplane/proxy/proxy-dataplane.js';
import type { DataPlane } from '../dataplane/types.js';
import { nativeModeCaveat } from '../dataplane/xdp/native-caveat.js';
import { formatEndpoint, formatIp, type IpAddress } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import { HaController } from '../ha/controller.js';
import { nonlocalBindProblem } from '../ha/nonlocal-bind.js';
import type { SyncOptions } from '../ha/sync/types.js';
import type { HealthManagerOptions } from '../health/index.js';
import { buildRouter } from './api/routes.js';
import { AdminServer } from './api/server.js';
import { serviceKey } from './config/diff.js';
import { loadConfigFile } from './config/load.js';
import type { Config } from './config/types.js';
import { type ApplyResult, Director } from './director/director.js';
import { healthId } from './director/plan.js';
import { type EngineHost, LocalEngineHost } from './engine-host.js';
import type { Logger } from './logger.js';
import { VipOwnership } from './vip-ownership.js';

export interface DaemonOptions {
  config: Config;
  /** Where `reload` re-reads the config from; null = the config came from elsewhere (demo, tests). */
  configFile: string | null;
  logger: Logger;
  env?: Readonly<Record<string, string | undefined>>;
  health?: Omit<HealthManagerOptions, 'onTransition'>;
  /** Override the config's admin listen address (tests use port 0). */
  adminListen?: Config['admin']['listen'];
}

export class Daemon {
  readonly director: Director;
  readonly host: EngineHost;
  readonly dataplane: DataPlane;
  readonly admin: AdminServer;
  readonly logger: Logger;
  readonly startedAt = Date.now();
  readonly configFile: string | null;
  adminAddress: AddressInfo | null = null;
  /** VRRP (null when `ha.vrrp` is empty). */
  ha: HaController | null = null;
  #stopping: Promise<void> | null = null;
  /** The session sync settings running in the packet worker (JSON, to see reload changes); null = off. */
  #syncRunning: string | null = null;
  #syncMaster = false;
  /** Set as soon as stop() is called (the VRRP resignation it starts reports synchronously). */
  #shuttingDown = false;
  readonly #env: Readonly<Record<string, string | undefined>>;

  private constructor(opts: DaemonOptions, host: EngineHost, dataplane: DataPlane) {
    this.logger = opts.logger;
    this.configFile = opts.configFile;
    this.#env = opts.env ?? process.env;
    this.host = host;
    this.dataplane = dataplane;
    this.director = new Director({
      config: opts.config,
      host,
      dataplane,
      logger: opts.logger,
      ...(opts.health ? { health: opts.health } : {}),
    });
    const router = buildRouter(this);
    this.admin = new AdminServer({
      listen: opts.adminListen ?? opts.config.admin.listen,
      token: opts.config.admin.token,
      router,
      logger: opts.logger,
    });
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const { config } = opts;
    let host: EngineHost;
    let dataplane: DataPlane;
    let director: Director | null = null;
    if (config.dataplane.kind === 'packet') {
      const iface = config.dataplane.interface;
      const caveat = config.dataplane.xdp === 'native' ? nativeModeCaveat(iface) : null;
      if (caveat) opts.logger.warn(caveat);
      const packet = await PacketDataPlane.start({
        interface: config.dataplane.interface,
        localAddresses: config.dataplane.localAddresses,
        vips: [...new Map(config.services.map((s) => [formatIp(s.address.addr), s.address.addr])).values()],
        capacity: config.conntable.size,
        // With VRRP the controller decides when this director answers for the VIPs.
        answerVips: config.ha.vrrp.length === 0,
        answerPing: config.dataplane.answerPing,
        pingRatePerSec: config.dataplane.pingRatePerSec,
        ...xdpOptions(config.dataplane.xdp),
        onFastPathChange(state) {
          if (state === 'generic-after-gro') opts.logger.warn(groCaveat(iface));
          else if (state === 'generic')
            opts.logger.info(
              `GRO and LRO are off on ${iface} now: the XDP fast path (generic) offloads TCP sessions of every forwarding method again`,
            );
        },
      });
      const { state, refused } =
        config.dataplane.xdp === 'off' ? { state: 'off', refused: [] } : await packet.fastPath();
      if (state === 'generic-after-gro') opts.logger.warn(groCaveat(iface));
      if (config.dataplane.xdp === 'auto') {
        const why = state.startsWith('unavailable: ') ? state.slice('unavailable: '.length) : null;
        if (why) opts.logger.warn(`${why} (dataplane.xdp: auto); the pipeline forwards every packet`);
        else
          opts.logger.info(
            `XDP fast path on ${iface}: ${state === 'native' ? 'native (in the driver)' : 'generic'} (dataplane.xdp: auto)` +
              (refused.length > 0 ? `; ${refused.join('; ')}` : ''),
          );
      }
      host = packet.engineHost();
      dataplane = packet;
    } else {
      const local = new LocalEngineHost({ conntable: { capacity: config.conntable.size } });
      host = local;
      dataplane = new ProxyDataPlane({
        balancer: local.balancer,
        clock: local.clock,
        // A failed connect is a hint: check that real server now rather than at its next interval.
        onConnectFailure: (key, dest) => {
          const d = local.balancer.dests;
          director?.health.checkNow(
            healthId(key, formatEndpoint({ addr: d.address(dest), port: d.port[dest]! })),
          );
        },
      });
      local.start();
      const heap = tuneMallocForRelay();
      opts.logger.debug({ applied: heap.applied, reason: heap.reason }, 'relay heap tuning');
    }
    const daemon = new Daemon(opts, host, dataplane);
    director = daemon.director;
    try {
      const bindProblem = nonlocalBindProblem(config);
      if (bindProblem) opts.logger.warn(bindProblem);
      await daemon.director.start();
      await daemon.#syncSessions(config, true);
      await daemon.#syncHa(config);
      daemon.adminAddress = await daemon.admin.listen();
    } catch (err) {
      await daemon.ha?.stop({ handover: true }).catch(() => undefined);
      await daemon.director.stop(0).catch(() => undefined);
      await daemon.admin.close().catch(() => undefined);
      throw err;
    }
    opts.logger.info(
      {
        services: config.services.length,
        admin: `${daemon.adminAddress.address}:${daemon.adminAddress.port}`,
      },
      'tslvs started',
    );
    return daemon;
  }

  /** Environment the config was read with (TSLVS_TOKEN). */
  get env(): Readonly<Record<string, string | undefined>> {
    return this.#env;
  }

  /** Re-reads the config file and applies the difference (`dryRun`: only reports it). */
  async reload(opts: { dryRun?: boolean } = {}): Promise<ApplyResult> {
    if (!this.configFile)
      throw new TslvsError(
        ErrorCodes.INVALID_ARGUMENT,
        'this daemon was not started from a config file: nothing to reload',
      );
    const { config, warnings } = await loadConfigFile(this.configFile, { env: this.#env });
    for (const w of warnings) this.logger.warn({ file: w.file, line: w.line }, w.message);
    const result = await this.director.apply(config, opts);
    if (!opts.dryRun) {
      await this.#syncSessions(config, false);
      await this.#syncHa(config);
    }
    return result;
  }

  /**
   * Session sync (packet mode): starts it, restarts it when its settings changed, stops it when removed.
   * At start the director asks its peers for their sessions and waits (up to `snapshotWait`) before VRRP
   * may make it master, so it never takes traffic with an empty table while a peer holds sessions.
   */
  async #syncSessions(config: Config, starting: boolean): Promise<void> {
    const s = config.ha.sync;
    if (!(this.dataplane instanceof PacketDataPlane)) {
      if (s && starting) this.logger.warn('ha.sync: session sync needs dataplane.kind packet; it is off');
      return;
    }
    const packet = this.dataplane;
    const options: SyncOptions | null = s && {
      listen: s.listen,
      peers: s.peers,
      key: s.key,
      refreshIntervalMs: s.refreshIntervalMs,
      snapshotWaitMs: s.snapshotWaitMs,
    };
    const wanted = options && JSON.stringify({ ...options, instance: s?.instance });
    if (wanted === this.#syncRunning) return;
    if (!options) {
      await packet.stopSync();
      this.#syncRunning = null;
      this.logger.info('session sync stopped');
      return;
    }
    this.#syncRunning = null; // a restart closes the running one first, whether or not the new one starts
    await packet.startSync(options, { master: this.#syncMaster, requestSnapshot: starting });
    this.#syncRunning = wanted;
    this.logger.info(
      { listen: formatEndpoint(options.listen), peers: options.peers.map(formatEndpoint) },
      'session sync started',
    );
    if (!starting || options.snapshotWaitMs === 0) return;
    const deadline = Date.now() + options.snapshotWaitMs + 1000;
    let st = await packet.syncStatus();
    while (st?.snapshot.state === 'waiting' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      st = await packet.syncStatus();
    }
    const snap = { state: st?.snapshot.state, records: st?.snapshot.received, from: st?.snapshot.from };
    if (st?.snapshot.state === 'done') this.logger.info(snap, 'session sync: snapshot received');
    else this.logger.warn(snap, 'session sync: no snapshot from any peer; starting without one');
  }

  /**
   * VRRP transitions make this director the sync master (a sender) or not: with `ha.sync.instance`, while
   * it is master of that instance (keepalived's lvs_sync_daemon); by default, while it is master of any
   * instance, so directors that split the instances between them each send the sessions they forward.
   */
  #followVrrp(ha: HaController): void {
    const explicit = () => this.director.config.ha.sync?.instance ?? undefined;
    const isMaster = (name: string) => ha.instance(name)?.status().state.toLowerCase() === 'master';
    const follow = (instance: string, state: string) => {
      if (!(this.dataplane instanceof PacketDataPlane)) return;
      const only = explicit();
      if (only !== undefined && instance !== only) return;
      // A master that resigns to stop keeps sending until its data plane stops: connections it still
      // forwards during the handover reach the new master too.
      if (this.#shuttingDown) return;
      const now = state.toLowerCase() === 'master';
      // The instance that moved counts with its new state, whatever its status says yet.
      const master =
        only !== undefined
          ? now
          : this.director.config.ha.vrrp.some((i) => (i.name === instance ? now : isMaster(i.name)));
      if (master === this.#syncMaster) return;
      this.#syncMaster = master;
      if (this.#syncRunning === null) return;
      this.dataplane.setSyncRole(master).then(
        () => this.logger.info({ instance }, `session sync: ${master ? 'master' : 'backup'}`),
        (err: Error) => this.logger.warn({ err: err.message }, 'session sync: role change failed'),
      );
    };
    ha.onStateChange((c) => follow(c.instance, c.to));
    for (const i of this.director.config.ha.vrrp) {
      const now = ha.instance(i.name)?.status().state;
      if (now !== undefined) follow(i.name, now);
    }
  }

  /** Starts VRRP when the config has instances, or applies the new instance list to the running one. */
  async #syncHa(config: Config): Promise<void> {
    if (this.ha) {
      await this.ha.apply(config.ha.vrrp);
      return;
    }
    if (config.ha.vrrp.length === 0) return;
    const director = this.director;
    const packet = this.dataplane instanceof PacketDataPlane ? this.dataplane : null;
    // Every instance's addresses, from the configuration in force (a reload may change them).
    const managed = () => director.config.ha.vrrp.flatMap((i) => i.virtualAddresses.map((v) => v.addr));
    // Full-NAT local addresses and VIPs no instance lists move with one instance: the one session sync
    // follows (the first by default), so they stay where the synced sessions are. Without VRRP: always.
    const anchor = () => director.config.ha.sync?.instance ?? director.config.ha.vrrp[0]?.name;
    const ownership = new VipOwnership();
    const apply = async (taken: IpAddress[]) => {
      const vrrp = director.config.ha.vrrp;
      ownership.retain(vrrp.map((i) => i.name));
      const a = anchor();
      const directorWide = vrrp.length === 0 || (a !== undefined && ownership.instances().includes(a));
      await packet!.setVipOwnership({
        owned: ownership.owned(),
        managed: managed(),
        directorWide,
        announce: taken,
      });
    };
    this.ha = await HaController.start({
      instances: config.ha.vrrp,
      logger: this.logger,
      // Packet mode: the VIPs are never on the kernel's interfaces; taking over = answering ARP for them.
      ...(packet
        ? {
            vips: {
              ownVips: (instance: string, addrs: readonly { addr: IpAddress }[]) =>
                apply(
                  ownership.own(
                    instance,
                    addrs.map((a) => a.addr),
                  ).taken,
                ),
              releaseVips: (instance: string) => apply(ownership.release(instance).taken),
            },
          }
        : {}),
      health: {
        serviceUp: (name) => {
          const svc = director.config.services.find((s) => s.name === name);
          return svc ? director.serviceUp(serviceKey(svc)) : true;
        },
        onChange: (listener) => director.onHealthChange(listener),
      },
    });
    this.#followVrrp(this.ha);
  }

  /** Stops accepting, lets connections finish for up to `graceMs`, then exits everything. Idempotent. */
  stop(graceMs: number): Promise<void> {
    this.#shuttingDown = true;
    this.#stopping ??= (async () => {
      this.logger.info({ graceMs }, 'stopping');
      // Resign first (VRRP priority 0): the backup takes over after Skew_Time, not Master_Down_Interval.
      await this.ha?.stop({ handover: true });
      await this.director.stop(graceMs);
      await this.admin.close();
      this.logger.info('stopped');
    })();
    return this.#stopping;
  }
}

/** Why the generic hook keeps NAT, Full-NAT and TUN TCP sessions in the pipeline on `iface`. */
function groCaveat(iface: string): string {
  return `XDP fast path (generic) offloads UDP and DR only: GRO or LRO is on for ${iface}, and the generic hook sees TCP after aggregation; NAT, Full-NAT and TUN TCP sessions stay with the pipeline (dataplane.xdp: native, or GRO and LRO off, offloads them too)`;
}

/**
 * The packet data plane's XDP options for `dataplane.xdp`: `auto` is the driver hook where the driver
 * suits it, else the generic one, which every device has, and no fast path (warned) where the kernel
 * refuses both (xdp/auto-mode.ts); `native` and `generic` are that hook or no start.
 */
function xdpOptions(mode: 'off' | 'auto' | 'native' | 'generic'): {
  xdp?: 'native' | 'generic' | 'auto';
  xdpOptional?: boolean;
} {
  if (mode === 'off') return {};
  if (mode === 'auto') return { xdp: 'auto', xdpOptional: true };
  return { xdp: mode };
}
