/**
 * What the HA layer needs from the configuration. The control layer's normalized `VrrpInstanceConfig`
 * (src/control/config/types.ts) has this shape; it is restated here so `src/ha/` does not import from
 * the layer above it, and the daemon's call site checks the two stay compatible.
 */
import type { IpAddress } from '../engine/addr.js';
import type { AdvertSpec } from './vrrp/advert.js';

export interface VirtualAddressSpec {
  addr: IpAddress;
  prefixLength: number;
  interface: string;
}

export interface NotifySpec {
  /** keepalived notify_master / notify_backup / notify_fault / notify_stop: argv as given. */
  master: string[] | null;
  backup: string[] | null;
  fault: string[] | null;
  stop?: string[] | null;
  /** keepalived's generic `notify`: argv + INSTANCE <name> <STATE> <priority>. */
  any?: string[] | null;
}

export interface VrrpInstanceSpec {
  name: string;
  interface: string;
  virtualRouterId: number;
  priority: number;
  advertIntervalMs: number;
  version: 2 | 3;
  preempt: boolean;
  preemptDelayMs: number;
  unicastSource: IpAddress | null;
  unicastPeers: IpAddress[];
  virtualAddresses: VirtualAddressSpec[];
  /** keepalived track weight: < 0 applies while the service is down, > 0 while it is up, 0 = FAULT while down. */
  trackHealth: { service: string; weight: number }[];
  authPass: string | null;
  /** keepalived garp_master_repeat / garp_master_refresh / garp_master_delay. */
  garp: { repeat: number; refreshMs: number; delayMs: number };
  notify: NotifySpec;
}

/** The advert fields of an instance. */
export function advertSpecOf(spec: VrrpInstanceSpec): AdvertSpec {
  return {
    version: spec.version,
    vrid: spec.virtualRouterId,
    advertIntervalMs: spec.advertIntervalMs,
    addresses: spec.virtualAddresses.map((v) => v.addr),
    authPass: spec.authPass,
  };
}

/** Whether moving from `a` to `b` changes what the instance is (a restart) rather than how it behaves. */
export function needsRestart(a: VrrpInstanceSpec, b: VrrpInstanceSpec): boolean {
  const identity = (s: VrrpInstanceSpec) =>
    JSON.stringify([
      s.interface,
      s.virtualRouterId,
      s.version,
      s.unicastSource,
      s.unicastPeers,
      s.virtualAddresses,
      s.priority === 255,
    ]);
  return identity(a) !== identity(b);
}
