/**
 * IP tunnelling (IPVS `ip_vs_tunnel_xmit` / `_v6`): the client's packet, TTL decremented per policy, is
 * wrapped in an outer header to the real server, which decapsulates it and answers the client directly.
 * Outer IPv4 (RFC 2003: protocol 4, or 41 for an IPv6 inner packet) when the real server is IPv4, outer
 * IPv6 (RFC 2473) when it is IPv6. Outer source: the director's address towards the real server (the
 * connected route's own address, else the output interface's first of that family); TOS / traffic class copied; DF copied from an IPv4 inner packet; outer TTL = inner TTL (IPVS)
 * unless `tunnelTtl` is set. A DF packet that no longer fits gets frag-needed / packet-too-big advertising
 * MTU - outer header (IPVS `ensure_mtu_is_adequate` with the tunnel's reduced MTU).
 *
 * GSO super-frames are segmented here (tun-segment.ts): a virtio_net_hdr cannot say "IP-in-IP"
 * (SKB_GSO_IPXIP4), so the kernel could not segment them after encapsulation. Tunnelled packets leave with
 * finished checksums.
 */
import { Drop } from '../pipeline/reasons.js';
import {
  beginCopy,
  type Forwarder,
  type FwdContext,
  l4HeaderLen,
  offloadProblem,
  sizeProblem,
  ttlProblem,
} from './forwarder.js';
import { finishInnerChecksums, segmentTcp, writeOuter } from './tun-segment.js';

export const tunForwarder: Forwarder = {
  toServer(c: FwdContext, conn: number): number {
    const p = c.p;
    let r = offloadProblem(c);
    if (r === 0) r = ttlProblem(c, true);
    if (r !== 0) return r;
    const d = c.conns.dest(conn);
    const rsAf = c.dests.af[d]!;
    const nb = c.eg.towardDest(c.dests, d);
    if (nb < 0) return -nb;
    const iface = c.eg.outIface;
    const outer = rsAf === 4 ? 20 : 40;
    const eg = c.eg;
    if (!eg.pickSource(rsAf, c.dests.addr, d * 4, iface)) return Drop.NO_SOURCE_ADDRESS;
    if (outer + p.l3Len > 0xffff) return Drop.FRAME_TOO_LARGE;
    const l4h = l4HeaderLen(p);
    r = sizeProblem(c, iface, outer, l4h, true);
    if (r !== 0) return r;
    if (p.gso) return segmentTcp(c, iface, nb, outer, l4h, rsAf, d);
    const l3 = beginCopy(c, iface, nb, outer, 0);
    if (l3 < 0) return -l3;
    const inner = l3 + outer;
    // A partial checksum is finished here, not left to offload: see tun-segment.ts.
    if (p.partial)
      finishInnerChecksums(eg.buf, inner, p.af, inner + p.l3HdrLen, p.l3Len - p.l3HdrLen, p.proto);
    writeOuter(c, l3, p.l3Len, rsAf, d);
    eg.commit(outer + p.l3Len, null);
    return 0;
  },
  toClient(): number {
    return Drop.UNSUPPORTED_FORWARDING; // replies bypass the director
  },
};
