/**
 * The VRRP state machine of RFC 5798 §6.4 (v3) and RFC 3768 §6.4 (v2), with keepalived's additions where
 * the RFCs leave room (preempt delay, FAULT, an advert at once when a lower master is heard).
 *
 * Pure: `handle(event, now)` changes the state and returns the actions the driver must carry out, in
 * order. Time only enters as `now` (ms); the machine has one timer, `deadline` (absolute ms, Infinity
 * when none): Adver_Timer in MASTER, Master_Down_Timer in BACKUP. The driver arms a real or virtual
 * timer for it and sends `{type:'timer'}` when it falls due.
 *
 * The transitions are one table, state x event -> handler (`TABLE` below), so what each state does with
 * each event can be read in one place.
 */
import { compareAddress, masterDownMs, skewMs } from './timers.js';
import {
  type AdvertIn,
  type MachineConfig,
  PRIORITY_OWNER,
  PRIORITY_RESIGN,
  type TransitionReason,
  type VrrpAction,
  type VrrpEvent,
  type VrrpEventType,
  VrrpState,
} from './types.js';

/** Mutable state the handlers work on. */
interface Ctx {
  cfg: MachineConfig;
  state: VrrpState;
  /** Priority after tracking (clamped 1..254); always 255 for the address owner. */
  effective: number;
  faulted: boolean;
  /** Master_Adver_Interval (RFC 5798 §6.1): learned from the master's adverts in v3, fixed in v2. */
  masterAdverMs: number;
  deadline: number;
  /** keepalived preempt_delay: when a lower-priority master stops being tolerated; null = not seen yet. */
  preemptAt: number | null;
  /** What a Master_Down_Timer expiry will be logged as. */
  downReason: TransitionReason;
  masterAddress: AdvertIn['src'] | null;
  masterPriority: number | null;
  out: VrrpAction[];
}

type Handler<E extends VrrpEvent = VrrpEvent> = (c: Ctx, ev: E, now: number) => void;
type Table = { readonly [S in VrrpState]: { readonly [T in VrrpEventType]: Handler } };

const ignore: Handler = () => {};

function move(c: Ctx, to: VrrpState, reason: TransitionReason): void {
  c.out.push({ type: 'transition', from: c.state, to, reason });
  c.state = to;
}

function send(c: Ctx, priority: number): void {
  c.out.push({ type: 'send', priority });
}

function masterDown(c: Ctx): number {
  return masterDownMs(c.cfg.version, c.effective, c.masterAdverMs);
}

/** RFC 5798 §6.4.1/§6.4.2 "transition to Master": advert first, then the addresses (driver), Adver_Timer. */
function becomeMaster(c: Ctx, now: number, reason: TransitionReason): void {
  // keepalived resets a learned interval to its own on becoming master; the RFC's Init does the same.
  c.masterAdverMs = c.cfg.advertIntervalMs;
  send(c, c.effective);
  c.deadline = now + c.cfg.advertIntervalMs;
  c.preemptAt = null;
  c.masterAddress = null;
  c.masterPriority = null;
  move(c, VrrpState.MASTER, reason);
}

/** Enter BACKUP with a fresh Master_Down_Timer (RFC 5798 §6.4.1 with Master_Adver_Interval reset). */
function becomeBackup(c: Ctx, now: number, reason: TransitionReason): void {
  c.masterAdverMs = c.cfg.advertIntervalMs;
  c.deadline = now + masterDown(c);
  c.downReason = 'master-down';
  c.preemptAt = null;
  move(c, VrrpState.BACKUP, reason);
}

function enterFault(c: Ctx): void {
  c.deadline = Infinity;
  c.preemptAt = null;
  move(c, VrrpState.FAULT, 'fault');
}

/** RFC 5798 §6.4.1: the owner goes straight to MASTER, everyone else waits in BACKUP. */
const startup: Handler = (c, _ev, now) => {
  if (c.faulted) enterFault(c);
  else if (c.cfg.priority === PRIORITY_OWNER) becomeMaster(c, now, 'address-owner');
  else becomeBackup(c, now, 'startup');
};

/** RFC 5798 §6.4.2 Master_Down_Timer fires: send an advert and become master. */
const backupTimer: Handler = (c, _ev, now) => {
  if (now < c.deadline) return;
  becomeMaster(c, now, c.downReason);
};

/** RFC 5798 §6.4.3 Adver_Timer fires: advertise and re-arm. */
const masterTimer: Handler = (c, _ev, now) => {
  if (now < c.deadline) return;
  send(c, c.effective);
  c.deadline = now + c.cfg.advertIntervalMs;
};

