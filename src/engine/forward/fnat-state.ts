/**
 * Full-NAT per-connection state beyond the session entry, and the PROXY-header sequence arithmetic.
 *
 * A PROXY header of N bytes injected in front of the client's first payload byte shifts the client -> RS
 * byte stream by N from then on. The session keeps N (`seqDelta`) and the PROXY_PENDING flag; this side
 * table keeps `isn`, the client's first data sequence number (its ISN + 1), per session id, so that
 *   - client -> RS: a segment starting at `isn` with payload gets the header (again, on a retransmission);
 *     a sequence number after `isn` becomes seq + N;
 *   - RS -> client: an acknowledgment (or SACK edge) a becomes a - N once the RS has received the header
 *     (or when a >= isn + N), `isn` while it only acknowledges part of the header, unchanged at or
 *     before `isn`.
 * The table (4 bytes per session-table slot) is allocated the first time a service injects headers.
 */
import {
  encodeProxyV1,
  PROXY_V2,
  PROXY_V2_ADDR_LEN,
  PROXY_V2_HEADER_LEN,
  PROXY_V2_SIGNATURE,
  ProxyCommand,
  ProxyFamily,
  ProxyHeader,
  ProxyTransport,
} from '../../wire/proxy-protocol.js';
import { TcpPacket } from '../../wire/tcp.js';
import { TcpOptionIter } from '../../wire/tcp-options.js';
import { wr32 } from '../pipeline/words.js';

/**
 * A v2 PROXY header without TLVs (haproxy proxy-protocol.txt §2.2), written here rather than with the wire
 * encoder because that one walks its TLV list with an iterator, an allocation per header — per datagram
 * for UDP services. Same bytes (the scenario fixtures check them against a specification-built header).
 */
function writeProxyV2(
  b: Uint8Array,
  off: number,
  cap: number,
  af: number,
  udp: boolean,
  src: ArrayLike<number>,
  so: number,
  sport: number,
  dst: ArrayLike<number>,
  dof: number,
  dport: number,
): number {
  const alen = af === 4 ? PROXY_V2_ADDR_LEN.INET : PROXY_V2_ADDR_LEN.INET6;
  const total = PROXY_V2_HEADER_LEN + alen;
  if (total > cap) return -1;
  for (let i = 0; i < PROXY_V2_SIGNATURE.length; i++) b[off + i] = PROXY_V2_SIGNATURE[i]!;
  b[off + PROXY_V2.VER_CMD] = 0x20 | ProxyCommand.PROXY;
  b[off + PROXY_V2.FAM_PROTO] =
    ((af === 4 ? 1 : 2) << 4) | (udp ? ProxyTransport.DGRAM : ProxyTransport.STREAM);
  b[off + PROXY_V2.LEN] = 0;
  b[off + PROXY_V2.LEN + 1] = alen;
  let p = off + PROXY_V2.ADDR;
  const words = af === 4 ? 1 : 4;
  for (let i = 0; i < words; i++, p += 4) wr32(b, p, src[so + i]! | 0);
  for (let i = 0; i < words; i++, p += 4) wr32(b, p, dst[dof + i]! | 0);
  b[p] = sport >>> 8;
  b[p + 1] = sport;
  b[p + 2] = dport >>> 8;
  b[p + 3] = dport;
  return total;
}

export class FnatState {
  readonly #capacity: number;
  #isn: Int32Array | null = null;
  readonly hdr = new ProxyHeader();
  readonly scratch = new Uint8Array(256);
  /** Views over the output frame. */
  readonly tcp = new TcpPacket();
  readonly opts = new TcpOptionIter();

  constructor(connCapacity: number) {
    this.#capacity = connCapacity;
  }

  isn(conn: number): number {
    return this.#isn === null ? 0 : this.#isn[conn]!;
  }

  setIsn(conn: number, v: number): void {
    this.#isn ??= new Int32Array(this.#capacity + 1);
    this.#isn[conn] = v | 0;
  }

  /**
   * Fills the header for client `caddr[co..]:cport` -> VIP `vaddr[vo..]:vport` and encodes it (`version` 1
   * or 2, `udp` for a v2 DGRAM header) at `off` of `b`. Returns its length, or -1 when `cap` is too small.
   */
  encode(
    version: number,
    udp: boolean,
    af: number,
    caddr: ArrayLike<number>,
    co: number,
    cport: number,
    vaddr: ArrayLike<number>,
    vo: number,
    vport: number,
    b: Uint8Array,
    off: number,
    cap: number,
  ): number {
    if (version !== 1) return writeProxyV2(b, off, cap, af, udp, caddr, co, cport, vaddr, vo, vport);
    const h = this.hdr;
    h.command = ProxyCommand.PROXY;
    h.family = af === 4 ? ProxyFamily.INET : ProxyFamily.INET6;
    h.transport = udp ? ProxyTransport.DGRAM : ProxyTransport.STREAM;
    for (let i = 0; i < 4; i++) {
      h.src[i] = caddr[co + i]!;
      h.dst[i] = vaddr[vo + i]!;
    }
    h.srcPort = cport;
    h.dstPort = vport;
    return encodeProxyV1(h, b, off, cap);
  }
}

/** Client -> RS: the RS's view of client sequence number `s` (as an int32, like every word here). */
export function seqToServer(s: number, isn: number, delta: number): number {
  return ((s - isn) | 0) > 0 ? (s + delta) | 0 : s | 0;
}

/**
 * RS -> client: the client's view of an acknowledgment / SACK edge `a` the RS sent. `pending`: the header
 * has not been delivered yet (only edges past it are shifted then).
 */
export function seqToClient(a: number, isn: number, delta: number, pending: boolean): number {
  const d = (a - isn) | 0;
  if (d <= 0) return a | 0;
  if (d >= delta) return (a - delta) | 0;
  return pending ? a | 0 : isn | 0;
}
