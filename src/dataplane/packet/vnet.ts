/**
 * The virtio_net_hdr that PACKET_VNET_HDR puts before every frame (reference §1.7): on RX it says whether
 * the L4 checksum is unfinished (NEEDS_CSUM: the field holds the uncomplemented pseudo-header sum) and
 * whether the frame is a GSO super-frame; on TX it lets the kernel finish the checksum and segment.
 * A forwarder passes it on (adding any header growth to csumStart/hdrLen) instead of finishing checksums.
 */
import { ETH_HLEN, VLAN_HLEN, Vnet, VnetFlag, VnetGso } from './constants.js';

export interface VnetFields {
  readonly vnetFlags: number;
  readonly gsoType: number;
  readonly hdrLen: number;
  readonly gsoSize: number;
  /** Counted from the start of the Ethernet header. */
  readonly csumStart: number;
  readonly csumOffset: number;
}

/** A mutable vnet header, for handlers that adjust offsets (encapsulation) before transmitting. */
export class VnetHeader implements VnetFields {
  vnetFlags = 0;
  gsoType = 0;
  hdrLen = 0;
  gsoSize = 0;
  csumStart = 0;
  csumOffset = 0;

  /** Copies every field from `src` (e.g. an RX frame) and returns this. */
  copyFrom(src: VnetFields): this {
    this.vnetFlags = src.vnetFlags;
    this.gsoType = src.gsoType;
    this.hdrLen = src.hdrLen;
    this.gsoSize = src.gsoSize;
    this.csumStart = src.csumStart;
    this.csumOffset = src.csumOffset;
    return this;
  }

  /** Accounts for `bytes` inserted in front of the L4 header (e.g. +20 for an outer IPIP header). */
  grow(bytes: number): this {
    if (this.vnetFlags & VnetFlag.NEEDS_CSUM) this.csumStart += bytes;
    if (this.hdrLen !== 0) this.hdrLen += bytes;
    return this;
  }

  clear(): this {
    this.vnetFlags = this.gsoType = this.hdrLen = this.gsoSize = this.csumStart = this.csumOffset = 0;
    return this;
  }
}

export function writeVnet(buf: Uint8Array, off: number, v: VnetFields | null): void {
  if (v === null) {
    for (let i = 0; i < 10; i++) buf[off + i] = 0;
    return;
  }
  buf[off + Vnet.FLAGS] = v.vnetFlags;
  buf[off + Vnet.GSO_TYPE] = v.gsoType;
  put16(buf, off + Vnet.HDR_LEN, v.hdrLen);
  put16(buf, off + Vnet.GSO_SIZE, v.gsoSize);
  put16(buf, off + Vnet.CSUM_START, v.csumStart);
  put16(buf, off + Vnet.CSUM_OFFSET, v.csumOffset);
}

export function readVnet(buf: Uint8Array, off: number, into: VnetHeader): VnetHeader {
  into.vnetFlags = buf[off + Vnet.FLAGS]!;
  into.gsoType = buf[off + Vnet.GSO_TYPE]!;
  into.hdrLen = get16(buf, off + Vnet.HDR_LEN);
  into.gsoSize = get16(buf, off + Vnet.GSO_SIZE);
  into.csumStart = get16(buf, off + Vnet.CSUM_START);
  into.csumOffset = get16(buf, off + Vnet.CSUM_OFFSET);
  return into;
}

/** Why the kernel (or the next device) would refuse a TX frame; NONE when it is acceptable. */
export const TxProblem = Object.freeze({
  NONE: 0,
  /** Shorter than an Ethernet header. */
  TOO_SHORT: 1,
  /** Longer than MTU + Ethernet header (+4 when VLAN-tagged) without GSO. */
  OVERSIZE: 2,
  /** Unknown GSO type, GSO without a segment size, or GSO without NEEDS_CSUM at the L4 checksum field. */
  BAD_GSO: 3,
  /** csumStart/csumOffset/hdrLen point outside the frame. */
  BAD_CSUM: 4,
  /** Does not fit in a TX slot. */
  TOO_LONG_FOR_SLOT: 5,
});

/**
 * Mirrors the kernel's TX checks (`tpacket_snd`, `__packet_snd_vnet_parse`, `virtio_net_hdr_to_skb`) so a
 * bad frame is refused and counted before it reaches the ring. `etherType` is the first type field of the
 * frame (0x8100/0x88A8 allow 4 extra bytes).
 */
export function txFrameProblem(
  len: number,
  mtu: number,
  capacity: number,
  etherType: number,
  v: VnetFields | null,
): number {
  if (len < ETH_HLEN) return TxProblem.TOO_SHORT;
  if (len > capacity) return TxProblem.TOO_LONG_FOR_SLOT;
  const gso = v === null ? VnetGso.NONE : v.gsoType & ~VnetGso.ECN;
  if (v !== null) {
    if (
      gso !== VnetGso.NONE &&
      gso !== VnetGso.TCPV4 &&
      gso !== VnetGso.TCPV6 &&
      gso !== VnetGso.UDP &&
      gso !== VnetGso.UDP_L4
    ) {
      return TxProblem.BAD_GSO;
    }
    let hdrLen = v.hdrLen;
    if (v.vnetFlags & VnetFlag.NEEDS_CSUM) {
      const end = v.csumStart + v.csumOffset + 2;
      if (end > len) return TxProblem.BAD_CSUM;
      if (end > hdrLen) hdrLen = end;
    }
    if (hdrLen > len) return TxProblem.BAD_CSUM;
    if (gso !== VnetGso.NONE) {
      if (v.gsoSize === 0 || (v.vnetFlags & VnetFlag.NEEDS_CSUM) === 0) return TxProblem.BAD_GSO;
      const want = gso === VnetGso.UDP_L4 || gso === VnetGso.UDP ? 6 : 16;
      if (gso !== VnetGso.UDP && v.csumOffset !== want) return TxProblem.BAD_GSO;
      return TxProblem.NONE;
    }
  }
  const tagged = etherType === 0x8100 || etherType === 0x88a8;
  if (len > mtu + ETH_HLEN + (tagged ? VLAN_HLEN : 0)) return TxProblem.OVERSIZE;
  return TxProblem.NONE;
}

function put16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
}

function get16(buf: Uint8Array, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}
