/**
 * HAProxy PROXY protocol (doc/proxy-protocol.txt): v1 text line and v2 binary header, encoded into a
 * caller's Uint8Array and decoded from bytes as they arrive. Decoding says "need more bytes" (0) apart
 * from "invalid" (-1, reason in `out.reason`), so a stream reader can wait for the rest of the header.
 */
import { parseIpv4Text, parseIpv6Text, writeDecimal, writeIpv4Text, writeIpv6Text } from './addr-text.js';
import type { WireAddress } from './bytes.js';
import { readAddr6Words, readU16, readU32, writeAddr6Words, writeU16, writeU32 } from './bytes.js';
import { Reason } from './reasons.js';

export const PROXY_V2_SIGNATURE: Uint8Array = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);
export const PROXY_V2 = Object.freeze({ SIGNATURE: 0, VER_CMD: 12, FAM_PROTO: 13, LEN: 14, ADDR: 16 });
export const PROXY_V2_HEADER_LEN: number = PROXY_V2.ADDR;
/** Address block sizes (src, dst[, sport, dport]) per v2 family. */
export const PROXY_V2_ADDR_LEN = Object.freeze({ INET: 12, INET6: 36, UNIX: 216 });
/** Longest v1 line, CRLF included ("PROXY UNKNOWN" + two full IPv6 addresses + ports). */
export const PROXY_V1_MAX_LEN = 107;

export const ProxyCommand = Object.freeze({ LOCAL: 0, PROXY: 1 });
export const ProxyTransport = Object.freeze({ UNSPEC: 0, STREAM: 1, DGRAM: 2 });
/** `ProxyHeader.family`: 0 = no addresses (v1 UNKNOWN, v2 UNSPEC or LOCAL: use the real endpoints). */
export const ProxyFamily = Object.freeze({ UNSPEC: 0, UNIX: 1, INET: 4, INET6: 6 });
export const ProxyTlvType = Object.freeze({
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
});

/** decodeProxyHeader results other than a byte count. */
export const PROXY_INCOMPLETE = 0;
export const PROXY_INVALID = -1;

/** A decoded (or to-be-encoded) header. Reuse one instance per connection reader. */
export class ProxyHeader {
  version: 1 | 2 = 2;
  command: number = ProxyCommand.PROXY;
  family: number = ProxyFamily.UNSPEC;
  transport: number = ProxyTransport.STREAM;
  /** Address words in `ntohl` form (IPv4: word 0). */
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  srcPort = 0;
  dstPort = 0;
  /** Bytes the header occupies in the stream (after a successful decode). */
  headerLen = 0;
  /** v2: absolute offset and length of the TLV area in the decoded buffer. */
  tlvOff = 0;
  tlvLen = 0;
  /** Why the last decode returned PROXY_INVALID. */
  reason: Reason = Reason.OK;

  /** Allocates: control plane / tests. Null when the family carries no IP address. */
  srcAddress(): WireAddress | null {
    return this.#address(this.src);
  }
  dstAddress(): WireAddress | null {
    return this.#address(this.dst);
  }
  #address(w: Uint32Array): WireAddress | null {
    if (this.family !== ProxyFamily.INET && this.family !== ProxyFamily.INET6) return null;
    return { family: this.family === ProxyFamily.INET ? 4 : 6, words: [w[0]!, w[1]!, w[2]!, w[3]!] };
  }

  /** Sets an IP endpoint pair from engine-style addresses (same family). */
  setAddresses(src: WireAddress, srcPort: number, dst: WireAddress, dstPort: number): this {
    this.family = src.family === 4 ? ProxyFamily.INET : ProxyFamily.INET6;
    for (let i = 0; i < 4; i++) {
      this.src[i] = src.words[i]!;
      this.dst[i] = dst.words[i]!;
    }
    this.srcPort = srcPort;
    this.dstPort = dstPort;
    return this;
  }
}

export interface ProxyTlv {
  type: number;
  value: Uint8Array;
}

// ---------------------------------------------------------------- decode

const V1_PREFIX = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59, 0x20); // "PROXY "
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

function invalid(out: ProxyHeader, reason: Reason): number {
  out.reason = reason;
  return PROXY_INVALID;
}

/** True when the `n` bytes at `off` match the start of `sig`. */
function prefixMatches(b: Uint8Array, off: number, n: number, sig: Uint8Array): boolean {
  for (let i = 0; i < n && i < sig.length; i++) if (b[off + i] !== sig[i]) return false;
  return true;
}

