/** The XDP fast path's counters (XdpFastPath.counters, by index C), and which refusal counts where. */
import { NotOffloadable } from './offload-entry.js';

export const FAST_PATH_COUNTERS = Object.freeze([
  'xdp_installed',
  'xdp_removed',
  'xdp_map_full',
  'xdp_forwarded_packets',
  'xdp_forwarded_bytes',
  'xdp_refused_protocol',
  'xdp_refused_gso',
  'xdp_refused_vlan',
  'xdp_refused_partial_checksum',
  'xdp_refused_header_changed',
  'xdp_refused_other',
  'xdp_refused_tcp_after_gro',
] as const);
export const C = Object.freeze({
  INSTALLED: 0,
  REMOVED: 1,
  MAP_FULL: 2,
  PACKETS: 3,
  BYTES: 4,
  PROTOCOL: 5,
  GSO: 6,
  VLAN: 7,
  PARTIAL: 8,
  HEADER_CHANGED: 9,
  OTHER: 10,
  TCP_AFTER_GRO: 11,
});

/** The counter a refusal of offloadEntry goes to. */
export function refusal(r: number): number {
  if (r === NotOffloadable.HEADER_CHANGED || r === NotOffloadable.PAYLOAD_CHANGED) return C.HEADER_CHANGED;
  return r === NotOffloadable.NOT_IPV4 || r === NotOffloadable.NOT_TCP_OR_UDP ? C.PROTOCOL : C.OTHER;
}
