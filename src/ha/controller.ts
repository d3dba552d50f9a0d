/**
 * The daemon's HA side: one `VrrpInstance` per configured `ha.vrrp[]` entry, health tracking fed from
 * the director, a status view for the API and metrics, and a graceful stop that hands the addresses over
 * with priority 0. Components that must follow mastership (session sync, later) subscribe with
 * `onStateChange`.
 */
import { formatIp } from '../engine/addr.js';
import type { Timers } from '../health/timers.js';
import type { CommandRunner } from './command.js';
import { type Announcer, RawAnnouncer } from './garp.js';
import { VrrpInstance } from './instance.js';
import { ioctlLinkProbe, type LinkProbe } from './link.js';
import type { HaLogger } from './logger.js';
import { needsRestart, type VrrpInstanceSpec } from './spec.js';
import type { InstanceStatus, StateChange } from './status.js';
import { type TrackOutcome, trackedPriority } from './track.js';
import { rawTransport } from './transport/index.js';
import type { TransportFactory } from './transport/types.js';
import { InterfaceVips, type VipOwner } from './vip.js';

/** What health tracking reads: the director's view of each service, by name. */
export interface HealthSource {
  /** Whether the service is serving (at or above quorum). Unknown names count as up. */
  serviceUp(name: string): boolean;
  /** Calls `listener` after health transitions and config changes; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

export interface HaControllerOptions {
  instances: readonly VrrpInstanceSpec[];
  logger: HaLogger;
  /** Default: `InterfaceVips` (proxy mode: `ip addr add/del`). The packet data plane passes its own. */
  vips?: VipOwner;
  /** Default: raw IPv4/IPv6 sockets. */
  transport?: TransportFactory;
  /** Default: `RawAnnouncer` (AF_PACKET gratuitous ARP / unsolicited NA). */
  announcer?: Announcer;
  health?: HealthSource | null;
  timers?: Timers;
  wallClock?: () => number;
  notify?: { run?: CommandRunner; timeoutMs?: number };
  transportRetryMs?: number;
  /** Link state of each instance's interface (FAULT while down). Default: SIOCGIFFLAGS; null = not watched. */
  linkProbe?: LinkProbe | null;
}

export interface ApplyHaResult {
  added: string[];
  removed: string[];
  restarted: string[];
  /** Reconfigured in place, state kept. */
  updated: string[];
}

export interface HaStatus {
  instances: InstanceStatus[];
}

export class HaController {
  readonly #o: HaControllerOptions;
  readonly #instances = new Map<string, VrrpInstance>();
  readonly #listeners = new Set<(c: StateChange) => void>();
  readonly #announcer: Announcer;
  readonly #vips: VipOwner;
  readonly #tracked = new WeakMap<VrrpInstance, TrackOutcome>();
  #unsubscribeHealth: (() => void) | null = null;
  #stopping: Promise<void> | null = null;

  private constructor(opts: HaControllerOptions) {
    this.#o = opts;
    this.#announcer = opts.announcer ?? new RawAnnouncer();
    this.#vips = opts.vips ?? new InterfaceVips();
  }

