/**
 * One parsed frame: offsets and the fields every later stage needs, filled by `parseFrame` into a reused
 * `Packet` (no allocation). Validation follows the wire views' `check()`; what is wrong with the L4
 * header is recorded (`l4Reason`) rather than acted on, because only traffic that turns out to be ours
 * is dropped for it — the rest is the kernel's business.
 */
import { checksumOk } from '../../wire/checksum.js';
import { ETH_HEADER_LEN, EthernetFrame, EtherType, isVlanTpid } from '../../wire/ethernet.js';
import { IPV4_HEADER_LEN, IpProto, Ipv4Packet } from '../../wire/ipv4.js';
import { Ipv6Packet } from '../../wire/ipv6.js';
import { Reason } from '../../wire/reasons.js';
import { TCP_HEADER_LEN, TcpPacket } from '../../wire/tcp.js';
import { UDP_HEADER_LEN, UdpPacket } from '../../wire/udp.js';
import type { ResolvedConfig } from './config.js';
import { type PipelineFrame, RxStatus, VnetFlag } from './frame.js';
import { Drop, Pass } from './reasons.js';
import { macHiAt, macLoAt, rd32 } from './words.js';

export const Kind = Object.freeze({ ARP: 1, IP: 2 });

/** The first option word of a timestamped data segment: NOP, NOP, kind 8, length 10. */
const NOP_NOP_TS = 0x0101080a;

export class Packet {
  buf: Uint8Array = new Uint8Array(0);
  frameOff = 0;
  frameLen = 0;
  iface = 0;
  status = 0;
  vnetFlags = 0;
  gsoType = 0;
  hdrLen = 0;
  gsoSize = 0;
  csumStart = 0;
  csumOffset = 0;
  /** Ethernet header + in-band tags. */
  l2Len = 0;
  kind = 0;
  af: 4 | 6 = 4;
  l3Off = 0;
  /** IP total length (Ethernet padding excluded). */
  l3Len = 0;
  /** IPv4 header / IPv6 header + extension headers. */
  l3HdrLen = 0;
  ttl = 0;
  /** IPv4 DF (IPv6 never fragments on path: always true). */
  df = false;
  /** Upper protocol (after IPv6 extension headers). */
  proto = 0;
  l4Off = 0;
  l4Len = 0;
  /** Fragment (IPv4 MF/offset, IPv6 non-atomic Fragment header): no ports. */
  frag = false;
  /** IPv6 Routing header with segments left. */
  routed = false;
  /** Result of the L4 view's check() (Reason.OK when sound). */
  l4Reason: number = Reason.OK;
  /** Ports (and flags) could be read: the L4 header is at least that long. */
  portsOk = false;
  readonly saddr = new Uint32Array(4);
  readonly daddr = new Uint32Array(4);
  /**
   * `saddr` and `daddr` as int32 words: a word above 2^31 read from the Uint32Array is a heap number
   * wherever the code runs unoptimized (a deopt under load): these hand a word over without boxing it.
   */
  readonly saddrI32 = new Int32Array(this.saddr.buffer);
  readonly daddrI32 = new Int32Array(this.daddr.buffer);
  sport = 0;
  dport = 0;
  tcpFlags = 0;
  /** The L4 checksum is CHECKSUM_PARTIAL (pseudo-header sum only). */
  partial = false;
  /** A GSO super-frame. */
  gso = false;
  /** The kernel said the checksums are good. */
  csumValid = false;
  /** The L4 checksum was verified (by the kernel or by the pipeline). */
  l4Verified = false;
}

/** Reused views for parsing; one set per pipeline. */
export class Views {
  readonly eth = new EthernetFrame();
  readonly ip4 = new Ipv4Packet();
  readonly ip6 = new Ipv6Packet();
  readonly tcp = new TcpPacket();
  readonly udp = new UdpPacket();
}

/**
 * Parses `f` into `p`. Returns 0 (OK: `p.kind` says ARP or IP), a drop code (> 0) or a pass reason encoded
 * as -(reason + 1).
 *
 * The common case (untagged Ethernet, IPv4 without options, TCP/UDP) is read with plain byte maths giving
 * the same verdicts as the wire views' check(); the views take over for VLAN tags, IPv4 and TCP options
 * and IPv6 extension chains. (Kept small on purpose: V8 stops inlining in big functions, and every
 * getter that is not inlined costs a call per packet.)
 */