/** RFC 5798 §6.4.2 ADVERTISEMENT received in Backup. */
const backupAdvert: Handler<{ type: 'advert'; advert: AdvertIn }> = (c, { advert: a }, now) => {
  if (a.priority === PRIORITY_RESIGN) {
    // The master is leaving: wait only Skew_Time, so the highest backup answers first.
    c.deadline = now + skewMs(c.cfg.version, c.effective, c.masterAdverMs);
    c.downReason = 'master-resigned';
    return;
  }
  const delayed = c.cfg.preempt && c.cfg.preemptDelayMs > 0 && (c.preemptAt === null || now < c.preemptAt);
  if (!c.cfg.preempt || a.priority >= c.effective || delayed) {
    // Accept: this is (still) our master.
    if (c.cfg.version === 3) c.masterAdverMs = a.advertIntervalMs; // v3 only: RFC 3768 has no learning
    c.deadline = now + masterDown(c);
    c.downReason = 'master-down';
    c.masterAddress = a.src;
    c.masterPriority = a.priority;
    if (c.cfg.preempt && c.cfg.preemptDelayMs > 0) {
      // keepalived: the delay starts with the first lower-priority advert and ends with a higher one.
      if (a.priority >= c.effective) c.preemptAt = null;
      else if (c.preemptAt === null) c.preemptAt = now + c.cfg.preemptDelayMs;
    }
    return;
  }
  // Preempt_Mode and a lower priority: discard, so the Master_Down_Timer runs out and we take over.
  c.masterAddress = a.src;
  c.masterPriority = a.priority;
  c.downReason = 'preempt';
};

/** RFC 5798 §6.4.3 ADVERTISEMENT received in Master. Any non-zero advert here means two masters. */
const masterAdvert: Handler<{ type: 'advert'; advert: AdvertIn }> = (c, { advert: a }, now) => {
  if (a.priority === PRIORITY_RESIGN) {
    // Another master resigns: make sure the backups hear us at once (RFC 5798 §6.4.3).
    send(c, c.effective);
    c.deadline = now + c.cfg.advertIntervalMs;
    return;
  }
  const cmp = compareAddress(a.src, c.cfg.primary);
  const higher = a.priority > c.effective || (a.priority === c.effective && cmp > 0);
  if (higher) {
    c.out.push({ type: 'conflict', from: a.src, priority: a.priority, outcome: 'stepped-down' });
    if (c.cfg.version === 3) c.masterAdverMs = a.advertIntervalMs;
    c.deadline = now + masterDown(c);
    c.downReason = 'master-down';
    c.masterAddress = a.src;
    c.masterPriority = a.priority;
    move(c, VrrpState.BACKUP, a.priority > c.effective ? 'higher-priority' : 'higher-address');
    return;
  }
  if (cmp === 0 && a.priority === c.effective) return; // our own address: a misconfigured twin; nothing wins
  // The RFC discards a lower advert; keepalived answers at once ("forcing new election") so the other
  // master steps down now instead of at our next Adver_Timer. The timer is not reset.
  c.out.push({ type: 'conflict', from: a.src, priority: a.priority, outcome: 'reasserted' });
  send(c, c.effective);
};

/** RFC 5798 §6.4.3 Shutdown in Master: resign with priority 0 so a backup takes over after Skew_Time. */
const masterShutdown: Handler = (c) => {
  send(c, PRIORITY_RESIGN);
  c.deadline = Infinity;
  move(c, VrrpState.INIT, 'shutdown');
};

/** RFC 5798 §6.4.2 Shutdown in Backup (and leaving FAULT): just stop. */
const quietShutdown: Handler = (c) => {
  c.deadline = Infinity;
  move(c, VrrpState.INIT, 'shutdown');
};

/**
 * Tracking changed the priority. keepalived moves a backup's Master_Down_Timer by the change of
 * Master_Down_Interval (the skew depends on the priority); a master just advertises the new value next.
 */
const changePriority: Handler<{ type: 'priority'; priority: number }> = (c, ev) => {
  if (c.cfg.priority === PRIORITY_OWNER) return;
  const next = Math.min(PRIORITY_OWNER - 1, Math.max(1, Math.round(ev.priority)));
  if (next === c.effective) return;
  const before = masterDown(c);
  c.effective = next;
  if (c.state === VrrpState.BACKUP) c.deadline += masterDown(c) - before;
};

/** keepalived down_instance / try_up_instance. A master resigns (priority 0) on its way into FAULT. */
const setFault: Handler<{ type: 'fault'; on: boolean }> = (c, ev, now) => {
  if (c.faulted === ev.on) return;
  c.faulted = ev.on;
  switch (c.state) {
    case VrrpState.MASTER:
      if (ev.on) {
        send(c, PRIORITY_RESIGN);
        enterFault(c);
      }
      return;
    case VrrpState.BACKUP:
      if (ev.on) enterFault(c);
      return;
    case VrrpState.FAULT:
      if (ev.on) return;
      if (c.cfg.priority === PRIORITY_OWNER) becomeMaster(c, now, 'fault-cleared');
      else becomeBackup(c, now, 'fault-cleared');
      return;
    default:
      return; // INIT: startup reads the flag
  }
};