/**
 * Decodes a v1 or v2 header from `len` bytes at `off`. Returns the header length (> 0) with `out` filled,
 * PROXY_INCOMPLETE (0) when the bytes so far are a valid beginning, or PROXY_INVALID (-1).
 */
export function decodeProxyHeader(b: Uint8Array, off: number, len: number, out: ProxyHeader): number {
  out.reason = Reason.OK;
  if (len <= 0) return PROXY_INCOMPLETE;
  if (b[off] === PROXY_V2_SIGNATURE[0]) return decodeV2(b, off, len, out);
  if (b[off] === V1_PREFIX[0]) return decodeV1(b, off, len, out);
  return invalid(out, Reason.BAD_PROXY_SIGNATURE);
}

function decodeV1(b: Uint8Array, off: number, len: number, out: ProxyHeader): number {
  if (!prefixMatches(b, off, len, V1_PREFIX)) return invalid(out, Reason.BAD_PROXY_SIGNATURE);
  // CR may sit at most at index 105 so that CRLF ends within 107 bytes.
  const scan = Math.min(len, PROXY_V1_MAX_LEN - 1);
  let cr = -1;
  for (let p = off; p < off + scan; p++) {
    if (b[p] === CR) {
      cr = p;
      break;
    }
    if (b[p] === LF) return invalid(out, Reason.BAD_PROXY_V1);
  }
  if (cr < 0) return scan === PROXY_V1_MAX_LEN - 1 ? invalid(out, Reason.BAD_PROXY_V1) : PROXY_INCOMPLETE;
  if (cr + 1 === off + len) return PROXY_INCOMPLETE;
  if (b[cr + 1] !== LF) return invalid(out, Reason.BAD_PROXY_V1);
  const r = parseV1Line(b, off + V1_PREFIX.length, cr, out);
  if (r !== Reason.OK) return invalid(out, r);
  out.version = 1;
  out.headerLen = cr + 2 - off;
  out.tlvOff = 0;
  out.tlvLen = 0;
  return out.headerLen;
}

/** Next space-separated token [start, returned) — ends at a space or `end`. */
function tokenEnd(b: Uint8Array, start: number, end: number): number {
  let p = start;
  while (p < end && b[p] !== SP) p++;
  return p;
}

