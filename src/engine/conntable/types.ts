/**
 * The session table's public types: its options, counters, and the parameters of a new connection.
 */
import type { Family } from '../addr.js';
import { Forwarding } from '../forwarding.js';

export const ConnStat = Object.freeze({
  CREATED: 0,
  EXPIRED: 1,
  REMOVED: 2,
  EVICTED_HALF_OPEN: 3,
  EVICTED_CLOSING: 4,
  DROPPED_FULL: 5,
  TEMPLATES_CREATED: 6,
  DEFENCE_ON: 7,
  /** Due, but kept: packets flowed past the table (the XDP fast path). */
  KEPT_ALIVE: 8,
});
export const CONN_STAT_NAMES = Object.freeze([
  'created',
  'expired',
  'removed',
  'evicted_half_open',
  'evicted_closing',
  'dropped_full',
  'templates_created',
  'defence_activations',
  'kept_alive',
] as const);

export type DefenceMode = 'off' | 'auto' | 'on';

export interface ConnTableOptions {
  /** Hard limit on entries (connections + templates). */
  capacity: number;
  /** Hash seed; random by default so clients cannot aim at one bucket. */
  seed?: number;
  /** Timer wheel resolution and size (default 128 ms x 8192 slots, one turn ~17 min). */
  tickMs?: number;
  wheelSlots?: number;
  /** secure_tcp: 'auto' switches to the defence state table above 3/4 full and back below 1/2. */
  defence?: DefenceMode;
}

/** Parameters of a new connection; callers keep one object and refill it (no allocation per packet). */
export interface NewConn {
  svc: number;
  dest: number;
  fwd: number;
  af: Family;
  proto: number;
  /** Client address, four words. */
  readonly caddr: Uint32Array;
  cport: number;
  vport: number;
  /** RS port the connection is forwarded to. */
  dport: number;
  /** FNAT local address index and port; 0 otherwise. */
  lip: number;
  lport: number;
  /** Extra CF flags (ONE_PACKET, SYNCED). */
  flags: number;
}

export function newConnParams(): NewConn {
  const caddr = new Uint32Array(4);
  return {
    svc: 0,
    dest: 0,
    fwd: Forwarding.DR,
    af: 4,
    proto: 6,
    caddr,
    cport: 0,
    vport: 0,
    dport: 0,
    lip: 0,
    lport: 0,
    flags: 0,
  };
}
