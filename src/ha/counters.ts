/**
 * Per-instance counters (keepalived's vrrp stats, named for people): what was sent and received, every
 * receive drop by reason, transitions, two-master events, and failures of the things a transition does.
 */
import { DROP_REASONS, type DropReason } from './vrrp/receive.js';

export interface InstanceCounters {
  advertsSent: number;
  advertsReceived: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  /** Transitions of any kind. */
  transitions: number;
  becameMaster: number;
  leftMaster: number;
  /** Adverts heard while MASTER with a non-zero priority: another master existed (split brain). */
  masterConflicts: number;
  sendErrors: number;
  /** Accepted adverts whose address list differs from ours (keepalived addr_list_err). */
  addressListErrors: number;
  /** v3 adverts whose interval differs from ours (learned, RFC 5798 §6.4.2). */
  intervalMismatches: number;
  vipErrors: number;
  announcements: number;
  drops: Record<DropReason, number>;
}

export function newCounters(): InstanceCounters {
  return {
    advertsSent: 0,
    advertsReceived: 0,
    priorityZeroSent: 0,
    priorityZeroReceived: 0,
    transitions: 0,
    becameMaster: 0,
    leftMaster: 0,
    masterConflicts: 0,
    sendErrors: 0,
    addressListErrors: 0,
    intervalMismatches: 0,
    vipErrors: 0,
    announcements: 0,
    drops: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
  };
}
