/**
 * ICMP errors about sessions (IPVS `ip_vs_in_icmp` / `ip_vs_out_icmp` + `ip_vs_nat_icmp`). The quoted
 * packet travelled the other way, so its tuple is looked up reversed:
 *   - quoted VIP:vport -> client:cport (a router on the client side complains about a reply): the
 *     session's in-direction; the error goes to the real server — unchanged for DR/TUN (IPVS hands it to
 *     the session's transmitter), translated for NAT/FNAT so it quotes what the real server sent;
 *   - quoted client:cport -> RS:rport (NAT) or LIP:lport -> RS:rport (FNAT): the out-direction; the error
 *     goes to the client, translated so it quotes what the client sent, from the VIP.
 * Translation rewrites the inner addresses and ports (the inner IP checksum and, when the quote holds it,
 * the inner L4 checksum incrementally), the inner TCP sequence number for Full-NAT PROXY sessions, the
 * outer addresses, and recomputes the ICMP checksum.
 */
import { readU16 } from '../../wire/bytes.js';
import { checksum, checksumOk, pseudoSumV6At } from '../../wire/checksum.js';
import { Icmpv4Type, Icmpv6Type } from '../../wire/icmp.js';
import { IpProto, Ipv4Packet } from '../../wire/ipv4.js';
import { Ipv6Packet } from '../../wire/ipv6.js';
import { Reason } from '../../wire/reasons.js';
import { CF, STRIDE, W } from '../conntable/layout.js';
import { Forwarding } from '../forwarding.js';
import { Drop, Pass, Stat } from '../pipeline/reasons.js';
import { rd32 } from '../pipeline/words.js';
import { newFlowKey } from '../schedulers/scheduler.js';
import { seqToClient } from './fnat-state.js';
import { beginCopy, type FwdContext, sizeProblem, ttlProblem } from './forwarder.js';
import { toServer } from './index.js';
import { L4Sum, setAddr, setPort, setWord32 } from './rewrite.js';

const PASS_ICMP = -(Pass.ICMP + 1);

function relayedType(af: number, t: number): boolean {
  if (af === 4) {
    return (
      t === Icmpv4Type.DEST_UNREACHABLE ||
      t === Icmpv4Type.SOURCE_QUENCH ||
      t === Icmpv4Type.TIME_EXCEEDED ||
      t === Icmpv4Type.PARAMETER_PROBLEM
    );
  }
  return (
    t === Icmpv6Type.DEST_UNREACHABLE ||
    t === Icmpv6Type.PACKET_TOO_BIG ||
    t === Icmpv6Type.TIME_EXCEEDED ||
    t === Icmpv6Type.PARAMETER_PROBLEM
  );
}

/** Parses the quote of the ICMP error in the packet and finds its session (state kept for `relay`). */
export class IcmpRelay {
  readonly #q4 = new Ipv4Packet();
  readonly #q6 = new Ipv6Packet();
  readonly #flow = newFlowKey();
  readonly #isrc = new Uint32Array(4);
  readonly #idst = new Uint32Array(4);
  #iproto = 0;
  /** Offsets in the *input* packet, relative to the start of the ICMP message. */
  #innerRel = 0;
  #innerL4Rel = 0;
  #present = 0;
  #inbound = false;

  /** 0 = relayed, > 0 drop code, < 0 pass. */
  relay(c: FwdContext): number {
    const p = c.p;
    const b = p.buf;
    const m = p.l4Off;
    if (p.frag || p.l4Len < 8 || !relayedType(p.af, b[m]!)) return PASS_ICMP;
    const conn = this.#match(c);
    if (conn <= 0) return conn < 0 ? conn : PASS_ICMP;
    if (p.partial) return Drop.BAD_PARTIAL;
    if (c.cfg.checksums.verifyL4 !== 'never') {
      const pseudo = p.af === 4 ? 0 : pseudoSumV6At(b, p.l3Off, IpProto.ICMPV6, p.l4Len);
      if (!checksumOk(b, m, p.l4Len, pseudo)) return Reason.BAD_ICMP_CHECKSUM;
    }
    c.stats[Stat.ICMP_RELAYED]!++;
    const fwd = c.conns.fwd(conn);
    if (this.#inbound && (fwd === Forwarding.DR || fwd === Forwarding.TUN)) {
      return toServer(c, conn, fwd);
    }
    if (fwd !== Forwarding.NAT && fwd !== Forwarding.FNAT) return Drop.UNSUPPORTED_FORWARDING;
    return this.#translate(c, conn, fwd === Forwarding.FNAT);
  }

