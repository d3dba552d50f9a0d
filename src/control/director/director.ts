/**
 * The director: owns the running config, turns config changes and health-check transitions into engine
 * operations (plan.ts), and keeps the data plane serving the configured services. Every change goes
 * through one queue, so a reload and a health transition never interleave.
 */
import type { DataPlane, DataPlaneService } from '../../dataplane/types.js';
import type { EngineOp } from '../../engine/ops.js';
import {
  HealthManager,
  type HealthManagerOptions,
  type MonitorStatus,
  type TransitionEvent,
} from '../../health/index.js';
import { type ConfigChange, realServerKey, serviceKey } from '../config/diff.js';
import type { Config, ServiceConfig } from '../config/types.js';
import type { EngineHost } from '../engine-host.js';
import type { Logger } from '../logger.js';
import { destSpecOf, healthId, healthyCount, isListed, planChanges, quorumUp } from './plan.js';

export interface DirectorOptions {
  config: Config;
  host: EngineHost;
  dataplane: DataPlane;
  logger: Logger;
  health?: Omit<HealthManagerOptions, 'onTransition'>;
}

export interface ApplyResult {
  changes: ConfigChange[];
  ops: EngineOp[];
  needsRestart: string[];
  applied: boolean;
}

export interface RealServerHealth {
  service: string;
  realServer: string;
  healthy: boolean;
  status: MonitorStatus | null;
}

function dataPlaneService(s: ServiceConfig): DataPlaneService {
  return {
    key: serviceKey(s),
    name: s.name,
    protocol: s.protocol,
    address: s.address,
    proxyProtocol: s.proxyProtocol,
    connectTimeoutMs: s.connectTimeoutMs,
    idleTimeoutMs: s.idleTimeoutMs,
    tcpNoDelay: s.tcpNoDelay,
  };
}

export class Director {
  readonly host: EngineHost;
  readonly dataplane: DataPlane;
  readonly health: HealthManager;
  readonly counters = { healthTransitions: 0, reloads: 0, reloadFailures: 0 };
  readonly #log: Logger;
  #config: Config;
  #started = false;
  readonly #healthy = new Map<string, boolean>();
  #up = new Map<string, boolean>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #healthListeners = new Set<() => void>();

