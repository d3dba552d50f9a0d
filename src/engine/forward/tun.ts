/**
 * IP tunnelling (IPVS `ip_vs_tunnel_xmit` / `_v6`): the client's packet, TTL decremented per policy, is
 * wrapped in an outer header to the real server, which decapsulates it and answers the client directly.
 * Outer IPv4 (RFC 2003: protocol 4, or 41 for an IPv6 inner packet) when the real server is IPv4, outer
 * IPv6 (RFC 2473) when it is IPv6. Outer source: the director's address towards the real server (the
 * connected route's own address, else the output interface's first of that family); TOS / traffic class copied; DF copied from an IPv4 inner packet; outer TTL = inner TTL (IPVS)
 * unless `tunnelTtl` is set. A DF packet that no longer fits gets frag-needed / packet-too-big advertising
 * MTU - outer header (IPVS `ensure_mtu_is_adequate` with the tunnel's reduced MTU).
 *
 * GSO super-frames are dropped: a virtio_net_hdr cannot say "IP-in-IP" (SKB_GSO_IPXIP4), so the kernel
 * could not segment them correctly. Partial checksums pass through with csum_start moved past the outer
 * header.
 */
import { writeU16 } from '../../wire/bytes.js';
import { encapIpip } from '../../wire/ipip.js';
import { IPV4, IpProto } from '../../wire/ipv4.js';
import { IPV6 } from '../../wire/ipv6.js';
import { Drop } from '../pipeline/reasons.js';
import { wr32 } from '../pipeline/words.js';
import {
  beginCopy,
  type Forwarder,
  type FwdContext,
  finish,
  l4HeaderLen,
  offloadProblem,
  sizeProblem,
  ttlProblem,
} from './forwarder.js';

/** Writes an outer IPv6 header at `off` for the inner packet that follows it. */
function writeOuterV6(
  b: Uint8Array,
  off: number,
  innerLen: number,
  src: ArrayLike<number>,
  so: number,
  dst: ArrayLike<number>,
  dof: number,
  hopLimit: number,
): void {
  const inner = off + 40;
  const v = b[inner]! >>> 4;
  const tc = v === 4 ? b[inner + IPV4.TOS]! : ((b[inner]! & 15) << 4) | (b[inner + 1]! >>> 4);
  wr32(b, off, 0x60000000 | (tc << 20));
  writeU16(b, off + IPV6.PAYLOAD_LEN, innerLen);
  b[off + IPV6.NEXT_HEADER] = v === 4 ? IpProto.IPIP : IpProto.IPV6;
  b[off + IPV6.HOP_LIMIT] = hopLimit;
  for (let i = 0; i < 4; i++) {
    wr32(b, off + IPV6.SRC + 4 * i, src[so + i]! | 0);
    wr32(b, off + IPV6.DST + 4 * i, dst[dof + i]! | 0);
  }
}

export const tunForwarder: Forwarder = {
  toServer(c: FwdContext, conn: number): number {
    const p = c.p;
    const cfg = c.cfg;
    if (p.gso) return Drop.GSO_UNSUPPORTED;
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
    const l3 = beginCopy(c, iface, nb, outer, 0);
    if (l3 < 0) return -l3;
    const b = eg.buf;
    const inner = l3 + outer;
    const ttl = cfg.tunnelTtl !== 0 ? cfg.tunnelTtl : b[inner + (p.af === 4 ? IPV4.TTL : IPV6.HOP_LIMIT)]!;
    if (rsAf === 4) {
      c.ipIdent = (c.ipIdent + 1) & 0xffff;
      encapIpip(b, inner, p.l3Len, eg.src[0]! | 0, c.dests.addr[d * 4]! | 0, ttl, c.ipIdent, l3);
    } else {
      writeOuterV6(b, l3, p.l3Len, eg.src, 0, c.dests.addr, d * 4, ttl);
    }
    return finish(c, outer + p.l3Len, inner + p.l3HdrLen, l4h);
  },
  toClient(): number {
    return Drop.UNSUPPORTED_FORWARDING; // replies bypass the director
  },
};
