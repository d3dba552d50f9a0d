/**
 * The one forwarder signature (after IPVS `ip_vs_bind_xmit`: the method is bound to the session when it is
 * created and dispatched through a table indexed by it): a parsed frame plus its session in, 0 (sent) or a
 * drop code out, output frames through the context's Egress. `toServer` handles client -> RS packets (and
 * ICMP errors relayed that way), `toClient` RS -> client packets of the methods that see replies.
 *
 * Also here: the steps every method shares — TTL/hop-limit policy, path MTU, copying the packet into the
 * output frame, and finishing it with the right offload state.
 */

import { Icmpv4Code, Icmpv4Type, Icmpv6Type } from '../../wire/icmp.js';
import { IpProto } from '../../wire/ipv4.js';
import type { ConnTable } from '../conntable/table.js';
import type { DestTable } from '../dest-table.js';
import type { LocalAddressPool } from '../local-addrs.js';
import type { ResolvedConfig, ServiceOptionsTable } from '../pipeline/config.js';
import type { Egress } from '../pipeline/egress.js';
import { VnetFlag } from '../pipeline/frame.js';
import type { Packet } from '../pipeline/packet.js';
import { Drop } from '../pipeline/reasons.js';
import type { ServiceTable } from '../service-table.js';
import type { FnatState } from './fnat-state.js';
import { copyPacket, decTtl, L4Sum } from './rewrite.js';

/** What a forwarder works with; one per pipeline, `p` and `now` refreshed per frame. */
export interface FwdContext {
  p: Packet;
  readonly eg: Egress;
  readonly cfg: ResolvedConfig;
  readonly conns: ConnTable;
  readonly dests: DestTable;
  readonly services: ServiceTable;
  readonly lips: LocalAddressPool | null;
  readonly svcOpts: ServiceOptionsTable;
  readonly stats: Float64Array;
  readonly fnat: FnatState;
  now: number;
  /** Outer IPv4 identification counter (TUN). */
  ipIdent: number;
}

export interface Forwarder {
  toServer(c: FwdContext, conn: number): number;
  toClient(c: FwdContext, conn: number): number;
}

/** L4Sum kind of the packet's protocol (checksums the rewrite helpers maintain). */
export function l4Kind(p: Packet): number {
  return p.proto === IpProto.TCP ? L4Sum.TCP : p.proto === IpProto.UDP ? L4Sum.UDP : L4Sum.NONE;
}

/**
 * Offload sanity for a frame about to be rewritten: a partial checksum must start at its L4 header (we
 * only know how to update TCP/UDP ones), and GSO needs a sink that takes vnet headers.
 */
export function offloadProblem(c: FwdContext): number {
  const p = c.p;
  if (p.gso && !c.cfg.checksums.vnet) return Drop.GSO_UNSUPPORTED;
  if (!p.partial) return 0;
  const tcp = p.proto === IpProto.TCP;
  if (!tcp && p.proto !== IpProto.UDP) return Drop.BAD_PARTIAL;
  if (
    p.vnetFlags & VnetFlag.NEEDS_CSUM &&
    (p.csumStart !== p.l4Off - p.frameOff || p.csumOffset !== (tcp ? 16 : 6))
  ) {
    return Drop.BAD_PARTIAL;
  }
  return 0;
}

/**
 * Where ICMP errors about the packet come from: the VIP it was sent to (`fromVip`, the in-direction, as
 * IPVS's icmp_send answers from the local destination), else the director's address towards the sender.
 */
function errorSource(c: FwdContext, fromVip: boolean): ArrayLike<number> {
  return fromVip ? c.p.daddr : routerSource(c);
}

/**
 * TTL policy (IPVS `decrement_ttl`): a packet that would leave with TTL 0 is dropped and, if configured,
 * answered with time exceeded. Returns 0 or the drop code.
 */
export function ttlProblem(c: FwdContext, fromVip: boolean): number {
  const p = c.p;
  if (!c.cfg.decrementTtl || p.ttl > 1) return 0;
  if (c.cfg.sendTimeExceeded) {
    const type = p.af === 4 ? Icmpv4Type.TIME_EXCEEDED : Icmpv6Type.TIME_EXCEEDED;
    c.eg.icmpError(p, type, 0, 0, errorSource(c, fromVip), 0);
  }
  return Drop.TTL_EXCEEDED;
}

