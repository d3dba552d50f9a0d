/**
 * Full-NAT (DPVS "fnat"): client:cport -> VIP:vport becomes LIP:lport -> RS:rport (the local address and
 * port were allocated with the session by the Balancer), and RS:rport -> LIP:lport becomes VIP:vport ->
 * client:cport. The real server only ever sees director addresses, so it can sit in any routed network.
 * The client address reaches it by TOA or a PROXY header (fnat-tcp.ts); UDP can carry a PROXY v2 DGRAM
 * header in front of every datagram (HAProxy proxy-protocol.txt §2.2), and never TOA.
 */
import { IpProto } from '../../wire/ipv4.js';
import { PROXY_V2_ADDR_LEN, PROXY_V2_HEADER_LEN } from '../../wire/proxy-protocol.js';
import { TcpFlag } from '../../wire/tcp.js';
import { CF, STRIDE, W } from '../conntable/layout.js';
import { Drop } from '../pipeline/reasons.js';
import { rd32 } from '../pipeline/words.js';
import { seqToClient } from './fnat-state.js';
import { fnatTcpToServer } from './fnat-tcp.js';
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
import {
  addBytes,
  L4Sum,
  l4CsumAt,
  l4LengthChanged,
  setAddr,
  setL3Len,
  setPort,
  setTcp4Tuple,
  setWord32,
} from './rewrite.js';

/** Length of the v2 DGRAM header for `af`. */
function udpProxyLen(af: number): number {
  return PROXY_V2_HEADER_LEN + (af === 4 ? PROXY_V2_ADDR_LEN.INET : PROXY_V2_ADDR_LEN.INET6);
}

/**
 * A new Full-NAT TCP session of a service that injects PROXY headers: the header length becomes the
 * session's sequence delta, the SYN's sequence number + 1 its first data byte.
 */
export function fnatOnCreate(c: FwdContext, conn: number): void {
  const p = c.p;
  if (p.proto !== IpProto.TCP || c.svcOpts.proxyVersion(c.conns.svc(conn)) === 0) return;
  const conns = c.conns;
  const svc = conns.svc(conn);
  const st = c.fnat;
  const n = st.encode(
    c.svcOpts.proxyVersion(svc),
    false,
    p.af,
    conns.e,
    conn * STRIDE + W.CADDR,
    conns.cport(conn),
    c.services.addr,
    svc * 4,
    conns.vport(conn),
    st.scratch,
    0,
    st.scratch.length,
  );
  if (n <= 0) return;
  conns.setSeqDelta(conn, n);
  conns.setFlag(conn, CF.PROXY_PENDING, true);
  st.setIsn(conn, rd32(p.buf, p.l4Off + 4) + 1);
}

function udpToServer(c: FwdContext, conn: number, iface: number, nb: number): number {
  const p = c.p;
  const conns = c.conns;
  const svc = conns.svc(conn);
  const n = c.svcOpts.proxyVersion(svc) === 2 ? udpProxyLen(p.af) : 0;
  if (n !== 0) {
    if (p.gso) return Drop.GSO_UNSUPPORTED;
    const r = sizeProblem(c, iface, n, 8, true);
    if (r !== 0) return r === Drop.TOO_BIG ? Drop.PROXY_NO_ROOM : r;
  }
  const l3 = beginCopy(c, iface, nb, 0, n);
  if (l3 < 0) return -l3;
  const b = c.eg.buf;
  const l4 = l3 + p.l3HdrLen;
  const at = l4 + 6;
  const none = p.af === 4 && !p.partial && b[at] === 0 && b[at + 1] === 0;
  if (n !== 0) {
    const pay = l4 + 8;
    b.copyWithin(pay + n, pay, l3 + p.l3Len);
    if (
      c.fnat.encode(
        2,
        true,
        p.af,
        conns.e,
        conn * STRIDE + W.CADDR,
        conns.cport(conn),
        c.services.addr,
        svc * 4,
        conns.vport(conn),
        b,
        pay,
        n,
      ) !== n
    )
      return Drop.FRAME_TOO_LARGE;
    const oldLen = (b[l4 + 4]! << 8) | b[l4 + 5]!;
    b[l4 + 4] = (oldLen + n) >>> 8;
    b[l4 + 5] = oldLen + n;
    if (!none) {
      // The length is both a header field and a pseudo-header input; a partial sum only has the latter.
      if (!p.partial) {
        addBytes(b, at, pay, n, true);
        l4LengthChanged(b, at, L4Sum.UDP, false, oldLen, oldLen + n);
      }
      l4LengthChanged(b, at, L4Sum.UDP, p.partial, oldLen, oldLen + n);
    }
    setL3Len(b, l3, p.af, p.l3Len + n);
  }
  setAddr(b, l3, p.af, false, c.lips!.addr, conns.lip(conn) * 4, at, L4Sum.UDP, p.partial);
  setAddr(b, l3, p.af, true, c.dests.addr, conns.dest(conn) * 4, at, L4Sum.UDP, p.partial);
  setPort(b, l4, conns.lport(conn), at, L4Sum.UDP, p.partial);
  setPort(b, l4 + 2, conns.dport(conn), at, L4Sum.UDP, p.partial);
  return finish(c, p.l3Len + n, l4, 8);
}

