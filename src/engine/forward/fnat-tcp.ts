/**
 * Full-NAT TCP, client -> RS: rewrite to LIP:lport -> RS:rport, and deliver the client address by TOA
 * option and/or PROXY protocol header (per service).
 *
 * TOA (after DPVS `tcp_in_add_toa`, but also in the SYN): inserted right after the base header of the SYN
 * and of every client segment until the real server has sent something other than its SYN-ACK (then its
 * socket exists and has read the option: the kernel TOA module takes it from the handshake-completing
 * ACK). Skipped, and counted as toa_no_room, when the header has no 8/20 bytes of option space left, the
 * result would exceed the MTU, or the frame is a GSO super-frame.
 *
 * PROXY header: put in front of the first payload byte — in the same segment when it fits the MTU (the
 * common case: a request smaller than the MSS), else as a segment of its own (seq = ISN + 1, ACK|PSH)
 * followed by the original segment shifted by N. A retransmission of the first segment gets the same
 * header again (it is rebuilt from the session, so it is byte-identical). Sequence numbers: see
 * fnat-state.ts. SACK blocks from the real server are translated like acknowledgments, so SACK stays on.
 */
import { writeU16 } from '../../wire/bytes.js';
import { checksum, checksumOk, pseudoSumV4At, pseudoSumV6At } from '../../wire/checksum.js';
import { IpProto } from '../../wire/ipv4.js';
import { Reason } from '../../wire/reasons.js';
import { TcpFlag } from '../../wire/tcp.js';
import { insertToa } from '../../wire/tcp-options.js';
import { CF, STRIDE, W } from '../conntable/layout.js';
import { Drop, Stat } from '../pipeline/reasons.js';
import { rd32 } from '../pipeline/words.js';
import { seqToServer } from './fnat-state.js';
import { beginCopy, type FwdContext, finish } from './forwarder.js';
import {
  addBytes,
  copyPacket,
  decTtl,
  L4Sum,
  l4LengthChanged,
  setAddr,
  setL3Len,
  setPort,
  setTcp4Tuple,
  setWord32,
} from './rewrite.js';

const INJECT_NONE = 0;
const INJECT_SAME = 1;
const INJECT_SPLIT = 2;

/** Full TCP checksum of the segment at `l4` (`len` bytes) of the IP packet at `l3`. */
function fillTcpChecksum(b: Uint8Array, l3: number, af: number, l4: number, len: number): void {
  const pseudo = af === 4 ? pseudoSumV4At(b, l3, IpProto.TCP, len) : pseudoSumV6At(b, l3, IpProto.TCP, len);
  writeU16(b, l4 + 16, 0);
  writeU16(b, l4 + 16, checksum(b, l4, len, pseudo));
}

/** The input segment's checksum is good (needed before a full recompute could launder a bad one). */
function inputChecksumOk(c: FwdContext): boolean {
  const p = c.p;
  if (p.l4Verified) return true;
  const pseudo =
    p.af === 4
      ? pseudoSumV4At(p.buf, p.l3Off, IpProto.TCP, p.l4Len)
      : pseudoSumV6At(p.buf, p.l3Off, IpProto.TCP, p.l4Len);
  return checksumOk(p.buf, p.l4Off, p.l4Len, pseudo);
}

/** Writes the PROXY header of `conn` at `off`; returns its length (the session's delta) or -1. */
function writeHeader(
  c: FwdContext,
  conn: number,
  udp: boolean,
  b: Uint8Array,
  off: number,
  cap: number,
): number {
  const conns = c.conns;
  const svc = conns.svc(conn);
  return c.fnat.encode(
    c.svcOpts.proxyVersion(svc),
    udp,
    c.p.af,
    conns.e,
    conn * STRIDE + W.CADDR,
    conns.cport(conn),
    c.services.addr,
    svc * 4,
    conns.vport(conn),
    b,
    off,
    cap,
  );
}

/** Rewrites client:cport -> VIP:vport into LIP:lport -> RS:rport (incremental checksums unless `at` < 0). */
function rewriteTuple(
  c: FwdContext,
  conn: number,
  b: Uint8Array,
  l3: number,
  l4: number,
  at: number,
  kind: number,
): void {
  const conns = c.conns;
  const p = c.p;
  if (p.af === 4 && kind === L4Sum.TCP && at >= 0 && !p.partial) {
    const lip = c.lips!.addr[conns.lip(conn) * 4]! | 0;
    setTcp4Tuple(
      b,
      l3,
      l4,
      lip,
      c.dests.addr[conns.dest(conn) * 4]! | 0,
      conns.lport(conn),
      conns.dport(conn),
    );
    return;
  }
  setAddr(b, l3, p.af, false, c.lips!.addr, conns.lip(conn) * 4, at, kind, p.partial);
  setAddr(b, l3, p.af, true, c.dests.addr, conns.dest(conn) * 4, at, kind, p.partial);
  setPort(b, l4, conns.lport(conn), at, kind, p.partial);
  setPort(b, l4 + 2, conns.dport(conn), at, kind, p.partial);
}