  /** Starts every instance (each begins in BACKUP, or MASTER when it owns the addresses). */
  static async start(opts: HaControllerOptions): Promise<HaController> {
    const c = new HaController(opts);
    // Subscribe first: a health transition while the instances start must not be missed.
    c.#unsubscribeHealth = opts.health?.onChange(() => c.reevaluateTracking()) ?? null;
    await Promise.all(opts.instances.map((spec) => c.#add(spec)));
    return c;
  }

  get instances(): VrrpInstance[] {
    return [...this.#instances.values()];
  }

  instance(name: string): VrrpInstance | undefined {
    return this.#instances.get(name);
  }

  /** Every transition of every instance (present and future). Returns the unsubscribe. */
  onStateChange(listener: (c: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): HaStatus {
    return { instances: this.instances.map((i) => i.status()) };
  }

  /** Re-reads service health and updates each instance's priority / FAULT (keepalived track weights). */
  reevaluateTracking(): void {
    for (const inst of this.#instances.values()) this.#track(inst);
  }

  #track(inst: VrrpInstance): void {
    const health = this.#o.health;
    if (!health || inst.spec.trackHealth.length === 0) return;
    const outcome = trackedPriority(inst.spec.priority, inst.spec.trackHealth, (s) => health.serviceUp(s));
    const before = this.#tracked.get(inst) ?? { priority: inst.spec.priority, fault: false, down: [] };
    this.#tracked.set(inst, outcome);
    inst.setTracking(outcome);
    if (outcome.priority === before.priority && outcome.fault === before.fault) return;
    this.#o.logger.info(
      {
        instance: inst.name,
        priority: outcome.priority,
        was: before.priority,
        fault: outcome.fault,
        servicesDown: outcome.down,
      },
      'VRRP priority changed by health tracking',
    );
  }

  /**
   * Moves to a new set of instances (reload), touching only what changed: an instance whose identity
   * changed (interface, VRID, version, addresses, peers, source, ownership) restarts after a priority-0
   * handover; one whose behaviour changed (priority, interval, preemption, authentication, announcements,
   * hooks, tracking) takes the new settings in place, keeping its state; removed ones resign and stop;
   * new ones start. Applying the same list twice changes nothing.
   */
  async apply(specs: readonly VrrpInstanceSpec[]): Promise<ApplyHaResult> {
    const next = new Map(specs.map((s) => [s.name, s]));
    const result: ApplyHaResult = { added: [], removed: [], restarted: [], updated: [] };
    for (const [name, inst] of this.#instances) {
      const spec = next.get(name);
      if (!spec) result.removed.push(name);
      else if (needsRestart(inst.spec, spec)) result.restarted.push(name);
      else if (JSON.stringify(inst.spec) !== JSON.stringify(spec)) {
        inst.reconfigure(spec);
        this.#tracked.delete(inst);
        this.#track(inst);
        result.updated.push(name);
      }
    }
    for (const name of [...result.removed, ...result.restarted]) {
      await this.#instances.get(name)!.stop({ handover: true });
      this.#instances.delete(name);
    }
    for (const spec of specs) {
      if (this.#instances.has(spec.name)) continue;
      if (!result.restarted.includes(spec.name)) result.added.push(spec.name);
      await this.#add(spec);
    }
    if (result.updated.length + result.restarted.length + result.added.length + result.removed.length > 0)
      this.#o.logger.info({ ...result }, 'VRRP instances reconfigured');
    return result;
  }

  /** Stops every instance; `handover` (default true) resigns with priority 0 for an instant takeover. */
  stop(opts: { handover?: boolean } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      this.#unsubscribeHealth?.();
      await Promise.all(this.instances.map((i) => i.stop({ handover: opts.handover ?? true })));
      this.#instances.clear();
      this.#announcer.close();
    })();
    return this.#stopping;
  }

  async #add(spec: VrrpInstanceSpec): Promise<void> {
    const o = this.#o;
    const inst = new VrrpInstance({
      spec,
      transport: o.transport ?? rawTransport,
      vips: this.#vips,
      announcer: this.#announcer,
      logger: o.logger,
      ...(o.timers ? { timers: o.timers } : {}),
      ...(o.wallClock ? { wallClock: o.wallClock } : {}),
      ...(o.notify ? { notify: o.notify } : {}),
      ...(o.transportRetryMs !== undefined ? { transportRetryMs: o.transportRetryMs } : {}),
      linkProbe: o.linkProbe === undefined ? ioctlLinkProbe : o.linkProbe,
    });
    inst.onStateChange((c) => {
      for (const l of this.#listeners) l(c);
    });
    this.#instances.set(spec.name, inst);
    this.#track(inst);
    await inst.start();
    o.logger.info(
      {
        instance: spec.name,
        interface: spec.interface,
        vrid: spec.virtualRouterId,
        version: spec.version,
        priority: spec.priority,
        addresses: spec.virtualAddresses.map((v) => formatIp(v.addr)),
        source: inst.status().source,
      },
      'VRRP instance started',
    );
  }
}