/**
 * Path MTU (IPVS `ensure_mtu_is_adequate`): a packet growing by `growth` bytes that no longer fits the
 * output interface is dropped; with DF (always for IPv6) the sender learns the MTU it may use
 * (`mtu - growth`) by ICMP frag-needed / packet-too-big. GSO frames are judged per segment. Returns 0 or
 * the drop code.
 */
export function sizeProblem(
  c: FwdContext,
  iface: number,
  growth: number,
  l4HdrLen: number,
  fromVip: boolean,
): number {
  const p = c.p;
  const mtu = c.cfg.ifMtu[iface]!;
  const len = p.gso ? p.l3HdrLen + l4HdrLen + p.gsoSize + growth : p.l3Len + growth;
  if (len <= mtu) return 0;
  if (!p.df) return Drop.TOO_BIG;
  const advert = mtu - growth;
  if (p.af === 4) {
    if (advert >= 68) {
      const src = errorSource(c, fromVip);
      c.eg.icmpError(p, Icmpv4Type.DEST_UNREACHABLE, Icmpv4Code.FRAG_NEEDED, advert & 0xffff, src, 0);
    }
  } else if (advert >= 1280) {
    c.eg.icmpError(p, Icmpv6Type.PACKET_TOO_BIG, 0, advert, errorSource(c, fromVip), 0);
  }
  return Drop.FRAG_NEEDED;
}

/** The header length of the L4 protocol for GSO segment sizes (TCP data offset; 8 for UDP). */
export function l4HeaderLen(p: Packet): number {
  if (p.proto === IpProto.TCP) return (p.buf[p.l4Off + 12]! >>> 4) << 2;
  return p.proto === IpProto.UDP ? 8 : 0;
}

/**
 * Starts the output frame towards neighbour slot `nb` on `iface` and copies the L3 packet into it (leaving `headroom`
 * bytes before it for an outer header, and room for `growth` more bytes), decrementing the TTL per
 * policy. Returns the L3 offset of the copy in `c.eg.buf`, or a negative drop code.
 */
export function beginCopy(
  c: FwdContext,
  iface: number,
  nb: number,
  headroom: number,
  growth: number,
): number {
  const p = c.p;
  const eg = c.eg;
  if (headroom + p.l3Len + growth > eg.l3Room(iface)) return -Drop.FRAME_TOO_LARGE;
  const etherType = headroom === 0 ? (p.af === 4 ? 0x0800 : 0x86dd) : headroom === 20 ? 0x0800 : 0x86dd;
  const l3 = eg.begin(iface, nb, etherType);
  if (l3 < 0) return -Drop.TX_FULL;
  const inner = l3 + headroom;
  copyPacket(p.buf, p.l3Off, eg.buf, inner, p.l3Len);
  if (c.cfg.decrementTtl) decTtl(eg.buf, inner, p.af);
  return l3;
}

/**
 * Queues the frame begun by `beginCopy` whose L3 part is `l3Len` bytes and whose (inner) L4 header starts
 * at absolute offset `l4` and is `l4HdrLen` long, with the offload state the packet needs.
 */
export function finish(c: FwdContext, l3Len: number, l4: number, l4HdrLen: number): number {
  const eg = c.eg;
  const rel = l4 - eg.frameOff;
  const end = eg.l2Len + l3Len;
  eg.commit(l3Len, eg.vnetFor(c.p, rel, l4HdrLen, end));
  return 0;
}

/**
 * The source for ICMP errors the director sends as a router about a packet it got from `p.saddr` (the
 * address it would use towards that sender) in `c.eg.src`; all zero — which Egress.icmpError refuses —
 * when it has none.
 */
export function routerSource(c: FwdContext): Uint32Array {
  const p = c.p;
  const s = c.eg.src;
  if (!c.eg.pickSource(p.af, p.saddr, 0, p.iface)) s.fill(0);
  return s;
}
