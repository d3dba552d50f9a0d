/**
 * NAT ("masquerading", IPVS `ip_vs_nat_xmit` + the `*_dnat_handler`/`*_snat_handler` of each protocol):
 * client -> VIP:vport becomes client -> RS:rport on the way in, RS:rport -> client becomes VIP:vport ->
 * client on the way out (the director is the real servers' gateway). Addresses and ports are rewritten in
 * place with incremental checksum updates, partial checksums kept partial.
 */

import { readU16 } from '../../wire/bytes.js';
import { IPV4 } from '../../wire/ipv4.js';
import { Drop } from '../pipeline/reasons.js';
import { rd32 } from '../pipeline/words.js';
import {
  beginCopy,
  type Forwarder,
  type FwdContext,
  finish,
  l4HeaderLen,
  l4Kind,
  offloadProblem,
  sizeProblem,
  ttlProblem,
} from './forwarder.js';
import { L4Sum, l4CsumAt, setAddr, setPort, setTcp4Tuple } from './rewrite.js';

export const natForwarder: Forwarder = {
  toServer(c: FwdContext, conn: number): number {
    const p = c.p;
    const d = c.conns.dest(conn);
    if (c.dests.af[d] !== p.af) return Drop.FAMILY_MISMATCH;
    if (p.routed) return Drop.IPV6_ROUTING_HEADER;
    let r = offloadProblem(c);
    if (r === 0) r = ttlProblem(c, true);
    if (r !== 0) return r;
    const nb = c.eg.towardDest(c.dests, d);
    if (nb < 0) return -nb;
    const iface = c.eg.outIface;
    const l4h = l4HeaderLen(p);
    r = sizeProblem(c, iface, 0, l4h, true);
    if (r !== 0) return r;
    const l3 = beginCopy(c, iface, nb, 0, 0);
    if (l3 < 0) return -l3;
    const b = c.eg.buf;
    const l4 = l3 + p.l3HdrLen;
    const kind = l4Kind(p);
    const at = l4CsumAt(l4, kind);
    if (p.af === 4 && kind === L4Sum.TCP && !p.partial) {
      const rs = c.dests.addr[d * 4]! | 0;
      setTcp4Tuple(b, l3, l4, rd32(b, l3 + IPV4.SRC), rs, readU16(b, l4), c.conns.dport(conn));
    } else {
      setAddr(b, l3, p.af, true, c.dests.addr, d * 4, at, kind, p.partial);
      setPort(b, l4 + 2, c.conns.dport(conn), at, kind, p.partial);
    }
    return finish(c, p.l3Len, l4, l4h);
  },

  toClient(c: FwdContext, conn: number): number {
    const p = c.p;
    if (p.routed) return Drop.IPV6_ROUTING_HEADER;
    let r = offloadProblem(c);
    if (r === 0) r = ttlProblem(c, false);
    if (r !== 0) return r;
    const nb = c.eg.toward(p.af, p.daddr, 0, false);
    if (nb < 0) return -nb;
    const iface = c.eg.outIface;
    const l4h = l4HeaderLen(p);
    r = sizeProblem(c, iface, 0, l4h, false);
    if (r !== 0) return r;
    const l3 = beginCopy(c, iface, nb, 0, 0);
    if (l3 < 0) return -l3;
    const b = c.eg.buf;
    const l4 = l3 + p.l3HdrLen;
    const kind = l4Kind(p);
    const at = l4CsumAt(l4, kind);
    if (p.af === 4 && kind === L4Sum.TCP && !p.partial) {
      const vip = c.services.addr[c.conns.svc(conn) * 4]! | 0;
      setTcp4Tuple(b, l3, l4, vip, rd32(b, l3 + IPV4.DST), c.conns.vport(conn), readU16(b, l4 + 2));
    } else {
      setAddr(b, l3, p.af, false, c.services.addr, c.conns.svc(conn) * 4, at, kind, p.partial);
      setPort(b, l4, c.conns.vport(conn), at, kind, p.partial);
    }
    return finish(c, p.l3Len, l4, l4h);
  },
};
