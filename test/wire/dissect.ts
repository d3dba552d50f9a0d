/**
 * A miniature receive pipeline for the fuzz test: runs every view's check() and, where it passes, every
 * accessor over a frame, and records what it saw as numbers in a trace. Offsets are recorded relative
 * to the frame start so traces of the same frame at different places in memory compare equal.
 * `invariants` collects consistency violations: a check that passed on a frame it should have refused.
 */
import { ArpPacket } from '../../src/wire/arp.js';
import { EthernetFrame, EtherType } from '../../src/wire/ethernet.js';
import { Icmpv4Packet, Icmpv6Packet } from '../../src/wire/icmp.js';
import { tunnelInnerFamily } from '../../src/wire/ipip.js';
import { IPV4_HEADER_LEN, IpProto, Ipv4Packet } from '../../src/wire/ipv4.js';
import { IPV6_HEADER_LEN, IPV6_MAX_EXT_HEADERS, Ipv6Packet } from '../../src/wire/ipv6.js';
import { Reason } from '../../src/wire/reasons.js';
import { TCP_HEADER_LEN, TcpOptKind, TcpPacket } from '../../src/wire/tcp.js';
import {
  findTcpOption,
  TcpOptionIter,
  tcpMss,
  tcpTsVal,
  tcpWindowScale,
} from '../../src/wire/tcp-options.js';
import { UDP_HEADER_LEN, UdpPacket } from '../../src/wire/udp.js';
import { VrrpPacket } from '../../src/wire/vrrp.js';

export class Dissector {
  trace: number[] = [];
  invariants: string[] = [];
  /** Per-reason count of first failures, as the pipeline would keep it. */
  readonly drops = new Uint32Array(64);
  #base = 0;
  #eth = new EthernetFrame();
  #arp = new ArpPacket();
  #ip4 = [new Ipv4Packet(), new Ipv4Packet(), new Ipv4Packet()];
  #ip6 = [new Ipv6Packet(), new Ipv6Packet(), new Ipv6Packet()];
  #tcp = new TcpPacket();
  #udp = new UdpPacket();
  #icmp4 = new Icmpv4Packet();
  #icmp6 = new Icmpv6Packet();
  #vrrp = new VrrpPacket();
  #it = new TcpOptionIter();

