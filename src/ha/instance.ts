/**
 * One running VRRP instance: the pure machine (vrrp/machine.ts) wired to a transport, a timer, the VIP
 * owner, the announcer and the notify hooks. Everything the machine decides happens here, in the order
 * it asked: an advert is sent before the addresses are taken (keepalived: "the old master needs to
 * remove the VIPs before we send the gratuitous ARPs, so send the advert first").
 *
 * The addresses themselves are held by a VipHolder (holder.ts); FAULT comes from health tracking and
 * from the link of the instance's interface (link.ts).
 */
import { formatIp, type IpAddress } from '../engine/addr.js';
import type { Timers } from '../health/timers.js';
import { monotonicTimers } from './clock.js';
import type { CommandRunner } from './command.js';
import { type InstanceCounters, newCounters } from './counters.js';
import type { Announcer } from './garp.js';
import { VipHolder } from './holder.js';
import { type LinkProbe, LinkWatch } from './link.js';
import type { HaLogger } from './logger.js';
import { NotifyQueue, type NotifyState } from './notify.js';
import { AdvertReceiver } from './receiver.js';
import { advertSpecOf, type VrrpInstanceSpec } from './spec.js';
import type { InstanceStatus, StateChange } from './status.js';
import type { TrackOutcome } from './track.js';
import type { TransportFactory, VrrpTransport } from './transport/types.js';
import type { VipOwner } from './vip.js';
import { type AdvertSpec, advertDestinations, buildAdvert } from './vrrp/advert.js';
import { VrrpMachine } from './vrrp/machine.js';
import type { RxPacket } from './vrrp/receive.js';
import {
  type MachineConfig,
  type TransitionReason,
  type VrrpAction,
  type VrrpEvent,
  VrrpState,
} from './vrrp/types.js';

export interface InstanceOptions {
  spec: VrrpInstanceSpec;
  transport: TransportFactory;
  vips: VipOwner;
  announcer: Announcer;
  logger: HaLogger;
  /** Monotonic timers for VRRP deadlines (default: performance.now + setTimeout). */
  timers?: Timers;
  /** Wall clock for transition stamps (default Date.now). */
  wallClock?: () => number;
  notify?: { run?: CommandRunner; timeoutMs?: number };
  /** How long to wait before retrying a transport that failed to open (default 5 s). */
  transportRetryMs?: number;
  /** Link state of the interface (FAULT while down); null = not watched. */
  linkProbe?: LinkProbe | null;
}

export class VrrpInstance {
  #spec: VrrpInstanceSpec;
  readonly counters: InstanceCounters = newCounters();
  readonly #o: InstanceOptions;
  readonly #timers: Timers;
  readonly #wall: () => number;
  readonly #log: HaLogger;
  readonly #notify: NotifyQueue;
  readonly #holder: VipHolder;
  #advert: AdvertSpec;
  readonly #listeners = new Set<(c: StateChange) => void>();
  readonly #receiver: AdvertReceiver;
  #machine: VrrpMachine | null = null;
  #transport: VrrpTransport | null = null;
  #transportError: string | null = null;
  #retry: unknown = null;
  #timer: unknown = null;
  #armedFor = Number.NaN;
  #link: LinkWatch | null = null;
  #trackFault = false;
  #trackedDown: string[] = [];
  #priority: number;
  #lastTransition: StateChange | null = null;
  #stopped = false;
  #sendResign = true;

