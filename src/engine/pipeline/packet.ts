/**
 * One parsed frame: offsets and the fields every later stage needs, filled by `parseFrame` into a reused
 * `Packet` (no allocation). Validation follows the wire views' `check()`; what is wrong with the L4
 * header is recorded (`l4Reason`) rather than acted on, because only traffic that turns out to be ours
 * is dropped for it — the rest is the kernel's business.
 */
import { readU16, readU32 } from '../../wire/bytes.js';
import { EthernetFrame, EtherType } from '../../wire/ethernet.js';
import { IpProto, Ipv4Packet } from '../../wire/ipv4.js';
import { Ipv6Packet } from '../../wire/ipv6.js';
import { Reason } from '../../wire/reasons.js';
import { TcpPacket } from '../../wire/tcp.js';
import { UdpPacket } from '../../wire/udp.js';
import type { ResolvedConfig } from './config.js';
import { type PipelineFrame, RxStatus, VnetFlag } from './frame.js';
import { Drop, Pass } from './reasons.js';

export const Kind = Object.freeze({ ARP: 1, IP: 2 });

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
 */
export function parseFrame(f: PipelineFrame, p: Packet, v: Views, cfg: ResolvedConfig): number {
  const iface = f.port;
  if (!(iface >= 0 && iface < cfg.ifCount)) return Drop.NO_INTERFACE;
  const buf = f.buf;
  p.buf = buf;
  p.frameOff = f.offset;
  p.frameLen = f.len;
  p.iface = iface;
  p.status = f.status;
  p.vnetFlags = f.vnetFlags;
  p.gsoType = f.gsoType;
  p.hdrLen = f.hdrLen;
  p.gsoSize = f.gsoSize;
  p.csumStart = f.csumStart;
  p.csumOffset = f.csumOffset;
  p.partial = (f.status & RxStatus.CSUMNOTREADY) !== 0 || (f.vnetFlags & VnetFlag.NEEDS_CSUM) !== 0;
  p.gso = f.gsoType !== 0;
  p.csumValid = (f.status & RxStatus.CSUM_VALID) !== 0 || (f.vnetFlags & VnetFlag.DATA_VALID) !== 0;
  p.l4Verified = p.csumValid;
  const eth = v.eth.reset(buf, f.offset, f.len);
  const er = eth.check();
  if (er !== Reason.OK) return er;
  let vid = 0;
  if (f.status & RxStatus.VLAN_VALID) {
    if (eth.vlanCount !== 0) return -(Pass.VLAN + 1);
    vid = f.vlanTci & 0xfff;
  } else if (eth.vlanCount === 1) {
    vid = eth.vlanTci(0) & 0xfff;
  } else if (eth.vlanCount > 1) {
    return -(Pass.VLAN + 1);
  }
  if (vid !== cfg.ifVlan[iface]) return -(Pass.VLAN + 1);
  // Unicast frames must be addressed to us; broadcast/multicast (ARP, ND) go on to their handlers.
  if (
    (buf[f.offset]! & 1) === 0 &&
    readU16(buf, f.offset) * 0x1_0000_0000 + readU32(buf, f.offset + 2) !== cfg.ifMac[iface]
  ) {
    return -(Pass.NOT_OUR_MAC + 1);
  }
  p.l2Len = eth.payloadOff - f.offset;
  const type = eth.etherType;
  if (type === EtherType.IPV4) return parseIpv4(p, v, cfg, eth.payloadOff, eth.payloadLen);
  if (type === EtherType.IPV6) return parseIpv6(p, v, eth.payloadOff, eth.payloadLen);
  if (type === EtherType.ARP) {
    p.kind = Kind.ARP;
    p.l3Off = eth.payloadOff;
    p.l3Len = eth.payloadLen;
    return 0;
  }
  return -(Pass.NOT_IP + 1);
}

function parseIpv4(p: Packet, v: Views, cfg: ResolvedConfig, off: number, len: number): number {
  const ip = v.ip4.reset(p.buf, off, len);
  const r = ip.check();
  if (r !== Reason.OK) return r;
  if (cfg.checksums.verifyIpv4Header && !ip.verifyChecksum()) return Reason.BAD_IP_CHECKSUM;
  p.kind = Kind.IP;
  p.af = 4;
  p.l3Off = off;
  p.l3Len = ip.totalLen;
  const hl = ip.headerLen;
  p.l3HdrLen = hl;
  p.ttl = ip.ttl;
  p.df = ip.dontFrag;
  p.proto = ip.protocol;
  p.frag = ip.isFragment;
  p.routed = false;
  const s = p.saddr;
  const d = p.daddr;
  s[0] = ip.src;
  s[1] = s[2] = s[3] = 0;
  d[0] = ip.dst;
  d[1] = d[2] = d[3] = 0;
  p.l4Off = off + hl;
  p.l4Len = p.l3Len - hl;
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
  ip.readSrc(p.saddr);
  ip.readDst(p.daddr);
  p.l4Off = ip.upperOff;
  p.l4Len = ip.end - ip.upperOff;
  parseL4(p, v);
  return 0;
}

function parseL4(p: Packet, v: Views): void {
  p.portsOk = false;
  p.sport = p.dport = p.tcpFlags = 0;
  p.l4Reason = Reason.OK;
  if (p.frag) return;
  const b = p.buf;
  const o = p.l4Off;
  if (p.proto === IpProto.TCP) {
    p.l4Reason = v.tcp.reset(b, o, p.l4Len).check();
    if (p.l4Len >= 20) {
      p.portsOk = true;
      p.sport = readU16(b, o);
      p.dport = readU16(b, o + 2);
      p.tcpFlags = b[o + 13]!;
    }
  } else if (p.proto === IpProto.UDP) {
    p.l4Reason = v.udp.reset(b, o, p.l4Len).check();
    // Bytes after the datagram inside the IP packet: the kernel would trim them; a forwarder cannot tell
    // what they are, so such a datagram is not forwarded.
    if (p.l4Reason === Reason.OK && v.udp.length !== p.l4Len) p.l4Reason = Reason.BAD_UDP_LENGTH;
    if (p.l4Len >= 8) {
      p.portsOk = true;
      p.sport = readU16(b, o);
      p.dport = readU16(b, o + 2);
    }
  }
}