/** The PROXY header alone, as the segment before the client's first one (which does not fit with it). */
function sendHeaderSegment(
  c: FwdContext,
  conn: number,
  iface: number,
  nb: number,
  l4h: number,
  n: number,
): number {
  const p = c.p;
  const eg = c.eg;
  const len = p.l3HdrLen + l4h + n;
  if (len > eg.l3Room(iface)) return Drop.FRAME_TOO_LARGE;
  const l3 = eg.begin(iface, nb, p.af === 4 ? 0x0800 : 0x86dd);
  if (l3 < 0) return Drop.TX_FULL;
  const b = eg.buf;
  copyPacket(p.buf, p.l3Off, b, l3, p.l3HdrLen + l4h);
  if (c.cfg.decrementTtl) decTtl(b, l3, p.af);
  const l4 = l3 + p.l3HdrLen;
  if (writeHeader(c, conn, false, b, l4 + l4h, b.length - l4 - l4h) !== n) return Drop.FRAME_TOO_LARGE;
  b[l4 + 13] = TcpFlag.ACK | TcpFlag.PSH;
  writeU16(b, l4 + 18, 0); // urgent pointer: no URG here
  setL3Len(b, l3, p.af, len);
  rewriteTuple(c, conn, b, l3, l4, -1, L4Sum.NONE);
  fillTcpChecksum(b, l3, p.af, l4, l4h + n);
  eg.commit(len, null);
  c.stats[Stat.PROXY_SPLIT]!++;
  return 0;
}

export function fnatTcpToServer(c: FwdContext, conn: number, iface: number, nb: number, l4h: number): number {
  const p = c.p;
  const conns = c.conns;
  const st = c.fnat;
  const svc = conns.svc(conn);
  const flags = p.tcpFlags;
  const cflags = conns.flags(conn);
  const mtu = c.cfg.ifMtu[iface]!;
  const delta = conns.seqDelta(conn);
  const seq = rd32(p.buf, p.l4Off + 4);
  let isn = 0;
  let inject = INJECT_NONE;
  if (delta !== 0) {
    if (cflags & CF.PROXY_PENDING && (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN)
      st.setIsn(conn, seq + 1);
    isn = st.isn(conn);
    if (seq === isn && p.l4Len > l4h && !(flags & (TcpFlag.SYN | TcpFlag.RST))) {
      inject = p.gso || p.l3Len + delta <= mtu ? INJECT_SAME : INJECT_SPLIT;
    }
  }
  // A client SYN with data (TCP Fast Open) while a header is due: the data would reach the RS without the
  // header before it. The SYN goes without its data; the client sends it again after the handshake (the
  // SYN-ACK does not acknowledge it), and then it gets the header.
  const cut = delta !== 0 && (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN ? p.l4Len - l4h : 0;
  if (cut !== 0) c.stats[Stat.SYN_DATA_STRIPPED]!++;
  const injected = inject === INJECT_SAME ? delta : 0;
  let toa = 0;
  if (
    c.svcOpts.toaOn(svc) &&
    !(flags & TcpFlag.RST) &&
    (flags & TcpFlag.SYN || !(cflags & CF.CLIENT_ADDR_SENT))
  ) {
    const n = p.af === 4 ? 8 : 20;
    if (!p.gso && l4h + n <= 60 && p.l3Len + injected + n <= mtu) toa = n;
    else c.stats[Stat.TOA_NO_ROOM]!++;
  }
  const growth = toa + injected;
  const fullSum = !p.partial && ((inject === INJECT_SAME && (delta & 1) === 1) || cut !== 0);
  if (fullSum && !inputChecksumOk(c)) return Reason.BAD_TCP_CHECKSUM;
  if (inject === INJECT_SPLIT) {
    const r = sendHeaderSegment(c, conn, iface, nb, l4h, delta);
    if (r !== 0) return r;
  }
  const l3 = beginCopy(c, iface, nb, 0, growth);
  if (l3 < 0) return -l3;
  const b = c.eg.buf;
  const l4 = l3 + p.l3HdrLen;
  const at = l4 + 16;
  let tcpLen = p.l4Len - cut;
  let l4hOut = l4h;
  if (cut !== 0) l4LengthChanged(b, at, L4Sum.TCP, p.partial, p.l4Len, tcpLen);
  if (toa !== 0) {
    const tcp = st.tcp.reset(b, l4, tcpLen);
    insertToa(tcp, l4 + tcpLen + toa, c.svcOpts.kind(svc), p.sport, p.af, p.saddrI32, 0, p.partial);
    tcpLen += toa;
    l4hOut += toa;
    c.stats[Stat.TOA_INSERTED]!++;
  }
  if (inject === INJECT_SAME) {
    const pay = l4 + l4hOut;
    b.copyWithin(pay + delta, pay, l4 + tcpLen);
    // v1's encoder wants room for its longest line; it writes exactly `delta` bytes for this session.
    if (writeHeader(c, conn, false, b, pay, b.length - pay) !== delta) return Drop.FRAME_TOO_LARGE;
    // An even length inserted at a 4-byte aligned offset keeps every later byte in its word position.
    if (!p.partial && !fullSum) addBytes(b, at, pay, delta, false);
    l4LengthChanged(b, at, L4Sum.TCP, p.partial, tcpLen, tcpLen + delta);
    tcpLen += delta;
    c.stats[Stat.PROXY_HEADERS]!++;
  }
  rewriteTuple(c, conn, b, l3, l4, at, L4Sum.TCP);
  if (delta !== 0) {
    const s = inject === INJECT_SPLIT ? (isn + delta) | 0 : seqToServer(seq, isn, delta);
    setWord32(b, l4 + 4, s, at, p.partial);
  }
  const l3Len = p.l3Len + growth - cut;
  if (l3Len !== p.l3Len) setL3Len(b, l3, p.af, l3Len);
  if (fullSum) fillTcpChecksum(b, l3, p.af, l4, tcpLen);
  if (inject !== INJECT_NONE) conns.setFlag(conn, CF.PROXY_PENDING, false);
  return finish(c, l3Len, l4, l4hOut);
}