  constructor(opts: InstanceOptions) {
    this.#o = opts;
    this.#spec = opts.spec;
    this.#timers = opts.timers ?? monotonicTimers;
    this.#wall = opts.wallClock ?? Date.now;
    this.#log = opts.logger;
    this.#priority = opts.spec.priority;
    this.#receiver = new AdvertReceiver(opts.spec.name, this.counters, opts.logger, () => this.#timers.now());
    this.#notify = new NotifyQueue(opts.spec.notify, opts.logger, opts.notify);
    this.#holder = new VipHolder({
      instance: opts.spec.name,
      addresses: opts.spec.virtualAddresses,
      vips: opts.vips,
      announcer: opts.announcer,
      garp: opts.spec.garp,
      timers: this.#timers,
      log: opts.logger,
      isMaster: () => this.#machine?.state === VrrpState.MASTER && !this.#stopped,
      counters: this.counters,
    });
    this.#advert = advertSpecOf(opts.spec);
  }

  get spec(): VrrpInstanceSpec {
    return this.#spec;
  }

  /**
   * Takes new settings without a transition (reload): priority, interval, preemption, authentication,
   * announcements, hooks and tracking. The controller restarts the instance instead when its identity
   * changes (interface, VRID, version, addresses, peers, source, ownership): see `needsRestart`.
   */
  reconfigure(spec: VrrpInstanceSpec): void {
    this.#spec = spec;
    this.#advert = advertSpecOf(spec);
    this.#notify.update(spec.notify);
    this.#holder.setTiming(spec.garp);
    this.#priority = spec.priority;
    if (this.#machine && this.#transport) {
      this.#machine.reconfigure(this.#machineConfig(this.#transport.source));
      this.#arm();
    }
  }

  get name(): string {
    return this.spec.name;
  }

  get state(): VrrpState {
    return this.#machine?.state ?? (this.#transportError !== null ? VrrpState.FAULT : VrrpState.INIT);
  }

  /** Subscribes to transitions (the session-sync component hooks in here); returns the unsubscribe. */
  onStateChange(listener: (c: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Opens the transport, clears VIPs a previous run may have left (keepalived does the same at start),
   * then starts the machine: BACKUP (or MASTER for the owner, FAULT while tracking or the link says so).
   */
  async start(): Promise<void> {
    await this.#holder.clear();
    const probe = this.#o.linkProbe;
    if (probe) {
      this.#link = new LinkWatch({
        ifname: this.spec.interface,
        probe,
        timers: this.#timers,
        advertIntervalMs: this.spec.advertIntervalMs,
        onChange: (up) => {
          this.#log.warn(
            { instance: this.name, interface: this.spec.interface },
            up ? 'VRRP link up' : 'VRRP link down: FAULT',
          );
          this.#dispatch({ type: 'fault', on: this.#faulted() });
        },
      });
    }
    this.#openTransport();
  }

  /**
   * Leaves the instance: a master resigns with priority 0 (`handover`, the default) so a backup takes
   * over after Skew_Time instead of Master_Down_Interval, then releases its addresses.
   */
  async stop(opts: { handover?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#sendResign = opts.handover ?? true;
    if (this.#machine) this.#dispatch({ type: 'shutdown' });
    this.#stopped = true;
    this.#link?.stop();
    this.#clearTimer();
    if (this.#retry !== null) this.#timers.clearTimeout(this.#retry);
    this.#transport?.close();
    this.#transport = null;
    await this.#holder.close();
    await this.#notify.idle();
  }

  /** Health tracking changed (see track.ts): new effective priority and/or FAULT. */
  setTracking(outcome: TrackOutcome): void {
    this.#trackedDown = outcome.down;
    this.#priority = outcome.priority;
    this.#trackFault = outcome.fault;
    if (!this.#machine) return;
    this.#dispatch({ type: 'priority', priority: outcome.priority });
    this.#dispatch({ type: 'fault', on: this.#faulted() });
  }

  #faulted(): boolean {
    return this.#trackFault || (this.#link !== null && !this.#link.up);
  }

  status(): InstanceStatus {
    const snap = this.#machine?.snapshot();
    const master =
      snap?.state === VrrpState.BACKUP && snap.masterAddress
        ? { address: formatIp(snap.masterAddress), priority: snap.masterPriority }
        : null;
    return {
      name: this.name,
      interface: this.spec.interface,
      virtualRouterId: this.spec.virtualRouterId,
      version: this.spec.version,
      state: this.state,
      priority: this.spec.priority,
      effectivePriority: snap?.effectivePriority ?? this.spec.priority,
      advertIntervalMs: this.spec.advertIntervalMs,
      masterAdverIntervalMs: snap?.masterAdverIntervalMs ?? this.spec.advertIntervalMs,
      source: this.#transport ? formatIp(this.#transport.source) : null,
      unicastPeers: this.spec.unicastPeers.map(formatIp),
      master,
      virtualAddresses: this.spec.virtualAddresses.map((v) => `${formatIp(v.addr)}/${v.prefixLength}`),
      ownsVips: this.#holder.owned,
      fault: {
        tracking: this.#trackFault,
        linkDown: this.#link !== null && !this.#link.up,
        transport: this.#transportError,
      },
      trackedDown: [...this.#trackedDown],
      lastTransition: this.#lastTransition,
      counters: { ...this.counters, drops: { ...this.counters.drops } },
    };
  }

  #machineConfig(primary: IpAddress): MachineConfig {
    const s = this.spec;
    return {
      version: s.version,
      priority: s.priority,
      advertIntervalMs: s.advertIntervalMs,
      preempt: s.preempt,
      preemptDelayMs: s.preemptDelayMs,
      primary,
    };
  }

  #family(): 4 | 6 {
    return this.spec.virtualAddresses[0]?.addr.family ?? 4;
  }

  /** The machine starts once the transport is open: until then the instance is in FAULT and retries. */
  #openTransport(): void {
    this.#retry = null;
    if (this.#stopped) return;
    let t: VrrpTransport;
    try {
      t = this.#o.transport({
        interface: this.spec.interface,
        family: this.#family(),
        source: this.spec.unicastSource,
        unicastPeers: this.spec.unicastPeers,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.#transportError !== message)
        this.#log.error({ instance: this.name, err: message }, 'VRRP transport cannot be opened: FAULT');
      this.#transportError = message;
      this.#retry = this.#timers.setTimeout(() => this.#openTransport(), this.#o.transportRetryMs ?? 5000);
      return;
    }
    this.#transport = t;
    t.onReceive((pkt) => this.#receive(pkt));
    if (this.#transportError !== null) this.#log.info({ instance: this.name }, 'VRRP transport open');
    this.#transportError = null;
    this.#machine = new VrrpMachine(this.#machineConfig(t.source));
    this.#dispatch({ type: 'priority', priority: this.#priority });
    this.#dispatch({ type: 'fault', on: this.#faulted() });
    this.#dispatch({ type: 'startup' });
  }

  #receive(pkt: RxPacket): void {
    const t = this.#transport;
    if (this.#stopped || !t) return;
    const advert = this.#receiver.accept(pkt, {
      ...this.#advert,
      source: t.source,
      unicastPeers: this.spec.unicastPeers,
    });
    if (advert) this.#dispatch({ type: 'advert', advert });
  }

  #dispatch(ev: VrrpEvent): void {
    const m = this.#machine;
    if (!m || this.#stopped) return;
    for (const action of m.handle(ev, this.#timers.now())) this.#act(action);
    this.#arm();
  }

  #act(a: VrrpAction): void {
    switch (a.type) {
      case 'send':
        this.#send(a.priority);
        return;
      case 'conflict':
        this.counters.masterConflicts++;
        this.#log.warn(
          { instance: this.name, peer: formatIp(a.from), peerPriority: a.priority, outcome: a.outcome },
          a.outcome === 'stepped-down'
            ? 'VRRP: another master with precedence: stepping down'
            : 'VRRP: another master with lower precedence: advertising at once',
        );
        return;
      case 'transition':
        this.#transition(a.from, a.to, a.reason);
        return;
    }
  }

  #send(priority: number): void {
    const t = this.#transport;
    if (!t || (priority === 0 && !this.#sendResign)) return;
    for (const dst of advertDestinations(this.spec.unicastPeers, t.family)) {
      if (t.send(dst, buildAdvert(this.#advert, priority, t.source, dst))) {
        this.counters.advertsSent++;
        if (priority === 0) this.counters.priorityZeroSent++;
      } else {
        this.counters.sendErrors++;
        this.#log.debug(
          { instance: this.name, dst: formatIp(dst), err: t.lastError },
          'VRRP advert not sent',
        );
      }
    }
  }

  #transition(from: VrrpState, to: VrrpState, reason: TransitionReason): void {
    const change: StateChange = { instance: this.name, from, to, reason, at: this.#wall() };
    this.#lastTransition = change;
    this.counters.transitions++;
    const m = this.#machine!;
    this.#log.info(
      {
        instance: this.name,
        from,
        to,
        reason,
        priority: m.effectivePriority,
        vrid: this.spec.virtualRouterId,
      },
      `VRRP ${this.name}: entering ${to.toUpperCase()} state`,
    );
    if (to === VrrpState.MASTER) {
      this.counters.becameMaster++;
      this.#holder.take();
    } else if (from === VrrpState.MASTER) {
      this.counters.leftMaster++;
      this.#holder.give();
    }
    const state: NotifyState | null =
      to === VrrpState.MASTER
        ? 'MASTER'
        : to === VrrpState.BACKUP
          ? 'BACKUP'
          : to === VrrpState.FAULT
            ? 'FAULT'
            : 'STOP';
    void this.#notify.notify({ instance: this.name, state, priority: m.effectivePriority, reason });
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch (err) {
        this.#log.error({ instance: this.name, err }, 'VRRP state listener failed');
      }
    }
  }

  #arm(): void {
    const deadline = this.#machine?.deadline ?? Infinity;
    if (deadline === this.#armedFor) return;
    this.#clearTimer();
    if (!Number.isFinite(deadline) || this.#stopped) return;
    this.#armedFor = deadline;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      this.#armedFor = Number.NaN;
      this.#dispatch({ type: 'timer' });
    }, deadline - this.#timers.now());
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Number.NaN;
  }
}
