/**
 * Per-packet state tracking (`set_tcp_state` in ip_vs_proto_tcp.c, `udp_state_transition` in
 * ip_vs_proto_udp.c): the next state from the tables, the dest's active/inactive counters when activity
 * changes, the controlling template marked assured, and the entry re-armed with the new state's timeout.
 */
import type { DestTable } from '../dest-table.js';
import { CF, STRIDE, W } from './layout.js';
import { Dir, isActiveTcpState, nextTcpState, TcpState } from './tcp-states.js';

/** What the transitions need of the table (kept narrow so the table's private parts stay private). */
export interface StateHost {
  readonly e: Uint32Array;
  readonly dests: DestTable;
  readonly tcpTimeoutMs: Uint32Array;
  readonly udpTimeoutMs: number;
  readonly inDefence: boolean;
  arm(id: number, now: number, timeoutMs: number): void;
  timeoutOf(id: number): number;
  /** Session sync: the entry's state or flags changed. */
  markChanged(id: number): void;
}

/** Moves the dest's counter between active and inactive; returns the new flag word. */
function recount(d: DestTable, dest: number, st: number, active: boolean): number {
  if (!(st & CF.INACTIVE) && !active) {
    d.activeConns[dest]!--;
    d.inactConns[dest]!++;
    return st | CF.INACTIVE;
  }
  if (st & CF.INACTIVE && active) {
    d.activeConns[dest]!++;
    d.inactConns[dest]!--;
    return st & ~CF.INACTIVE;
  }
  return st;
}

/**
 * One TCP packet: `dir` is Dir.INPUT (client side) or Dir.OUTPUT (RS side); while no reply has been
 * seen (NOOUTPUT) client packets use the INPUT_ONLY table. Returns the new state.
 */
export function tcpTransition(t: StateHost, id: number, dir: number, tcpFlags: number, now: number): number {
  const e = t.e;
  const b = id * STRIDE;
  const before = e[b + W.STATE]!;
  // A packet here makes a synced copy ours (adopted after a takeover): session sync sends it from now on.
  let st = before & ~CF.SYNCED;
  if (dir === Dir.OUTPUT) st &= ~CF.NOOUTPUT;
  const table = dir === Dir.INPUT && st & CF.NOOUTPUT ? Dir.INPUT_ONLY : dir;
  const old = st & 0xff;
  const next = nextTcpState(old, table, tcpFlags, t.inDefence);
  if (next !== old) {
    st = recount(t.dests, e[b + W.DEST]!, st, isActiveTcpState(next));
    const ctl = e[b + W.CONTROL]!;
    if (next === TcpState.ESTABLISHED && ctl !== 0) e[ctl * STRIDE + W.STATE]! |= CF.ASSURED;
  }
  const after = ((st & ~0xff) | next) >>> 0;
  e[b + W.STATE] = after;
  if (after !== before) t.markChanged(id);
  t.arm(id, now, t.tcpTimeoutMs[next]!);
  return next;
}

/** One UDP datagram: a single state; a reply marks the template assured; every datagram re-arms. */
export function udpTransition(t: StateHost, id: number, dir: number, now: number): void {
  const e = t.e;
  const b = id * STRIDE;
  if (e[b + W.STATE]! & CF.SYNCED) {
    e[b + W.STATE] = (e[b + W.STATE]! & ~CF.SYNCED) >>> 0; // adopted, as in tcpTransition
    t.markChanged(id);
  }
  if (dir === Dir.OUTPUT) {
    const st = e[b + W.STATE]!;
    if (st & CF.NOOUTPUT) {
      e[b + W.STATE] = (st & ~CF.NOOUTPUT) >>> 0;
      t.markChanged(id);
    }
    const ctl = e[b + W.CONTROL]!;
    if (ctl !== 0) e[ctl * STRIDE + W.STATE]! |= CF.ASSURED;
  }
  t.arm(id, now, e[b + W.STATE]! & CF.ONE_PACKET ? 0 : t.udpTimeoutMs);
}

/** Sets a TCP state directly (socket proxy events, session sync); counters follow as for a packet. */
export function setTcpState(t: StateHost, id: number, state: number, now: number): void {
  const e = t.e;
  const b = id * STRIDE;
  let st = e[b + W.STATE]!;
  if (!(st & (CF.UDP | CF.TEMPLATE)) && (st & 0xff) !== state) {
    st = recount(t.dests, e[b + W.DEST]!, st, isActiveTcpState(state));
    if (state === TcpState.ESTABLISHED && e[b + W.CONTROL] !== 0)
      e[e[b + W.CONTROL]! * STRIDE + W.STATE]! |= CF.ASSURED;
    e[b + W.STATE] = ((st & ~0xff) | state) >>> 0;
    t.markChanged(id);
  }
  t.arm(id, now, t.timeoutOf(id));
}
