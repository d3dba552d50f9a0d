/**
 * What an instance reports: its transitions (for listeners such as session sync) and its status (for the
 * API and metrics).
 */
import type { InstanceCounters } from './counters.js';
import type { TransitionReason, VrrpState } from './vrrp/types.js';

export interface StateChange {
  instance: string;
  from: VrrpState;
  to: VrrpState;
  reason: TransitionReason;
  /** Wall-clock ms. */
  at: number;
}

export interface InstanceStatus {
  name: string;
  interface: string;
  virtualRouterId: number;
  version: 2 | 3;
  state: VrrpState;
  priority: number;
  effectivePriority: number;
  advertIntervalMs: number;
  masterAdverIntervalMs: number;
  source: string | null;
  unicastPeers: string[];
  /** The master we follow (BACKUP), or null. */
  master: { address: string; priority: number | null } | null;
  virtualAddresses: string[];
  ownsVips: boolean;
  /** Why the instance is (or would be) in FAULT. */
  fault: { tracking: boolean; linkDown: boolean; transport: string | null };
  trackedDown: string[];
  lastTransition: StateChange | null;
  counters: InstanceCounters;
}
