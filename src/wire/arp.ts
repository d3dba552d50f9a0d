/**
 * ARP for IPv4 over Ethernet (RFC 826), the only combination a director answers, plus the RFC 5227
 * gratuitous forms a new VRRP master sends.
 */
import { MAC_BROADCAST, readMac, readU16, readU32, writeMac, writeU16, writeU32 } from './bytes.js';
import { ETH, ETH_HEADER_LEN, EthernetFrame, EtherType } from './ethernet.js';
import { Reason } from './reasons.js';
import { ByteView } from './view.js';

export const ARP = Object.freeze({
  HTYPE: 0,
  PTYPE: 2,
  HLEN: 4,
  PLEN: 5,
  OPER: 6,
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
  END: 28,
});
export const ARP_LEN: number = ARP.END;

export const ArpOp = Object.freeze({ REQUEST: 1, REPLY: 2 });
const HTYPE_ETHERNET = 1;

export class ArpPacket extends ByteView {
  check(): Reason {
    if (this.len < ARP_LEN) return Reason.TRUNCATED_ARP;
    const b = this.buf;
    const o = this.off;
    if (
      readU16(b, o + ARP.HTYPE) !== HTYPE_ETHERNET ||
      readU16(b, o + ARP.PTYPE) !== EtherType.IPV4 ||
      b[o + ARP.HLEN] !== 6 ||
      b[o + ARP.PLEN] !== 4
    ) {
      return Reason.UNSUPPORTED_ARP_FORMAT;
    }
    const op = readU16(b, o + ARP.OPER);
    if (op !== ArpOp.REQUEST && op !== ArpOp.REPLY) return Reason.BAD_ARP_OP;
    return Reason.OK;
  }

  get op(): number {
    return readU16(this.buf, this.off + ARP.OPER);
  }
  set op(v: number) {
    writeU16(this.buf, this.off + ARP.OPER, v);
  }
  get senderMac(): number {
    return readMac(this.buf, this.off + ARP.SHA);
  }
  set senderMac(v: number) {
    writeMac(this.buf, this.off + ARP.SHA, v);
  }
  get senderIp(): number {
    return readU32(this.buf, this.off + ARP.SPA);
  }
  set senderIp(v: number) {
    writeU32(this.buf, this.off + ARP.SPA, v);
  }
  get targetMac(): number {
    return readMac(this.buf, this.off + ARP.THA);
  }
  set targetMac(v: number) {
    writeMac(this.buf, this.off + ARP.THA, v);
  }
  get targetIp(): number {
    return readU32(this.buf, this.off + ARP.TPA);
  }
  set targetIp(v: number) {
    writeU32(this.buf, this.off + ARP.TPA, v);
  }
  /** Gratuitous (RFC 5227 §2.3 announcement or reply form): sender and target IP are the same. */
  get isGratuitous(): boolean {
    return this.senderIp === this.targetIp;
  }
}

/** The fixed Ethernet/IPv4 hardware and protocol fields. */
function writeArpFixed(b: Uint8Array, o: number): void {
  writeU16(b, o + ARP.HTYPE, HTYPE_ETHERNET);
  writeU16(b, o + ARP.PTYPE, EtherType.IPV4);
  b[o + ARP.HLEN] = 6;
  b[o + ARP.PLEN] = 4;
}

export class ArpRepr {
  op: number;
  senderMac: number;
  senderIp: number;
  targetMac: number;
  targetIp: number;

  constructor(f: { op: number; senderMac: number; senderIp: number; targetMac: number; targetIp: number }) {
    this.op = f.op;
    this.senderMac = f.senderMac;
    this.senderIp = f.senderIp;
    this.targetMac = f.targetMac;
    this.targetIp = f.targetIp;
  }

  static parse(v: ArpPacket): ArpRepr | Reason {
    const r = v.check();
    if (r !== Reason.OK) return r;
    return new ArpRepr(v);
  }

  bufferLen(): number {
    return ARP_LEN;
  }

  emit(v: ArpPacket): void {
    writeArpFixed(v.buf, v.off);
    v.op = this.op;
    v.senderMac = this.senderMac;
    v.senderIp = this.senderIp;
    v.targetMac = this.targetMac;
    v.targetIp = this.targetIp;
  }
}

/** Bytes an Ethernet + ARP frame needs before padding to the 60-byte minimum. */
export const ARP_FRAME_LEN: number = ETH_HEADER_LEN + ARP_LEN;

const scratchEth = new EthernetFrame();
const scratchArp = new ArpPacket();

/** Writes Ethernet + ARP without allocating (the data plane answers ARP for its VIPs per request). */
function writeArpFrame(
  out: Uint8Array,
  off: number,
  ethDst: number,
  op: number,
  senderMac: number,
  senderIp: number,
  targetMac: number,
  targetIp: number,
): number {
  const eth = scratchEth.reset(out, off, ARP_FRAME_LEN);
  eth.dst = ethDst;
  eth.src = senderMac;
  writeU16(out, off + ETH.ETHERTYPE, EtherType.ARP);
  const a = scratchArp.reset(out, off + ETH_HEADER_LEN, ARP_LEN);
  writeArpFixed(out, a.off);
  a.op = op;
  a.senderMac = senderMac;
  a.senderIp = senderIp;
  a.targetMac = targetMac;
  a.targetIp = targetIp;
  return ARP_FRAME_LEN;
}

/** Broadcast "who has targetIp": writes Ethernet + ARP at `off`, returns 42 (pad to 60 if the link needs it). */
export function writeArpRequest(
  out: Uint8Array,
  off: number,
  senderMac: number,
  senderIp: number,
  targetIp: number,
): number {
  return writeArpFrame(out, off, MAC_BROADCAST, ArpOp.REQUEST, senderMac, senderIp, 0, targetIp);
}

/** Unicast "senderIp is at senderMac" to the asker. */
export function writeArpReply(
  out: Uint8Array,
  off: number,
  senderMac: number,
  senderIp: number,
  targetMac: number,
  targetIp: number,
): number {
  return writeArpFrame(out, off, targetMac, ArpOp.REPLY, senderMac, senderIp, targetMac, targetIp);
}

export interface GratuitousArpOptions {
  /** 'request' (RFC 5227 announcement, the default) or 'reply' (THA = SHA, as Linux arp_is_garp wants). */
  form?: 'request' | 'reply';
  /** THA of the request form: 0 per RFC 5227, keepalived sends ff:ff:ff:ff:ff:ff. */
  requestTargetMac?: number;
}

/** Broadcast gratuitous ARP announcing `ip` at `mac` (a VRRP master taking over a VIP). */
export function writeGratuitousArp(
  out: Uint8Array,
  off: number,
  mac: number,
  ip: number,
  opts: GratuitousArpOptions = {},
): number {
  const reply = opts.form === 'reply';
  const tha = reply ? mac : (opts.requestTargetMac ?? 0);
  return writeArpFrame(out, off, MAC_BROADCAST, reply ? ArpOp.REPLY : ArpOp.REQUEST, mac, ip, tha, ip);
}
