/**
 * The one interface every scheduler implements, after IPVS's `struct ip_vs_scheduler`: a named factory
 * creating per-service state, a `schedule` that picks a dest for a new connection, and optional hooks run
 * when the service's dest list changes (`add_dest`, `del_dest`, `upd_dest`).
 *
 * What a scheduler sees of its service is `SchedService`: the shared `DestTable` (weights, flags,
 * connection counters) and the service's dest list in IPVS order — new dests are linked right after the
 * head, so the list is in reverse insertion order, and every "first in list" tie-break uses that order.
 */
import type { Family } from '../addr.js';
import type { DestTable } from '../dest-table.js';
import type { SchedulerName, SchedulerOptions } from './names.js';

/** The packet fields schedulers hash on; one reusable object per caller, never allocated per packet. */
export interface FlowKey {
  proto: number;
  af: Family;
  /** Client (source) address, four words (see addr.ts). */
  readonly saddr: Uint32Array;
  sport: number;
  /** Virtual (destination) address. */
  readonly daddr: Uint32Array;
  dport: number;
}

export function newFlowKey(): FlowKey {
  return { proto: 6, af: 4, saddr: new Uint32Array(4), sport: 0, daddr: new Uint32Array(4), dport: 0 };
}

export interface SchedService {
  readonly dests: DestTable;
  /** Dest ids, head first (IPVS list order). Mutated only by the service, which then calls the hooks. */
  readonly list: readonly number[];
  readonly options: Readonly<SchedulerOptions>;
}

export interface SchedEnv {
  /** Uniform in [0, 1); injectable so randomised schedulers (twos) can be tested. */
  random(): number;
}

export interface SchedulerInstance {
  /** The chosen dest id, or -1 when none is available (IPVS returns NULL: "no destination available"). */
  schedule(flow: FlowKey, now: number): number;
  /** A dest was linked at the head of the list. */
  onAdd?(dest: number): void;
  /** A dest was unlinked; `formerIndex` is where it stood in the list before. */
  onRemove?(dest: number, formerIndex: number): void;
  /** A dest's weight or thresholds changed. */
  onUpdate?(dest: number): void;
  /** Periodic housekeeping (lblc/lblcr cache expiry). */
  tick?(now: number): void;
}

export interface Scheduler {
  readonly name: SchedulerName;
  /** One line for `--help` and docs. */
  readonly description: string;
  create(svc: SchedService, env: SchedEnv): SchedulerInstance;
}

/** Usable for a new connection by the common rule: not overloaded and weight > 0. */
export function isEligible(dests: DestTable, id: number): boolean {
  return dests.weight[id]! > 0 && !dests.isOverloaded(id);
}