const onAdvertB = backupAdvert as Handler;
const onAdvertM = masterAdvert as Handler;
const onPriority = changePriority as Handler;
const onFault = setFault as Handler;

/** What each state does with each event (RFC 5798 §6.4.1-6.4.3; FAULT and tracking from keepalived). */
// biome-ignore format: a transition table reads best as a grid
const TABLE: Table = {
  init:   { startup,         shutdown: ignore,         advert: ignore,    timer: ignore,      priority: onPriority, fault: onFault },
  backup: { startup: ignore, shutdown: quietShutdown,  advert: onAdvertB, timer: backupTimer, priority: onPriority, fault: onFault },
  master: { startup: ignore, shutdown: masterShutdown, advert: onAdvertM, timer: masterTimer, priority: onPriority, fault: onFault },
  fault:  { startup: ignore, shutdown: quietShutdown,  advert: ignore,    timer: ignore,      priority: onPriority, fault: onFault },
};

export interface MachineSnapshot {
  state: VrrpState;
  effectivePriority: number;
  masterAdverIntervalMs: number;
  deadline: number;
  preemptAt: number | null;
  masterAddress: AdvertIn['src'] | null;
  masterPriority: number | null;
  faulted: boolean;
}

function validate(cfg: MachineConfig): void {
  if (cfg.priority < 1 || cfg.priority > PRIORITY_OWNER || !Number.isInteger(cfg.priority))
    throw new RangeError(`VRRP priority must be an integer 1..255 (got ${cfg.priority})`);
  if (!(cfg.advertIntervalMs > 0)) throw new RangeError('advertIntervalMs must be positive');
}

export class VrrpMachine {
  readonly #c: Ctx;

  constructor(cfg: MachineConfig) {
    validate(cfg);
    this.#c = {
      cfg: Object.freeze({ ...cfg }),
      state: VrrpState.INIT,
      effective: cfg.priority,
      faulted: false,
      masterAdverMs: cfg.advertIntervalMs,
      deadline: Infinity,
      preemptAt: null,
      downReason: 'master-down',
      masterAddress: null,
      masterPriority: null,
      out: [],
    };
  }

  /**
   * Takes new settings in place (a reload) without a transition: the state and the running timer stay;
   * the next advert and the next timer use the new values. The configured priority becomes the effective
   * one (tracking re-applies its weights afterwards). Changing ownership (255 <-> other) is a restart,
   * not a reconfiguration: refused with a RangeError, as are impossible values.
   */
  reconfigure(cfg: MachineConfig): void {
    const c = this.#c;
    validate(cfg);
    if ((cfg.priority === PRIORITY_OWNER) !== (c.cfg.priority === PRIORITY_OWNER))
      throw new RangeError('becoming or ceasing to be the address owner needs a restart');
    if (cfg.version !== c.cfg.version) throw new RangeError('changing the VRRP version needs a restart');
    const intervalChanged = cfg.advertIntervalMs !== c.cfg.advertIntervalMs;
    c.cfg = Object.freeze({ ...cfg });
    c.effective = cfg.priority;
    if (intervalChanged && (c.state === VrrpState.MASTER || cfg.version === 2))
      c.masterAdverMs = cfg.advertIntervalMs;
    if (!cfg.preempt || cfg.preemptDelayMs === 0) c.preemptAt = null;
  }

  /** Applies one event at time `now` (ms) and returns the actions to carry out, in order. */
  handle(ev: VrrpEvent, now: number): VrrpAction[] {
    const c = this.#c;
    c.out = [];
    TABLE[c.state][ev.type](c, ev, now);
    return c.out;
  }

  get state(): VrrpState {
    return this.#c.state;
  }
  /** Absolute ms of the pending timer, Infinity when none. */
  get deadline(): number {
    return this.#c.deadline;
  }
  get effectivePriority(): number {
    return this.#c.effective;
  }
  get config(): MachineConfig {
    return this.#c.cfg;
  }

  snapshot(): MachineSnapshot {
    const c = this.#c;
    return {
      state: c.state,
      effectivePriority: c.effective,
      masterAdverIntervalMs: c.masterAdverMs,
      deadline: c.deadline,
      preemptAt: c.preemptAt,
      masterAddress: c.masterAddress,
      masterPriority: c.masterPriority,
      faulted: c.faulted,
    };
  }
}