  /** The session the quote belongs to (0: none, < 0: a pass code for quotes we cannot read). */
  #match(c: FwdContext): number {
    const p = c.p;
    const b = p.buf;
    const q = p.l4Off + 8;
    const qlen = p.l4Len - 8;
    let l4: number;
    let present: number;
    if (p.af === 4) {
      const ip = this.#q4.reset(b, q, qlen);
      if (ip.checkQuoted() !== Reason.OK || ip.fragOffset !== 0) return PASS_ICMP;
      this.#iproto = ip.protocol;
      l4 = ip.payloadOff;
      present = ip.quotedPayloadLen;
      this.#isrc[0] = ip.src;
      this.#idst[0] = ip.dst;
      this.#isrc[1] = this.#isrc[2] = this.#isrc[3] = 0;
      this.#idst[1] = this.#idst[2] = this.#idst[3] = 0;
    } else {
      const ip = this.#q6.reset(b, q, qlen);
      if (ip.checkQuoted() !== Reason.OK || !ip.hasL4Header || ip.isFragment) return PASS_ICMP;
      this.#iproto = ip.upperProto;
      l4 = ip.upperOff;
      present = q + qlen - l4;
      ip.readSrc(this.#isrc);
      ip.readDst(this.#idst);
    }
    if ((this.#iproto !== IpProto.TCP && this.#iproto !== IpProto.UDP) || present < 8) return PASS_ICMP;
    this.#innerRel = q - p.l4Off;
    this.#innerL4Rel = l4 - p.l4Off;
    this.#present = present;
    const sport = readU16(b, l4);
    const dport = readU16(b, l4 + 2);
    const f = this.#flow;
    f.af = p.af;
    f.proto = this.#iproto;
    f.saddr.set(this.#idst);
    f.daddr.set(this.#isrc);
    f.sport = dport;
    f.dport = sport;
    if (c.services.isVip(p.af, this.#isrc, 0)) {
      const conn = c.conns.lookupIn(f, c.now);
      if (conn !== 0) {
        this.#inbound = true;
        return conn;
      }
    }
    this.#inbound = false;
    return c.conns.lookupOut(this.#iproto, p.af, this.#idst, 0, dport, this.#isrc, 0, sport, c.now);
  }

  #translate(c: FwdContext, conn: number, fnat: boolean): number {
    const p = c.p;
    const conns = c.conns;
    const inbound = this.#inbound;
    const d = conns.dest(conn);
    const svc = conns.svc(conn);
    const co = conn * STRIDE + W.CADDR;
    const lipOff = conns.lip(conn) * 4;
    // Never an ICMP error about an ICMP error (Egress.icmpError refuses); the drops are what matter here.
    let r = ttlProblem(c, inbound);
    if (r !== 0) return r;
    if (c.dests.af[d] !== p.af || (fnat && c.lips === null)) return Drop.FAMILY_MISMATCH;
    const nb = inbound
      ? c.eg.toward(p.af, c.dests.addr, d * 4, false)
      : fnat
        ? c.eg.toward(p.af, conns.e, co, false)
        : c.eg.toward(p.af, p.daddr, 0, false);
    if (nb < 0) return -nb;
    r = sizeProblem(c, c.eg.outIface, 0, 0, inbound);
    if (r !== 0) return r;
    const l3 = beginCopy(c, c.eg.outIface, nb, 0, 0);
    if (l3 < 0) return -l3;
    const b = c.eg.buf;
    const m = l3 + p.l3HdrLen;
    const iq = m + this.#innerRel;
    const il4 = m + this.#innerL4Rel;
    const tcp = this.#iproto === IpProto.TCP;
    const kind = tcp ? L4Sum.TCP : L4Sum.UDP;
    // The inner checksum is only updated when the quote holds it; a zero UDP checksum stays zero.
    const at = tcp ? (this.#present >= 18 ? il4 + 16 : -1) : il4 + 6;
    const lips = c.lips;
    const dests = c.dests.addr;
    const vip = c.services.addr;
    if (inbound) {
      // Quote: VIP:vport -> client:cport; the RS sent RS:rport -> client (NAT) or -> LIP:lport (FNAT).
      setAddr(b, l3, p.af, true, dests, d * 4, -1, L4Sum.NONE, false);
      setAddr(b, iq, p.af, false, dests, d * 4, at, kind, false);
      setPort(b, il4, conns.dport(conn), at, kind, false);
      if (fnat) {
        setAddr(b, l3, p.af, false, lips!.addr, lipOff, -1, L4Sum.NONE, false);
        setAddr(b, iq, p.af, true, lips!.addr, lipOff, at, kind, false);
        setPort(b, il4 + 2, conns.lport(conn), at, kind, false);
      }
    } else {
      // Quote: client:cport -> RS:rport (NAT) or LIP:lport -> RS:rport (FNAT); the client sent -> VIP:vport.
      setAddr(b, l3, p.af, false, vip, svc * 4, -1, L4Sum.NONE, false);
      setAddr(b, iq, p.af, true, vip, svc * 4, at, kind, false);
      setPort(b, il4 + 2, conns.vport(conn), at, kind, false);
      if (fnat) {
        setAddr(b, l3, p.af, true, conns.e, co, -1, L4Sum.NONE, false);
        setAddr(b, iq, p.af, false, conns.e, co, at, kind, false);
        setPort(b, il4, conns.cport(conn), at, kind, false);
        const delta = conns.seqDelta(conn);
        if (tcp && delta !== 0) {
          const pending = (conns.flags(conn) & CF.PROXY_PENDING) !== 0;
          const seq = seqToClient(rd32(b, il4 + 4), c.fnat.isn(conn), delta, pending);
          setWord32(b, il4 + 4, seq, at < 0 ? il4 + 4 : at, at < 0);
        }
      }
    }
    const icmpLen = p.l4Len;
    const pseudo = p.af === 4 ? 0 : pseudoSumV6At(b, l3, IpProto.ICMPV6, icmpLen);
    b[m + 2] = 0;
    b[m + 3] = 0;
    const sum = checksum(b, m, icmpLen, pseudo);
    b[m + 2] = sum >>> 8;
    b[m + 3] = sum;
    c.eg.commit(p.l3Len, null);
    return 0;
  }
}
