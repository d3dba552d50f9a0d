/**
 * `dataplane.xdp: auto`: which XDP hook to try first, and the attach that falls back down that order.
 *
 * The driver (native) hook first. It runs before the kernel builds a socket buffer and before GRO, so
 * every session can be offloaded, at no copy. The generic hook runs on the socket buffer, and the kernel
 * copies every frame whose buffer has less than XDP_PACKET_HEADROOM (256 bytes) in front of it, or is
 * cloned or paged, into a fresh page first (netif_receive_generic_xdp): a NIC driver builds its buffers
 * with NET_SKB_PAD (32 to 64 bytes), so on a NIC the generic hook pays a copy and an allocation per
 * packet. (Measured with bench/packet's ring generator, whose frames are such buffers: the generic fast
 * path took twice the kernel DNAT's CPU per packet.)
 *
 * Not veth: there a frame the program redirects or sends back is taken by the peer only when the peer
 * runs NAPI (an XDP program or GRO of its own), and dropped otherwise (native-caveat.ts), which a
 * director cannot see from its side. A driver without native XDP (bridge, VLAN, macvlan...) refuses the
 * attach, and the generic hook is next.
 */
import type { XdpMode } from './fastpath.js';

/** Drivers on which `auto` does not try the native hook (see above). */
const GENERIC_ONLY: ReadonlySet<string> = new Set(['veth']);

/**
 * The hooks `auto` tries, in order, for the drivers of the ports it attaches to: one hook for all of
 * them (a session's two directions may be forwarded by different ports). A driver that cannot be read
 * ('') tries native, which the attach falls back from.
 */
export function autoModes(drivers: readonly string[]): XdpMode[] {
  return drivers.some((d) => GENERIC_ONLY.has(d)) ? ['generic'] : ['native', 'generic'];
}

export interface Attached<T> {
  /** What attached, or null when every hook was refused. */
  fast: T | null;
  mode: XdpMode | null;
  /** Why each hook tried was refused, in order (each message names its hook). */
  refused: string[];
  /** The last refusal, to rethrow when the fast path is not optional. */
  error: unknown;
}

/** Tries `make` for each hook in `order` until one attaches. */
export function attachInOrder<T>(order: readonly XdpMode[], make: (mode: XdpMode) => T): Attached<T> {
  const refused: string[] = [];
  let error: unknown = null;
  for (const mode of order) {
    try {
      return { fast: make(mode), mode, refused, error: null };
    } catch (err) {
      error = err;
      refused.push((err as Error).message);
    }
  }
  return { fast: null, mode: null, refused, error };
}
