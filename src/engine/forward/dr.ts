/**
 * Direct routing (IPVS `ip_vs_dr_xmit`): the frame goes to the real server's MAC unchanged at L3 — the
 * real server holds the VIP on a loopback and answers the client directly. The next hop is the real
 * server itself whatever the routes say (IPVS routes DR with IP_VS_RT_MODE_KNOWN_NH), so it must share a
 * link with the director. TTL per policy (current IPVS decrements in every mode).
 */
import { Drop } from '../pipeline/reasons.js';
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

export const drForwarder: Forwarder = {
  toServer(c: FwdContext, conn: number): number {
    const p = c.p;
    const d = c.conns.dest(conn);
    if (c.dests.af[d] !== p.af) return Drop.FAMILY_MISMATCH;
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
    return finish(c, p.l3Len, l3 + p.l3HdrLen, l4h);
  },
  toClient(): number {
    return Drop.UNSUPPORTED_FORWARDING; // replies bypass the director
  },
};
