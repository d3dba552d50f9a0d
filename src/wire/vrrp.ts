/**
 * VRRP advertisements: v2 (RFC 3768 §5.3, IPv4 only, with keepalived's simple-password auth) and v3
 * (RFC 5798 §5.2, IPv4 or IPv6). Not a hot path, but the same view/Repr pattern; the HA layer checks
 * TTL 255 and the destination itself (it has the IP header).
 */

import type { Ip6Words } from './bytes.js';
import { readIp6Words, readU16, readU32, writeAddr6Words, writeU16, writeU32 } from './bytes.js';
import { checksum, checksumOk } from './checksum.js';
import { Reason } from './reasons.js';
import { ByteView } from './view.js';

export const VRRP = Object.freeze({
  VER_TYPE: 0,
  VRID: 1,
  PRIORITY: 2,
  COUNT: 3,
  /** v2: authentication type; v3: 4 reserved bits + 12-bit max advert interval (bytes 4-5). */
  AUTH_TYPE: 4,
  MAX_ADVER_INT: 4,
  /** v2: advertisement interval in seconds. */
  ADVER_INT: 5,
  CHECKSUM: 6,
  ADDRS: 8,
});
export const VRRP_HEADER_LEN: number = VRRP.ADDRS;
export const VRRP_AUTH_LEN = 8;
export const VRRP_TYPE_ADVERTISEMENT = 1;
export const VRRP_TTL = 255;
export const VRRP_GROUP_V4 = 0xe0000012; // 224.0.0.18
export const VRRP_GROUP_V6: Ip6Words = [0xff020000, 0, 0, 0x12]; // ff02::12

/** v2 auth types: 0 none, 1 simple text password (keepalived PASS), 2 IPsec AH (keepalived AH). */
export const VrrpAuth = Object.freeze({ NONE: 0, PASSWORD: 1, AH: 2 });

export class VrrpPacket extends ByteView {
  /** Address family of the carrying IP packet: fixes the address size of v3 (v2 is IPv4 only). */
  family: 4 | 6;

  constructor(buf: Uint8Array = new Uint8Array(0), off = 0, len = buf.length - off, family: 4 | 6 = 4) {
    super(buf, off, len);
    this.family = family;
  }

  override reset(buf: Uint8Array, off: number, len: number, family: 4 | 6 = 4): this {
    super.reset(buf, off, len);
    this.family = family;
    return this;
  }

  /** Version (2 over IPv4, 3), type, auth type, and the IP payload length equal to what the count implies. */
  check(): Reason {
    if (this.len < VRRP_HEADER_LEN) return Reason.TRUNCATED_VRRP;
    const v = this.version;
    if (v !== 2 && v !== 3) return Reason.BAD_VRRP_VERSION;
    if (v === 2 && this.family !== 4) return Reason.BAD_VRRP_VERSION;
    if (this.type !== VRRP_TYPE_ADVERTISEMENT) return Reason.BAD_VRRP_TYPE;
    if (v === 2 && this.authType > VrrpAuth.AH) return Reason.BAD_VRRP_AUTH;
    const expected = this.expectedLen;
    if (this.len < expected) return Reason.TRUNCATED_VRRP;
    if (this.len !== expected) return Reason.BAD_VRRP_LENGTH;
    return Reason.OK;
  }

  /** Message length the header implies. */
  get expectedLen(): number {
    return this.version === 2
      ? VRRP_HEADER_LEN + 4 * this.count + VRRP_AUTH_LEN
      : VRRP_HEADER_LEN + this.addrLen * this.count;
  }

  get version(): number {
    return this.buf[this.off + VRRP.VER_TYPE]! >>> 4;
  }
  get type(): number {
    return this.buf[this.off + VRRP.VER_TYPE]! & 15;
  }
  get vrid(): number {
    return this.buf[this.off + VRRP.VRID]!;
  }
  get priority(): number {
    return this.buf[this.off + VRRP.PRIORITY]!;
  }
  get count(): number {
    return this.buf[this.off + VRRP.COUNT]!;
  }
  /** v2 only. */
  get authType(): number {
    return this.buf[this.off + VRRP.AUTH_TYPE]!;
  }
  /**
   * Advertisement interval in centiseconds whatever the version (v2 carries seconds), so the state
   * machine has one unit.
   */
  get advertIntervalCs(): number {
    return this.version === 2
      ? this.buf[this.off + VRRP.ADVER_INT]! * 100
      : readU16(this.buf, this.off + VRRP.MAX_ADVER_INT) & 0xfff;
  }
  get checksum(): number {
    return readU16(this.buf, this.off + VRRP.CHECKSUM);
  }
  set checksum(v: number) {
    writeU16(this.buf, this.off + VRRP.CHECKSUM, v);
  }
  get addrLen(): number {
    return this.family === 4 ? 4 : 16;
  }
  /** Absolute offset of address `i`. */
  addrOff(i: number): number {
    return this.off + VRRP.ADDRS + i * this.addrLen;
  }
  /** IPv4 address `i`. */
  addrV4(i: number): number {
    return readU32(this.buf, this.addrOff(i));
  }
  /** v2: absolute offset of the 8 authentication bytes. */
  get authOff(): number {
    return this.off + VRRP.ADDRS + 4 * this.count;
  }