/** RS -> client: acknowledgment and SACK edges back into the client's sequence space. */
function translateAcks(c: FwdContext, conn: number, b: Uint8Array, l4: number, at: number): void {
  const p = c.p;
  const delta = c.conns.seqDelta(conn);
  if (delta === 0 || !(p.tcpFlags & TcpFlag.ACK)) return;
  const isn = c.fnat.isn(conn);
  const pending = (c.conns.flags(conn) & CF.PROXY_PENDING) !== 0;
  setWord32(b, l4 + 8, seqToClient(rd32(b, l4 + 8), isn, delta, pending), at, p.partial);
  const it = c.fnat.opts.reset(c.fnat.tcp.reset(b, l4, p.l4Len));
  while (it.next()) {
    if (it.kind !== 5) continue;
    for (let q = it.off + 2; q + 4 <= it.off + it.len; q += 4) {
      setWord32(b, q, seqToClient(rd32(b, q), isn, delta, pending), at, p.partial);
    }
  }
}

export const fnatForwarder: Forwarder = {
  toServer(c: FwdContext, conn: number): number {
    const p = c.p;
    const d = c.conns.dest(conn);
    if (c.dests.af[d] !== p.af) return Drop.FAMILY_MISMATCH;
    if (c.lips === null) return Drop.NO_LOCAL_PORT;
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
    if (p.proto === IpProto.TCP) return fnatTcpToServer(c, conn, iface, nb, l4h);
    return udpToServer(c, conn, iface, nb);
  },

  toClient(c: FwdContext, conn: number): number {
    const p = c.p;
    const conns = c.conns;
    if (p.routed) return Drop.IPV6_ROUTING_HEADER;
    let r = offloadProblem(c);
    if (r === 0) r = ttlProblem(c, false);
    if (r !== 0) return r;
    const co = conn * STRIDE + W.CADDR;
    const nb = c.eg.toward(p.af, conns.e, co, false);
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
    const at = l4CsumAt(l4, kind); // a zero (absent) UDP checksum stays zero through the updates
    if (p.af === 4 && kind === L4Sum.TCP && !p.partial) {
      const vip = c.services.addr[conns.svc(conn) * 4]! | 0;
      setTcp4Tuple(b, l3, l4, vip, conns.e[co]! | 0, conns.vport(conn), conns.cport(conn));
    } else {
      setAddr(b, l3, p.af, false, c.services.addr, conns.svc(conn) * 4, at, kind, p.partial);
      setAddr(b, l3, p.af, true, conns.e, co, at, kind, p.partial);
      setPort(b, l4, conns.vport(conn), at, kind, p.partial);
      setPort(b, l4 + 2, conns.cport(conn), at, kind, p.partial);
    }
    if (kind === L4Sum.TCP) {
      translateAcks(c, conn, b, l4, at);
      // The real server answered beyond its SYN-ACK: its socket exists, TOA is no longer needed.
      if (!(p.tcpFlags & TcpFlag.SYN)) conns.setFlag(conn, CF.CLIENT_ADDR_SENT, true);
    }
    return finish(c, p.l3Len, l4, l4h);
  },
};