function parsePort(b: Uint8Array, s: number, e: number): number {
  if (e === s || e - s > 5 || (e - s > 1 && b[s] === 0x30)) return -1;
  let n = 0;
  for (let p = s; p < e; p++) {
    const d = b[p]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n > 65535 ? -1 : n;
}

function isWord(b: Uint8Array, s: number, e: number, w: string): boolean {
  if (e - s !== w.length) return false;
  for (let i = 0; i < w.length; i++) if (b[s + i] !== w.charCodeAt(i)) return false;
  return true;
}

function parseV1Line(b: Uint8Array, p: number, end: number, out: ProxyHeader): Reason {
  const e = tokenEnd(b, p, end);
  out.command = ProxyCommand.PROXY;
  out.transport = ProxyTransport.STREAM;
  out.src.fill(0);
  out.dst.fill(0);
  out.srcPort = 0;
  out.dstPort = 0;
  if (isWord(b, p, e, 'UNKNOWN')) {
    out.family = ProxyFamily.UNSPEC; // the rest of the line is ignored (spec §2.1)
    return Reason.OK;
  }
  const v4 = isWord(b, p, e, 'TCP4');
  if (!v4 && !isWord(b, p, e, 'TCP6')) return Reason.BAD_PROXY_V1;
  out.family = v4 ? ProxyFamily.INET : ProxyFamily.INET6;
  // Four fields separated by single spaces, the last ending at CR.
  if (e === end) return Reason.BAD_PROXY_V1;
  let s = e + 1;
  for (let i = 0; i < 4; i++) {
    if (s > end) return Reason.BAD_PROXY_V1;
    const t = tokenEnd(b, s, end);
    if (t === s) return Reason.BAD_PROXY_V1;
    const ok =
      i < 2
        ? v4
          ? setV4(out, i, parseIpv4Text(b, s, t))
          : parseIpv6Text(b, s, t, i === 0 ? out.src : out.dst)
        : setPort(out, i, parsePort(b, s, t));
    if (!ok) return i < 2 ? Reason.BAD_PROXY_ADDRESS : Reason.BAD_PROXY_V1;
    s = t + 1;
  }
  return s === end + 1 ? Reason.OK : Reason.BAD_PROXY_V1;
}

function setV4(out: ProxyHeader, i: number, a: number): boolean {
  if (a < 0) return false;
  (i === 0 ? out.src : out.dst)[0] = a;
  return true;
}

function setPort(out: ProxyHeader, i: number, port: number): boolean {
  if (port < 0) return false;
  if (i === 2) out.srcPort = port;
  else out.dstPort = port;
  return true;
}

/** Valid v2 family/transport bytes (spec §2.2: anything else must be rejected). */
function v2FamilyBlockLen(famProto: number): number {
  switch (famProto) {
    case 0x00:
      return 0;
    case 0x11:
    case 0x12:
      return PROXY_V2_ADDR_LEN.INET;
    case 0x21:
    case 0x22:
      return PROXY_V2_ADDR_LEN.INET6;
    case 0x31:
    case 0x32:
      return PROXY_V2_ADDR_LEN.UNIX;
    default:
      return -1;
  }
}

function decodeV2(b: Uint8Array, off: number, len: number, out: ProxyHeader): number {
  if (!prefixMatches(b, off, len, PROXY_V2_SIGNATURE)) return invalid(out, Reason.BAD_PROXY_SIGNATURE);
  if (len < PROXY_V2_HEADER_LEN) return PROXY_INCOMPLETE;
  const verCmd = b[off + PROXY_V2.VER_CMD]!;
  const famProto = b[off + PROXY_V2.FAM_PROTO]!;
  const cmd = verCmd & 15;
  if (verCmd >>> 4 !== 2 || cmd > ProxyCommand.PROXY) return invalid(out, Reason.BAD_PROXY_V2);
  const total = PROXY_V2_HEADER_LEN + readU16(b, off + PROXY_V2.LEN);
  const blockLen = v2FamilyBlockLen(famProto);
  // LOCAL: the family is ignored along with the whole block (spec §2.2).
  if (cmd === ProxyCommand.PROXY && blockLen < 0) return invalid(out, Reason.BAD_PROXY_V2);
  if (len < total) return PROXY_INCOMPLETE;
  out.version = 2;
  out.command = cmd;
  out.headerLen = total;
  out.src.fill(0);
  out.dst.fill(0);
  out.srcPort = 0;
  out.dstPort = 0;
  out.tlvOff = 0;
  out.tlvLen = 0;
  if (cmd === ProxyCommand.LOCAL) {
    out.family = ProxyFamily.UNSPEC;
    out.transport = ProxyTransport.UNSPEC;
    return total;
  }
  if (PROXY_V2_HEADER_LEN + blockLen > total) return invalid(out, Reason.BAD_PROXY_ADDRESS);
  const fam = famProto >>> 4;
  out.family =
    fam === 1 ? ProxyFamily.INET : fam === 2 ? ProxyFamily.INET6 : fam === 3 ? ProxyFamily.UNIX : 0;
  out.transport = famProto & 15;
  const a = off + PROXY_V2.ADDR;
  if (fam === 1) {
    out.src[0] = readU32(b, a);
    out.dst[0] = readU32(b, a + 4);
    out.srcPort = readU16(b, a + 8);
    out.dstPort = readU16(b, a + 10);
  } else if (fam === 2) {
    readAddr6Words(b, a, out.src);
    readAddr6Words(b, a + 16, out.dst);
    out.srcPort = readU16(b, a + 32);
    out.dstPort = readU16(b, a + 34);
  }
  const tlvStart = a + blockLen;
  const end = off + total;
  for (let p = tlvStart; p < end; ) {
    if (p + 3 > end) return invalid(out, Reason.BAD_PROXY_TLV);
    p += 3 + readU16(b, p + 1);
    if (p > end) return invalid(out, Reason.BAD_PROXY_TLV);
  }
  out.tlvOff = tlvStart;
  out.tlvLen = end - tlvStart;
  return total;
}

/** Absolute offset of the first TLV of `type` in a decoded v2 header's TLV area, or -1. */
export function findProxyTlv(b: Uint8Array, h: ProxyHeader, type: number): number {
  const end = h.tlvOff + h.tlvLen;
  for (let p = h.tlvOff; p + 3 <= end; p += 3 + readU16(b, p + 1)) if (b[p] === type) return p;
  return -1;
}

// ---------------------------------------------------------------- encode

/**
 * Writes a v1 line for `h` (family UNSPEC -> "PROXY UNKNOWN"); returns its length, or -1 when `cap`
 * bytes are too few or `h` is not expressible in v1 (UDP, UNIX).
 */
export function encodeProxyV1(h: ProxyHeader, b: Uint8Array, off: number, cap: number): number {
  const v4 = h.family === ProxyFamily.INET;
  const known = v4 || h.family === ProxyFamily.INET6;
  if (h.family !== ProxyFamily.UNSPEC && (!known || h.transport !== ProxyTransport.STREAM)) return -1;
  const need = known ? (v4 ? 56 : 104) : 15; // worst case lengths
  if (cap < need) return -1;
  let p = off;
  for (let i = 0; i < V1_PREFIX.length; i++) b[p++] = V1_PREFIX[i]!;
  const word = known ? (v4 ? 'TCP4' : 'TCP6') : 'UNKNOWN';
  for (let i = 0; i < word.length; i++) b[p++] = word.charCodeAt(i);
  if (known) {
    b[p++] = SP;
    p = v4 ? writeIpv4Text(b, p, h.src[0]!) : writeIpv6Text(b, p, h.src);
    b[p++] = SP;
    p = v4 ? writeIpv4Text(b, p, h.dst[0]!) : writeIpv6Text(b, p, h.dst);
    b[p++] = SP;
    p = writeDecimal(b, p, h.srcPort);
    b[p++] = SP;
    p = writeDecimal(b, p, h.dstPort);
  }
  b[p++] = CR;
  b[p++] = LF;
  return p - off;
}

/** Length encodeProxyV2 will write. */
export function proxyV2Len(h: ProxyHeader, tlvs: readonly ProxyTlv[] = []): number {
  let n = PROXY_V2_HEADER_LEN;
  if (h.command === ProxyCommand.PROXY) {
    if (h.family === ProxyFamily.INET) n += PROXY_V2_ADDR_LEN.INET;
    else if (h.family === ProxyFamily.INET6) n += PROXY_V2_ADDR_LEN.INET6;
  }
  for (const t of tlvs) n += 3 + t.value.length;
  return n;
}

/**
 * Writes a v2 header (LOCAL, or PROXY over INET/INET6/UNSPEC with STREAM or DGRAM) plus `tlvs`; returns
 * its length, or -1 when `cap` is too small or `h` is not encodable (UNIX addresses, bad transport).
 */
export function encodeProxyV2(
  h: ProxyHeader,
  b: Uint8Array,
  off: number,
  cap: number,
  tlvs: readonly ProxyTlv[] = [],
): number {
  const total = proxyV2Len(h, tlvs);
  if (total > cap || total - PROXY_V2_HEADER_LEN > 0xffff) return -1;
  const local = h.command === ProxyCommand.LOCAL;
  let famProto = 0;
  if (!local && h.family !== ProxyFamily.UNSPEC) {
    if (h.family !== ProxyFamily.INET && h.family !== ProxyFamily.INET6) return -1;
    if (h.transport !== ProxyTransport.STREAM && h.transport !== ProxyTransport.DGRAM) return -1;
    famProto = ((h.family === ProxyFamily.INET ? 1 : 2) << 4) | h.transport;
  }
  b.set(PROXY_V2_SIGNATURE, off);
  b[off + PROXY_V2.VER_CMD] = 0x20 | (local ? ProxyCommand.LOCAL : ProxyCommand.PROXY);
  b[off + PROXY_V2.FAM_PROTO] = famProto;
  writeU16(b, off + PROXY_V2.LEN, total - PROXY_V2_HEADER_LEN);
  let p = off + PROXY_V2.ADDR;
  if (famProto >>> 4 === 1) {
    writeU32(b, p, h.src[0]!);
    writeU32(b, p + 4, h.dst[0]!);
    writeU16(b, p + 8, h.srcPort);
    writeU16(b, p + 10, h.dstPort);
    p += PROXY_V2_ADDR_LEN.INET;
  } else if (famProto >>> 4 === 2) {
    writeAddr6Words(b, p, h.src);
    writeAddr6Words(b, p + 16, h.dst);
    writeU16(b, p + 32, h.srcPort);
    writeU16(b, p + 34, h.dstPort);
    p += PROXY_V2_ADDR_LEN.INET6;
  }
  for (const t of tlvs) {
    b[p] = t.type;
    writeU16(b, p + 1, t.value.length);
    b.set(t.value, p + 3);
    p += 3 + t.value.length;
  }
  return total;
}