export function parseFrame(f: PipelineFrame, p: Packet, v: Views, cfg: ResolvedConfig): number {
  const iface = f.port;
  if (!(iface >= 0 && iface < cfg.ifCount)) return Drop.NO_INTERFACE;
  const b = f.buf;
  const o = f.offset;
  const len = f.len;
  const status = f.status;
  p.buf = b;
  p.frameOff = o;
  p.frameLen = len;
  p.iface = iface;
  p.status = status;
  const vf = f.vnetFlags;
  p.vnetFlags = vf;
  p.gsoType = f.gsoType;
  p.hdrLen = f.hdrLen;
  p.gsoSize = f.gsoSize;
  p.csumStart = f.csumStart;
  p.csumOffset = f.csumOffset;
  p.partial = (status & RxStatus.CSUMNOTREADY) !== 0 || (vf & VnetFlag.NEEDS_CSUM) !== 0;
  p.gso = f.gsoType !== 0;
  p.csumValid = (status & RxStatus.CSUM_VALID) !== 0 || (vf & VnetFlag.DATA_VALID) !== 0;
  p.l4Verified = p.csumValid;
  if (len < ETH_HEADER_LEN) return Reason.TRUNCATED_ETH;
  let type = (b[o + 12]! << 8) | b[o + 13]!;
  let l2 = ETH_HEADER_LEN;
  let vid = status & RxStatus.VLAN_VALID ? f.vlanTci & 0xfff : 0;
  if (isVlanTpid(type)) {
    const eth = v.eth.reset(b, o, len);
    const er = eth.check();
    if (er !== Reason.OK) return er;
    if (eth.vlanCount > 1 || status & RxStatus.VLAN_VALID) return -(Pass.VLAN + 1);
    vid = eth.vlanTci(0) & 0xfff;
    type = eth.etherType;
    l2 = eth.payloadOff - o;
  }
  if (vid !== cfg.ifVlan[iface]) return -(Pass.VLAN + 1);
  // Unicast frames must be addressed to us; broadcast/multicast (ARP, ND) go on to their handlers.
  if ((b[o]! & 1) === 0 && (macHiAt(b, o) !== cfg.ifMacHi[iface] || macLoAt(b, o) !== cfg.ifMacLo[iface])) {
    return -(Pass.NOT_OUR_MAC + 1);
  }
  p.l2Len = l2;
  if (type === EtherType.IPV4) return parseIpv4(p, v, cfg, o + l2, len - l2);
  if (type === EtherType.IPV6) return parseIpv6(p, v, o + l2, len - l2);
  if (type === EtherType.ARP) {
    p.kind = Kind.ARP;
    p.l3Off = o + l2;
    p.l3Len = len - l2;
    return 0;
  }
  return -(Pass.NOT_IP + 1);
}

/** Ipv4Packet.check() and the header checksum, the option walk left to the view. */
function parseIpv4(p: Packet, v: Views, cfg: ResolvedConfig, off: number, len: number): number {
  const b = p.buf;
  if (len < IPV4_HEADER_LEN) return Reason.TRUNCATED_IPV4;
  const vi = b[off]!;
  if (vi >>> 4 !== 4) return Reason.BAD_IP_VERSION;
  const hl = (vi & 15) << 2;
  if (hl < IPV4_HEADER_LEN) return Reason.BAD_IHL;
  if (hl > len) return Reason.TRUNCATED_IPV4;
  if (hl > IPV4_HEADER_LEN) {
    const r = v.ip4.reset(b, off, len).check();
    if (r !== Reason.OK) return r;
  }
  const total = (b[off + 2]! << 8) | b[off + 3]!;
  if (total < hl) return Reason.BAD_TOTAL_LENGTH;
  if (total > len) return Reason.TRUNCATED_IPV4;
  if (cfg.checksums.verifyIpv4Header && !checksumOk(b, off, hl)) return Reason.BAD_IP_CHECKSUM;
  const s = p.saddr;
  const d = p.daddr;
  // Words 1-3 of an IPv4 address are zero, and stay so while the Packet holds IPv4 (only parseIpv6,
  // which sets af to 6, writes them): cleared once after an IPv6 frame, not per frame.
  if (p.af !== 4) {
    s[1] = s[2] = s[3] = 0;
    d[1] = d[2] = d[3] = 0;
  }
  p.kind = Kind.IP;
  p.af = 4;
  p.l3Off = off;
  p.l3Len = total;
  p.l3HdrLen = hl;
  p.ttl = b[off + 8]!;
  const ff = (b[off + 6]! << 8) | b[off + 7]!;
  p.df = (ff & 0x4000) !== 0;
  p.frag = (ff & 0x3fff) !== 0;
  p.proto = b[off + 9]!;
  p.routed = false;
  s[0] = rd32(b, off + 12);
  d[0] = rd32(b, off + 16);
  p.l4Off = off + hl;
  p.l4Len = total - hl;
  parseL4(p, v);
  return 0;
}

