/**
 * Ethernet II header (IEEE 802.3) with up to two VLAN tags (802.1Q C-tag, 802.1ad S-tag / QinQ).
 * AF_PACKET normally strips the outer tag into the ring header (linux-packet.md §1.5) but the inner
 * QinQ tag, and every tag on TAP or TX paths, stays in band, so the view walks them.
 */
import { readMac, readU16, writeMac, writeU16 } from './bytes.js';
import { Reason } from './reasons.js';
import { ByteView } from './view.js';

export const ETH = Object.freeze({ DST: 0, SRC: 6, ETHERTYPE: 12, PAYLOAD: 14 });
export const ETH_HEADER_LEN: number = ETH.PAYLOAD;

/** A VLAN tag as it sits in the frame, from its TPID. */
export const VLAN_TAG = Object.freeze({ TPID: 0, TCI: 2, END: 4 });
export const VLAN_TAG_LEN: number = VLAN_TAG.END;
/** Tags the view walks through; a third is rejected (TOO_MANY_VLAN_TAGS). */
export const MAX_VLAN_TAGS = 2;

export const EtherType = Object.freeze({
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  /** Pre-802.1ad QinQ TPID still used by some switches. */
  QINQ_LEGACY: 0x9100,
  IPV6: 0x86dd,
});

/** Minimum Ethernet frame without FCS: shorter frames are padded by the sender. */
export const ETH_MIN_FRAME = 60;

export function isVlanTpid(t: number): boolean {
  return t === EtherType.VLAN || t === EtherType.QINQ || t === EtherType.QINQ_LEGACY;
}

export class EthernetFrame extends ByteView {
  /** Set by check(): ethertype after the tags, offset (absolute) of the payload, number of tags. */
  etherType = 0;
  payloadOff = 0;
  vlanCount = 0;

  override reset(buf: Uint8Array, off: number, len: number): this {
    super.reset(buf, off, len);
    this.etherType = 0;
    this.payloadOff = off;
    this.vlanCount = 0;
    return this;
  }

  /** Validates the header and tags; afterwards etherType/payloadOff/vlanCount are set. */
  check(): Reason {
    if (this.len < ETH_HEADER_LEN) return Reason.TRUNCATED_ETH;
    const b = this.buf;
    let p = this.off + ETH.ETHERTYPE;
    let type = readU16(b, p);
    let tags = 0;
    const end = this.off + this.len;
    while (isVlanTpid(type)) {
      if (tags === MAX_VLAN_TAGS) return Reason.TOO_MANY_VLAN_TAGS;
      if (p + VLAN_TAG_LEN + 2 > end) return Reason.TRUNCATED_VLAN;
      p += VLAN_TAG_LEN;
      type = readU16(b, p);
      tags++;
    }
    this.etherType = type;
    this.vlanCount = tags;
    this.payloadOff = p + 2;
    return Reason.OK;
  }

  get dst(): number {
    return readMac(this.buf, this.off + ETH.DST);
  }
  set dst(mac: number) {
    writeMac(this.buf, this.off + ETH.DST, mac);
  }
  get src(): number {
    return readMac(this.buf, this.off + ETH.SRC);
  }
  set src(mac: number) {
    writeMac(this.buf, this.off + ETH.SRC, mac);
  }
  /** The type field at offset 12 (a TPID when tagged); use `etherType` after check() for the payload's. */
  get outerType(): number {
    return readU16(this.buf, this.off + ETH.ETHERTYPE);
  }
  /** Writing breaks check()'s tag walk when it turns a tag into a type or back: call check() again. */
  set outerType(v: number) {
    writeU16(this.buf, this.off + ETH.ETHERTYPE, v);
  }
  /** TCI of tag `i` (0 = outermost); valid for i < vlanCount. */
  vlanTci(i: number): number {
    return readU16(this.buf, this.off + ETH.ETHERTYPE + i * VLAN_TAG_LEN + VLAN_TAG.TCI);
  }
  vlanTpid(i: number): number {
    return readU16(this.buf, this.off + ETH.ETHERTYPE + i * VLAN_TAG_LEN + VLAN_TAG.TPID);
  }
  get payloadLen(): number {
    return this.off + this.len - this.payloadOff;
  }
  /** Rewrites the final ethertype in place (after the tags). */
  setEtherType(v: number): void {
    writeU16(this.buf, this.payloadOff - 2, v);
    this.etherType = v;
  }
}

export interface VlanTag {
  tpid: number;
  tci: number;
}

/** The header as data. MACs are 48-bit integers (see bytes.ts parseMac/formatMac). */
export class EthernetRepr {
  dst: number;
  src: number;
  etherType: number;
  vlans: VlanTag[];

  constructor(f: { dst: number; src: number; etherType: number; vlans?: VlanTag[] }) {
    this.dst = f.dst;
    this.src = f.src;
    this.etherType = f.etherType;
    this.vlans = f.vlans ?? [];
  }

  static parse(v: EthernetFrame): EthernetRepr | Reason {
    const r = v.check();
    if (r !== Reason.OK) return r;
    const vlans: VlanTag[] = [];
    for (let i = 0; i < v.vlanCount; i++) vlans.push({ tpid: v.vlanTpid(i), tci: v.vlanTci(i) });
    return new EthernetRepr({ dst: v.dst, src: v.src, etherType: v.etherType, vlans });
  }

  /** Header bytes only: Ethernet has no length field, the payload follows at `bufferLen()`. */
  bufferLen(): number {
    return ETH_HEADER_LEN + this.vlans.length * VLAN_TAG_LEN;
  }

  emit(v: EthernetFrame): void {
    const b = v.buf;
    v.dst = this.dst;
    v.src = this.src;
    let p = v.off + ETH.ETHERTYPE;
    for (const t of this.vlans) {
      writeU16(b, p, t.tpid);
      writeU16(b, p + VLAN_TAG.TCI, t.tci);
      p += VLAN_TAG_LEN;
    }
    writeU16(b, p, this.etherType);
    v.etherType = this.etherType;
    v.vlanCount = this.vlans.length;
    v.payloadOff = p + 2;
  }
}