  run(buf: Uint8Array, off: number, len: number): number[] {
    this.trace = [];
    this.#base = off;
    const e = this.#eth.reset(buf, off, len);
    const r = this.#r(e.check());
    if (r !== Reason.OK) return this.trace;
    this.#push(e.dst, e.src, e.etherType, e.vlanCount, e.outerType);
    this.#at(e.payloadOff);
    if (e.payloadOff > off + len || e.payloadOff < off + 14) this.#bad('eth payload offset');
    for (let i = 0; i < e.vlanCount; i++) this.#push(e.vlanTci(i), e.vlanTpid(i));
    if (e.etherType === EtherType.ARP) {
      const a = this.#arp.reset(buf, e.payloadOff, e.payloadLen);
      if (this.#r(a.check()) === Reason.OK)
        this.#push(a.op, a.senderMac, a.senderIp, a.targetMac, a.targetIp);
    } else if (e.etherType === EtherType.IPV4) {
      this.#ipv4(buf, e.payloadOff, e.payloadLen, 0);
    } else if (e.etherType === EtherType.IPV6) {
      this.#ipv6(buf, e.payloadOff, e.payloadLen, 0);
    }
    return this.trace;
  }

  #push(...v: number[]) {
    for (const x of v) {
      if (!Number.isFinite(x)) this.#bad(`non-finite value ${x}`);
      this.trace.push(x);
    }
  }
  #at(abs: number) {
    this.#push(abs - this.#base);
  }
  /** An absolute offset or -1, made placement-independent. */
  #rel(abs: number): number {
    return abs < 0 ? -1 : abs - this.#base;
  }
  #r(reason: number): number {
    this.trace.push(reason);
    if (reason !== Reason.OK) this.drops[reason]!++;
    return reason;
  }
  #bad(what: string) {
    this.invariants.push(what);
  }

  #ipv4(buf: Uint8Array, off: number, len: number, depth: number) {
    const ip = this.#ip4[depth]!;
    ip.reset(buf, off, len);
    if (this.#r(ip.check()) !== Reason.OK) return;
    const hl = ip.headerLen;
    if (hl < IPV4_HEADER_LEN || hl > ip.totalLen || ip.totalLen > len) this.#bad('ipv4 lengths');
    this.#push(
      hl,
      ip.tos,
      ip.totalLen,
      ip.ident,
      ip.flagsFrag,
      ip.ttl,
      ip.protocol,
      ip.checksum,
      ip.src,
      ip.dst,
    );
    this.#push(
      ip.fragOffset,
      +ip.isFragment,
      +ip.verifyChecksum(),
      this.#rel(ip.findOption(0x94)),
      this.#rel(ip.findOption(7)),
    );
    if (!ip.hasL4Header) return;
    this.#l4(ip.protocol, buf, ip.payloadOff, ip.payloadLen, ip.pseudoSum(), false, depth);
  }

  #ipv6(buf: Uint8Array, off: number, len: number, depth: number) {
    const ip = this.#ip6[depth]!;
    ip.reset(buf, off, len);
    if (this.#r(ip.check()) !== Reason.OK) return;
    if (
      IPV6_HEADER_LEN + ip.payloadLen > len ||
      ip.upperOff < off + IPV6_HEADER_LEN ||
      ip.upperOff > ip.end
    ) {
      this.#bad('ipv6 chain bounds');
    }
    if (ip.extCount > IPV6_MAX_EXT_HEADERS) this.#bad('ipv6 chain length');
    this.#push(
      ip.trafficClass,
      ip.flowLabel,
      ip.payloadLen,
      ip.nextHeader,
      ip.hopLimit,
      ip.upperProto,
      ip.extCount,
    );
    this.#push(
      ip.srcWord(0),
      ip.srcWord(3),
      ip.dstWord(0),
      ip.dstWord(3),
      ip.routingSegmentsLeft,
      +ip.hasL4Header,
    );
    this.#push(ip.fragOffset, +ip.moreFrags, ip.fragIdent);
    this.#at(ip.upperOff);
    this.#at(ip.finalDstOff);
    if (ip.finalDstOff + 16 > ip.end && ip.finalDstOff !== off + 24)
      this.#bad('final destination out of bounds');
    if (!ip.hasL4Header) return;
    this.#l4(ip.upperProto, buf, ip.upperOff, ip.upperLen, ip.pseudoSum(), true, depth);
  }

  #l4(proto: number, buf: Uint8Array, off: number, len: number, pseudo: number, v6: boolean, depth: number) {
    this.#push(pseudo);
    if (proto === IpProto.TCP) this.#tcpLayer(buf, off, len, pseudo);
    else if (proto === IpProto.UDP) {
      const u = this.#udp.reset(buf, off, len);
      this.#r(u.checkHeader());
      if (this.#r(u.check()) !== Reason.OK) return;
      if (u.length < UDP_HEADER_LEN || u.length > len) this.#bad('udp length');
      this.#push(u.srcPort, u.dstPort, u.length, u.checksum, +u.verifyChecksum(pseudo, v6));
    } else if (proto === (v6 ? IpProto.ICMPV6 : IpProto.ICMP)) {
      const icmp = v6 ? this.#icmp6.reset(buf, off, len) : this.#icmp4.reset(buf, off, len);
      if (this.#r(icmp.check()) !== Reason.OK) return;
      this.#push(icmp.type, icmp.code, icmp.rest, +icmp.verifyChecksum(v6 ? pseudo : 0), +icmp.isError);
      if (!icmp.isError || depth > 0) return;
      if (icmp.quoteLen < (v6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN)) this.#bad('icmp quote');
      this.#quoted(buf, icmp.quoteOff, icmp.quoteLen, v6);
    } else if (proto === IpProto.VRRP) {
      const v = this.#vrrp.reset(buf, off, len, v6 ? 6 : 4);
      if (this.#r(v.check()) !== Reason.OK) return;
      if (v.expectedLen !== len) this.#bad('vrrp length');
      this.#push(
        v.version,
        v.vrid,
        v.priority,
        v.count,
        v.advertIntervalCs,
        +v.verifyChecksum(v.version === 2 ? 0 : pseudo),
      );
      for (let i = 0; i < v.count && !v6; i++) this.#push(v.addrV4(i));
      if (v.version === 2) this.#push(v.authType, +v.passwordMatches(Uint8Array.of(1, 2)));
    } else if (tunnelInnerFamily(proto) !== 0 && depth < 1) {
      if (tunnelInnerFamily(proto) === 4) this.#ipv4(buf, off, len, depth + 1);
      else this.#ipv6(buf, off, len, depth + 1);
    }
  }

  #quoted(buf: Uint8Array, off: number, len: number, v6: boolean) {
    if (v6) {
      const q = this.#ip6[2]!.reset(buf, off, len);
      if (this.#r(q.checkQuoted()) !== Reason.OK) return;
      this.#at(q.upperOff);
      this.#push(q.upperProto, +q.hasL4Header);
      if (q.upperOff < off + IPV6_HEADER_LEN || q.upperOff > off + len) this.#bad('quoted v6 chain');
      if (q.hasL4Header && q.upperOff + 4 <= off + len) this.#push(buf[q.upperOff]!, buf[q.upperOff + 3]!);
    } else {
      const q = this.#ip4[2]!.reset(buf, off, len);
      if (this.#r(q.checkQuoted()) !== Reason.OK) return;
      if (q.headerLen > len) this.#bad('quoted v4 header');
      this.#push(q.src, q.dst, q.protocol, q.quotedPayloadLen, +q.verifyChecksum());
      if (q.quotedPayloadLen >= 8) {
        const u = this.#udp.reset(buf, q.payloadOff, q.quotedPayloadLen);
        this.#r(u.checkHeader());
        this.#push(u.srcPort, u.dstPort);
      }
    }
  }

  #tcpLayer(buf: Uint8Array, off: number, len: number, pseudo: number) {
    const t = this.#tcp.reset(buf, off, len);
    if (this.#r(t.check()) !== Reason.OK) return;
    const hl = t.headerLen;
    if (hl < TCP_HEADER_LEN || hl > len) this.#bad('tcp data offset');
    this.#push(
      t.srcPort,
      t.dstPort,
      t.seq,
      t.ack,
      hl,
      t.flags,
      t.window,
      t.checksum,
      t.urgent,
      +t.verifyChecksum(pseudo),
    );
    this.#push(
      tcpMss(t),
      tcpWindowScale(t),
      tcpTsVal(t),
      this.#rel(findTcpOption(t, TcpOptKind.SACK)),
      t.freeOptionSpace,
    );
    let guard = 0;
    for (this.#it.reset(t); this.#it.next(); ) {
      if (++guard > 40) {
        this.#bad('tcp option iterator does not advance');
        break;
      }
      const it = this.#it;
      this.#push(it.kind, it.len);
      this.#at(it.off);
      if (it.len < 2 || it.off + it.len > off + hl) this.#bad(`tcp option ${it.kind} out of the header`);
    }
  }
}
