/**
 * The vocabulary of the VRRP state machine (RFC 5798 §6.4, RFC 3768 §6.4): states, the events that drive
 * it and the actions it asks its driver to carry out. Pure data: no I/O, no clock.
 */
import type { IpAddress } from '../../engine/addr.js';

/** RFC 5798 §6.4 Initialize / Backup / Master, plus keepalived's FAULT (tracking says "do not serve"). */
export const VrrpState = Object.freeze({
  INIT: 'init',
  BACKUP: 'backup',
  MASTER: 'master',
  FAULT: 'fault',
});
export type VrrpState = (typeof VrrpState)[keyof typeof VrrpState];

/** RFC 5798 §5.2.4: 255 = the router owns the addresses, 0 = the master is resigning. */
export const PRIORITY_OWNER = 255;
export const PRIORITY_RESIGN = 0;

/** What the machine needs to know about its own router; the rest of the config is the driver's. */
export interface MachineConfig {
  version: 2 | 3;
  /** Configured priority 1..255 (RFC 5798 §5.2.4); 255 = address owner, never changed by tracking. */
  priority: number;
  /** Advertisement_Interval in ms (v2: whole seconds; v3: multiples of 10 ms). */
  advertIntervalMs: number;
  /** Preempt_Mode (RFC 5798 §6.1); false = keepalived `nopreempt`. */
  preempt: boolean;
  /** keepalived `preempt_delay`: how long a lower-priority master is tolerated once first seen. */
  preemptDelayMs: number;
  /** Our primary address: the source of our adverts, compared on equal priority (RFC 5798 §6.4.3). */
  primary: IpAddress;
}

/** An advertisement that passed validation (receive.ts), reduced to what the state machine reads. */
export interface AdvertIn {
  /** IP source: the sender's primary address. */
  src: IpAddress;
  priority: number;
  /** The interval the sender advertises, in ms (v2 seconds and v3 centiseconds both converted). */
  advertIntervalMs: number;
}

export type VrrpEvent =
  | { type: 'startup' }
  | { type: 'shutdown' }
  | { type: 'advert'; advert: AdvertIn }
  /** The single timer fired: Adver_Timer in MASTER, Master_Down_Timer in BACKUP. */
  | { type: 'timer' }
  /** Health tracking changed the priority (base + weights); ignored for the address owner. */
  | { type: 'priority'; priority: number }
  /** Health tracking asks for (on) or releases (off) the FAULT state. */
  | { type: 'fault'; on: boolean };
export type VrrpEventType = VrrpEvent['type'];

/** Why the machine moved; shown in status, logs and notify hooks. */
export type TransitionReason =
  /** INIT -> BACKUP at startup (RFC 5798 §6.4.1). */
  | 'startup'
  /** INIT -> MASTER: priority 255 owns the addresses (RFC 5798 §6.4.1). */
  | 'address-owner'
  /** BACKUP -> MASTER: no advert within Master_Down_Interval (RFC 5798 §6.4.2). */
  | 'master-down'
  /** BACKUP -> MASTER: Skew_Time after the master resigned with priority 0 (RFC 5798 §6.4.2). */
  | 'master-resigned'
  /** BACKUP -> MASTER: the master's adverts were lower and were discarded (preemption). */
  | 'preempt'
  /** MASTER -> BACKUP: an advert with a higher priority arrived (RFC 5798 §6.4.3). */
  | 'higher-priority'
  /** MASTER -> BACKUP: equal priority from a larger primary address (RFC 5798 §6.4.3). */
  | 'higher-address'
  | 'shutdown'
  | 'fault'
  | 'fault-cleared';

export type VrrpAction =
  /** Send one advertisement now with this priority (0 = resign). */
  | { type: 'send'; priority: number }
  | { type: 'transition'; from: VrrpState; to: VrrpState; reason: TransitionReason }
  /** An advert arrived while we were MASTER: two masters existed (split brain), resolved as `outcome`. */
  | { type: 'conflict'; from: IpAddress; priority: number; outcome: 'stepped-down' | 'reasserted' };