function parseIpv6(p: Packet, v: Views, off: number, len: number): number {
  const ip = v.ip6.reset(p.buf, off, len);
  const r = ip.check();
  if (r !== Reason.OK) return r;
  p.kind = Kind.IP;
  p.af = 6;
  p.l3Off = off;
  p.l3Len = ip.end - off;
  p.l3HdrLen = ip.upperOff - off;
  p.ttl = ip.hopLimit;
  p.df = true;
  p.proto = ip.upperProto;
  p.frag = ip.isFragment || !ip.hasL4Header;
  p.routed = ip.routingSegmentsLeft > 0;
  for (let i = 0; i < 4; i++) {
    p.saddr[i] = rd32(p.buf, off + 8 + 4 * i);
    p.daddr[i] = rd32(p.buf, off + 24 + 4 * i);
  }
  p.l4Off = ip.upperOff;
  p.l4Len = ip.end - ip.upperOff;
  parseL4(p, v);
  return 0;
}

/** TcpPacket.check() / UdpPacket.check() in byte maths; the TCP option walk is the view's. */
function parseL4(p: Packet, v: Views): void {
  p.portsOk = false;
  p.sport = p.dport = p.tcpFlags = 0;
  p.l4Reason = Reason.OK;
  if (p.frag) return;
  const b = p.buf;
  const o = p.l4Off;
  const len = p.l4Len;
  if (p.proto === IpProto.TCP) {
    if (len < TCP_HEADER_LEN) {
      p.l4Reason = Reason.TRUNCATED_TCP;
      return;
    }
    const hl = (b[o + 12]! >>> 4) << 2;
    if (hl < TCP_HEADER_LEN) p.l4Reason = Reason.BAD_TCP_DOFF;
    else if (hl > len) p.l4Reason = Reason.TRUNCATED_TCP;
    // NOP, NOP, timestamps (10 bytes) is what nearly every data segment carries (Linux with timestamps
    // on): that layout passes the option walk, so the walk is skipped for it.
    else if (hl === TCP_HEADER_LEN + 12 && rd32(b, o + TCP_HEADER_LEN) === NOP_NOP_TS) p.l4Reason = Reason.OK;
    else if (hl > TCP_HEADER_LEN) p.l4Reason = v.tcp.reset(b, o, len).check();
    p.portsOk = true;
    p.sport = (b[o]! << 8) | b[o + 1]!;
    p.dport = (b[o + 2]! << 8) | b[o + 3]!;
    p.tcpFlags = b[o + 13]!;
  } else if (p.proto === IpProto.UDP) {
    if (len < UDP_HEADER_LEN) {
      p.l4Reason = Reason.TRUNCATED_UDP;
      return;
    }
    const ul = (b[o + 4]! << 8) | b[o + 5]!;
    // Bytes after the datagram inside the IP packet: the kernel would trim them; a forwarder cannot tell
    // what they are, so such a datagram is not forwarded (BAD_UDP_LENGTH, like a length below 8).
    if (ul > len) p.l4Reason = Reason.TRUNCATED_UDP;
    else if (ul !== len) p.l4Reason = Reason.BAD_UDP_LENGTH;
    p.portsOk = true;
    p.sport = (b[o]! << 8) | b[o + 1]!;
    p.dport = (b[o + 2]! << 8) | b[o + 3]!;
  }
}