  constructor(opts: DirectorOptions) {
    this.#config = opts.config;
    this.host = opts.host;
    this.dataplane = opts.dataplane;
    this.#log = opts.logger;
    this.health = new HealthManager({
      ...opts.health,
      onTransition: (id, ev) => {
        this.#serial(() => this.#onTransition(id, ev)).catch((err: unknown) => {
          this.#log.error({ err, id }, 'applying a health transition failed');
        });
      },
    });
  }

  get config(): Config {
    return this.#config;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #lookup = (service: string, rs: string): boolean => this.#healthy.get(healthId(service, rs)) ?? true;

  /** Applies the initial config: engine services, health monitors, listeners. */
  start(): Promise<ApplyResult> {
    return this.#serial(() => this.#apply(null, this.#config, false));
  }

  /** Moves to `next` touching only what changed; `dryRun` reports the plan and changes nothing. */
  apply(next: Config, opts: { dryRun?: boolean } = {}): Promise<ApplyResult> {
    return this.#serial(async () => {
      try {
        const r = await this.#apply(this.#started ? this.#config : null, next, opts.dryRun ?? false);
        if (r.applied) this.counters.reloads++;
        return r;
      } catch (err) {
        this.counters.reloadFailures++;
        throw err;
      }
    });
  }

  /**
   * Read-modify-apply in the change queue: `mutate` sees the running config and returns the next one,
   * so two concurrent API edits never lose each other's change. Throwing from `mutate` changes nothing.
   */
  update(mutate: (current: Config) => Config, opts: { dryRun?: boolean } = {}): Promise<ApplyResult> {
    return this.#serial(async () => {
      try {
        const next = mutate(this.#config);
        const r = await this.#apply(this.#started ? this.#config : null, next, opts.dryRun ?? false);
        if (r.applied) this.counters.reloads++;
        return r;
      } catch (err) {
        this.counters.reloadFailures++;
        throw err;
      }
    });
  }

  /** ipvsadm -Z: zeroes the counters of one service (engine key) or of all (null), in the change queue. */
  zeroCounters(key: string | null): Promise<void> {
    return this.#serial(() => this.host.apply([{ op: 'zeroCounters', key }]));
  }

  async #apply(before: Config | null, next: Config, dryRun: boolean): Promise<ApplyResult> {
    const plan = planChanges(before, next, this.#lookup, this.#up);
    const result = { changes: plan.changes, ops: plan.ops, needsRestart: plan.needsRestart, applied: false };
    if (dryRun) return result;
    const keep = new Set(next.services.map(serviceKey));
    const old = before?.services ?? [];
    // Listeners of removed services close before the engine forgets them; new ones open after.
    await this.dataplane.syncServices(old.filter((s) => keep.has(serviceKey(s))).map(dataPlaneService));
    try {
      await this.host.apply(plan.ops);
    } catch (err) {
      await this.dataplane.syncServices(old.map(dataPlaneService));
      throw err;
    }
    try {
      await this.dataplane.syncServices(next.services.map(dataPlaneService));
    } catch (err) {
      // A new listener could not open (address in use...): put the engine and the listeners back as
      // they were, so the change is all or nothing.
      if (before) {
        const undo = planChanges(next, before, this.#lookup, plan.up);
        await this.host.apply(undo.ops).catch((e: unknown) => this.#log.error({ err: e }, 'rollback failed'));
        await this.dataplane
          .syncServices(old.map(dataPlaneService))
          .catch((e: unknown) => this.#log.error({ err: e }, 'rollback of listeners failed'));
      }
      throw err;
    }
    this.health.sync(
      next.services.flatMap((s) =>
        s.realServers.map((rs) => ({
          id: healthId(serviceKey(s), realServerKey(rs)),
          target: { address: rs.address.addr, port: rs.address.port },
          spec: rs.health,
        })),
      ),
    );
    const ids = new Set(
      next.services.flatMap((s) => s.realServers.map((rs) => healthId(serviceKey(s), realServerKey(rs)))),
    );
    for (const id of this.#healthy.keys()) if (!ids.has(id)) this.#healthy.delete(id);
    this.#config = next;
    this.#up = plan.up;
    this.#started = true;
    for (const why of plan.needsRestart) this.#log.warn(why);
    if (before)
      this.#log.info({ changes: plan.changes.length, ops: plan.ops.length }, 'configuration applied');
    this.#emitHealthChange();
    return { ...result, applied: true };
  }

  async #onTransition(id: string, ev: TransitionEvent): Promise<void> {
    const sep = id.indexOf('|');
    const svcKey = id.slice(0, sep);
    const rsKey = id.slice(sep + 1);
    const svc = this.#config.services.find((s) => serviceKey(s) === svcKey);
    const rs = svc?.realServers.find((r) => realServerKey(r) === rsKey);
    if (!svc || !rs) return;
    const healthy = ev.state === 'up';
    if ((this.#healthy.get(id) ?? true) === healthy) return;
    this.#healthy.set(id, healthy);
    this.counters.healthTransitions++;
    const ops: EngineOp[] = [];
    if (rs.inhibitOnFailure)
      ops.push({ op: 'editDest', key: svcKey, dest: destSpecOf(rs, this.#config.dataplane.kind, healthy) });
    else ops.push({ op: 'setListed', key: svcKey, rs: rsKey, listed: isListed(rs, healthy) });
    if (!healthy && svc.expireOnFailure) ops.push({ op: 'expireDestConns', key: svcKey, rs: rsKey });
    const wasUp = this.#up.get(svcKey) ?? true;
    const up = quorumUp(svc, healthyCount(svc, this.#lookup), wasUp);
    if (up !== wasUp) {
      this.#up.set(svcKey, up);
      ops.push({ op: 'setServiceUp', key: svcKey, up });
    }
    await this.host.apply(ops);
    const fields = { service: svc.name, realServer: rsKey, reason: ev.result.reason };
    if (healthy) this.#log.info(fields, 'real server up');
    else
      this.#log.warn(
        fields,
        rs.inhibitOnFailure ? 'real server down: weight 0' : 'real server down: removed from scheduling',
      );
    if (up !== wasUp) {
      this.#log.warn(
        { service: svc.name, healthy: healthyCount(svc, this.#lookup), quorum: svc.quorum },
        up ? 'service back above quorum' : 'service below quorum',
      );
    }
    this.#emitHealthChange();
  }

  /** Calls `listener` after every applied health transition or config change (VRRP health tracking). */
  onHealthChange(listener: () => void): () => void {
    this.#healthListeners.add(listener);
    return () => this.#healthListeners.delete(listener);
  }

  #emitHealthChange(): void {
    for (const l of this.#healthListeners) {
      try {
        l();
      } catch (err) {
        this.#log.error({ err }, 'health change listener failed');
      }
    }
  }

  /** Health of every configured real server, for the API and metrics. */
  healthReport(): RealServerHealth[] {
    return this.#config.services.flatMap((s) =>
      s.realServers.map((rs) => {
        const service = serviceKey(s);
        const realServer = realServerKey(rs);
        return {
          service,
          realServer,
          healthy: this.#lookup(service, realServer),
          status: this.health.status(healthId(service, realServer)) ?? null,
        };
      }),
    );
  }

  serviceUp(key: string): boolean {
    return this.#up.get(key) ?? true;
  }

  /** Stops health checks, drains the data plane for up to `graceMs`, and releases the engine. */
  async stop(graceMs: number): Promise<void> {
    this.health.stop();
    await this.dataplane.stop(graceMs);
    await this.host.close();
  }
}
