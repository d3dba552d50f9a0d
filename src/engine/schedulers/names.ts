/**
 * Every IPVS scheduler tslvs implements, by its ipvsadm name, and the scheduler flags (`ipvsadm -b`).
 * The registry (./registry.ts) maps each name to its implementation.
 */
export const SCHEDULER_NAMES = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'sed',
  'nq',
  'sh',
  'dh',
  'mh',
  'lblc',
  'lblcr',
  'fo',
  'ovf',
  'twos',
] as const;

export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export function isSchedulerName(s: string): s is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(s);
}

/**
 * Scheduler flags as ipvsadm spells them (`-b sh-fallback,sh-port`). In IPVS they are the service flags
 * IP_VS_SVC_F_SCHED1 (0x08, "fallback") and IP_VS_SVC_F_SCHED2 (0x10, "port"); sh and mh read them.
 */
export const SCHEDULER_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'] as const;
export type SchedulerFlag = (typeof SCHEDULER_FLAGS)[number];

export interface SchedulerOptions {
  /** SCHED1: on an unavailable home bucket/slot, probe onwards for an available one (sh, mh). */
  fallback: boolean;
  /** SCHED2: include the client's source port in the hash (sh, mh). */
  port: boolean;
  /** mh table size; must be prime. IPVS's compile-time default is 4093; tslvs defaults to 65537. */
  mhTableSize: number;
  /** sh table size (IPVS CONFIG_IP_VS_SH_TAB_BITS, default 8 => 256; 4-20 as Kconfig allows). */
  shTableBits: number;
  /**
   * sh/dh bucket hash of older kernels (4.x and before): low bits of `x * 2654435761`. Current kernels
   * take the high bits of `x * 0x61C88647` (`hash_32`), so the same client lands in a different bucket.
   */
  legacyHash: boolean;
}

export const DEFAULT_SCHEDULER_OPTIONS: Readonly<SchedulerOptions> = Object.freeze({
  fallback: false,
  port: false,
  mhTableSize: 65537,
  shTableBits: 8,
  legacyHash: false,
});