  /** v2 PASS: compares the 8 auth bytes with the password as keepalived stores it (zero-padded). */
  passwordMatches(password: Uint8Array): boolean {
    if (password.length > VRRP_AUTH_LEN) return false;
    const p = this.authOff;
    for (let i = 0; i < VRRP_AUTH_LEN; i++) if (this.buf[p + i] !== (password[i] ?? 0)) return false;
    return true;
  }

  /** `pseudo`: 0 for v2 (the message only); the IP layer's pseudoSum() for v3 (RFC 5798 §5.2.8). */
  verifyChecksum(pseudo: number): boolean {
    return checksumOk(this.buf, this.off, this.len, pseudo);
  }

  fillChecksum(pseudo: number): void {
    this.checksum = 0;
    this.checksum = checksum(this.buf, this.off, this.len, pseudo);
  }
}

const textEncoder = new TextEncoder();

export class VrrpRepr {
  version: 2 | 3;
  vrid: number;
  priority: number;
  /** Centiseconds (v2 must be a whole number of seconds). */
  advertIntervalCs: number;
  /** IPv4 addresses as numbers, or IPv6 addresses as words (v3 over IPv6). */
  addresses: Array<number | Ip6Words>;
  family: 4 | 6;
  authType: number;
  /** v2 auth bytes (8), zero-padded; empty for none. */
  auth: Uint8Array;

  constructor(f: {
    version: 2 | 3;
    vrid: number;
    priority?: number;
    advertIntervalCs?: number;
    addresses: Array<number | Ip6Words>;
    family?: 4 | 6;
    authType?: number;
    auth?: Uint8Array;
  }) {
    this.version = f.version;
    this.vrid = f.vrid;
    this.priority = f.priority ?? 100;
    this.advertIntervalCs = f.advertIntervalCs ?? 100;
    this.addresses = f.addresses;
    this.family = f.family ?? 4;
    this.authType = f.authType ?? VrrpAuth.NONE;
    this.auth = f.auth ?? new Uint8Array(VRRP_AUTH_LEN);
  }

  /** keepalived `auth_type PASS` / `auth_pass`: at most 8 bytes, zero-padded. */
  static passwordAuth(password: string): Uint8Array {
    const out = new Uint8Array(VRRP_AUTH_LEN);
    out.set(textEncoder.encode(password).subarray(0, VRRP_AUTH_LEN));
    return out;
  }

  /** `pseudoSum`: when given, the checksum is verified (0 for v2, the IP pseudoSum() for v3). */
  static parse(v: VrrpPacket, pseudoSum?: number): VrrpRepr | Reason {
    const r = v.check();
    if (r !== Reason.OK) return r;
    if (pseudoSum !== undefined && !v.verifyChecksum(pseudoSum)) return Reason.BAD_VRRP_CHECKSUM;
    const addresses: Array<number | Ip6Words> = [];
    for (let i = 0; i < v.count; i++) {
      addresses.push(v.family === 4 ? v.addrV4(i) : readIp6Words(v.buf, v.addrOff(i)));
    }
    const v2 = v.version === 2;
    return new VrrpRepr({
      version: v2 ? 2 : 3,
      vrid: v.vrid,
      priority: v.priority,
      advertIntervalCs: v.advertIntervalCs,
      addresses,
      family: v.family,
      authType: v2 ? v.authType : 0,
      auth: v2 ? v.buf.slice(v.authOff, v.authOff + VRRP_AUTH_LEN) : new Uint8Array(VRRP_AUTH_LEN),
    });
  }

  bufferLen(): number {
    const a = this.family === 4 ? 4 : 16;
    return VRRP_HEADER_LEN + a * this.addresses.length + (this.version === 2 ? VRRP_AUTH_LEN : 0);
  }

  /** Writes the message into a view of bufferLen() bytes and fills the checksum (`pseudoSum` 0 for v2). */
  emit(v: VrrpPacket, pseudoSum: number): void {
    const b = v.buf;
    const o = v.off;
    b[o + VRRP.VER_TYPE] = (this.version << 4) | VRRP_TYPE_ADVERTISEMENT;
    b[o + VRRP.VRID] = this.vrid;
    b[o + VRRP.PRIORITY] = this.priority;
    b[o + VRRP.COUNT] = this.addresses.length;
    if (this.version === 2) {
      b[o + VRRP.AUTH_TYPE] = this.authType;
      b[o + VRRP.ADVER_INT] = Math.floor(this.advertIntervalCs / 100);
    } else {
      writeU16(b, o + VRRP.MAX_ADVER_INT, this.advertIntervalCs & 0xfff);
    }
    let p = o + VRRP.ADDRS;
    for (const a of this.addresses) {
      if (typeof a === 'number') {
        writeU32(b, p, a);
        p += 4;
      } else {
        writeAddr6Words(b, p, a);
        p += 16;
      }
    }
    if (this.version === 2) {
      b.fill(0, p, p + VRRP_AUTH_LEN);
      b.set(this.auth.subarray(0, VRRP_AUTH_LEN), p);
    }
    v.fillChecksum(pseudoSum);
  }
}
