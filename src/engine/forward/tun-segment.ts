/**
 * Software segmentation for the tunnel forwarder. A client's TCP stack with TSO (and veth, which hands
 * frames over unsegmented) gives the director GSO super-frames; a virtio_net_hdr cannot ask the kernel to
 * segment one inside an IP-in-IP header (there is no SKB_GSO_IPXIP4 in it), so the director cuts it into
 * gso_size segments itself, as the kernel's tcp_gso_segment would (sequence numbers advanced, FIN/PSH on
 * the last segment only, CWR on the first only, IPv4 ids counted up), and wraps each one.
 *
 * Every tunnelled segment leaves with finished checksums: a real server decapsulating in user space reads
 * plain bytes and never learns that a checksum was left for offload (a partial checksum would look
 * corrupt to it), and a real NIC would have finished it anyway.
 */
import { writeU16 } from '../../wire/bytes.js';
import { checksum, pseudoSumV4At, pseudoSumV6At } from '../../wire/checksum.js';
import { encapIpip } from '../../wire/ipip.js';
import { IPV4, IpProto } from '../../wire/ipv4.js';
import { IPV6 } from '../../wire/ipv6.js';
import { Drop } from '../pipeline/reasons.js';
import { wr32 } from '../pipeline/words.js';
import type { FwdContext } from './forwarder.js';
import { copyPacket } from './rewrite.js';

const TCP_SEQ = 4;
const TCP_FLAGS = 13;
const TCP_CSUM = 16;
const FIN_PSH = 0x09;
const CWR = 0x80;

/**
 * Finishes the inner IPv4 header checksum and the TCP/UDP checksum of the packet at `l3` (`af`, L4 at
 * `l4` for `l4Len` bytes), whatever their state (partial or stale).
 */
export function finishInnerChecksums(
  b: Uint8Array,
  l3: number,
  af: number,
  l4: number,
  l4Len: number,
  proto: number,
): void {
  if (af === 4) {
    const ihl = (b[l3]! & 15) << 2;
    b[l3 + IPV4.CHECKSUM] = 0;
    b[l3 + IPV4.CHECKSUM + 1] = 0;
    writeU16(b, l3 + IPV4.CHECKSUM, checksum(b, l3, ihl));
  }
  if (proto !== IpProto.TCP && proto !== IpProto.UDP) return;
  const field = l4 + (proto === IpProto.TCP ? TCP_CSUM : 6);
  b[field] = 0;
  b[field + 1] = 0;
  const pseudo = af === 4 ? pseudoSumV4At(b, l3, proto, l4Len) : pseudoSumV6At(b, l3, proto, l4Len);
  let c = checksum(b, l4, l4Len, pseudo);
  if (c === 0 && proto === IpProto.UDP) c = 0xffff;
  writeU16(b, field, c);
}

/**
 * Sends the GSO TCP frame `c.p` as gso_size segments, each wrapped in an outer header to dest `d`. 0 when
 * every segment was queued, else a drop code. The egress source (`eg.src`) must already be picked.
 */
export function segmentTcp(
  c: FwdContext,
  iface: number,
  nb: number,
  outer: number,
  l4h: number,
  rsAf: number,
  d: number,
): number {
  const p = c.p;
  if (p.proto !== IpProto.TCP || p.gsoSize <= 0) return Drop.GSO_UNSUPPORTED;
  const eg = c.eg;
  const src = p.buf;
  const hdr = p.l3HdrLen + l4h;
  const payload = p.l3Len - hdr;
  const mss = p.gsoSize;
  const l4Rel = p.l3HdrLen;
  const seq0 =
    ((src[p.l4Off + TCP_SEQ]! << 24) |
      (src[p.l4Off + TCP_SEQ + 1]! << 16) |
      (src[p.l4Off + TCP_SEQ + 2]! << 8) |
      src[p.l4Off + TCP_SEQ + 3]!) >>>
    0;
  const id0 = p.af === 4 ? (src[p.l3Off + IPV4.IDENT]! << 8) | src[p.l3Off + IPV4.IDENT + 1]! : 0;
  const flags0 = src[p.l4Off + TCP_FLAGS]!;
  const etherType = outer === 20 ? 0x0800 : 0x86dd;
  let k = 0;
  for (let off = 0; off < payload; off += mss, k++) {
    const seg = Math.min(mss, payload - off);
    const last = off + seg >= payload;
    const l3 = eg.begin(iface, nb, etherType);
    if (l3 < 0) return Drop.TX_FULL;
    const b = eg.buf;
    const inner = l3 + outer;
    copyPacket(src, p.l3Off, b, inner, hdr);
    copyPacket(src, p.l3Off + hdr + off, b, inner + hdr, seg);
    const innerLen = hdr + seg;
    if (p.af === 4) {
      writeU16(b, inner + IPV4.TOTAL_LEN, innerLen);
      writeU16(b, inner + IPV4.IDENT, (id0 + k) & 0xffff);
      if (c.cfg.decrementTtl) b[inner + IPV4.TTL]!--;
    } else {
      writeU16(b, inner + IPV6.PAYLOAD_LEN, innerLen - 40);
      if (c.cfg.decrementTtl) b[inner + IPV6.HOP_LIMIT]!--;
    }
    const l4 = inner + l4Rel;
    const seq = (seq0 + off) >>> 0;
    b[l4 + TCP_SEQ] = seq >>> 24;
    b[l4 + TCP_SEQ + 1] = (seq >>> 16) & 255;
    b[l4 + TCP_SEQ + 2] = (seq >>> 8) & 255;
    b[l4 + TCP_SEQ + 3] = seq & 255;
    let flags = flags0;
    if (!last) flags &= ~FIN_PSH;
    if (k > 0) flags &= ~CWR;
    b[l4 + TCP_FLAGS] = flags;
    finishInnerChecksums(b, inner, p.af, l4, l4h + seg, IpProto.TCP);
    writeOuter(c, l3, innerLen, rsAf, d);
    eg.commit(outer + innerLen, null);
  }
  return 0;
}

/** Writes an outer IPv6 header at `off` for the inner packet that follows it. */
function writeOuterV6(
  b: Uint8Array,
  off: number,
  innerLen: number,
  src: ArrayLike<number>,
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
    wr32(b, off + IPV6.SRC + 4 * i, src[i]! | 0);
    wr32(b, off + IPV6.DST + 4 * i, dst[dof + i]! | 0);
  }
}

/**
 * The outer header for the inner packet of `innerLen` bytes that starts after it at `l3`: IPv4 (RFC 2003,
 * protocol 4 or 41) to an IPv4 real server, IPv6 (RFC 2473) to an IPv6 one; source = the egress source
 * already picked; TTL = the inner TTL unless `tunnelTtl` is set.
 */
export function writeOuter(c: FwdContext, l3: number, innerLen: number, rsAf: number, d: number): void {
  const eg = c.eg;
  const b = eg.buf;
  const inner = l3 + (rsAf === 4 ? 20 : 40);
  const ttl =
    c.cfg.tunnelTtl !== 0 ? c.cfg.tunnelTtl : b[inner + (b[inner]! >>> 4 === 4 ? IPV4.TTL : IPV6.HOP_LIMIT)]!;
  if (rsAf === 4) {
    c.ipIdent = (c.ipIdent + 1) & 0xffff;
    encapIpip(b, inner, innerLen, eg.src[0]! | 0, c.dests.addr[d * 4]! | 0, ttl, c.ipIdent, l3);
  } else {
    writeOuterV6(b, l3, innerLen, eg.src, c.dests.addr, d * 4, ttl);
  }
}
