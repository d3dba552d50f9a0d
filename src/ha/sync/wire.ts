/**
 * The session-sync datagram (tslvs sync protocol, version 1), pure: no node:* imports, no allocation per
 * record. Big-endian throughout.
 *
 *   header (28 bytes)
 *     0  u16  magic 0x5453 ("TS")
 *     2  u8   version (1)
 *     3  u8   type: 1 SESSIONS, 2 SNAPSHOT_REQUEST, 3 SNAPSHOT_END
 *     4  u8   flags: 0x01 SNAPSHOT (the records belong to snapshot stream `stream`), 0x02 MASTER (the
 *             sender is the sync master)
 *     5  u8   record count (SESSIONS; 0 otherwise)
 *     6  u16  body length (bytes between the header and the tag)
 *     8  u32  epoch, high word  } the sender's start time in ms: a larger epoch = the peer restarted
 *    12  u32  epoch, low word   }
 *    16  u32  sequence number, per sender and receiver, from 1 (replays and losses are detected with it)
 *    20  u32  stream: the snapshot stream a request asks for / a snapshot datagram or END belongs to
 *    24  u32  value: SNAPSHOT_END = records the stream carried; 0 otherwise
 *   body: SESSIONS records (below), back to back
 *   tag (16 bytes): HMAC-SHA256 over header + body with the configured key, first 128 bits (auth.ts)
 *
 *   record (44 bytes IPv4, 92 bytes IPv6)
 *     0  u8   family: 4 or 6 (fixes the record's length)
 *     1  u8   protocol (6, 17)
 *     2  u8   forwarding (0 DR, 1 NAT, 2 TUN, 3 FNAT)
 *     3  u8   TCP state (IPVS numbering; 0 for UDP and templates)
 *     4  u16  flags (SyncFlag: template, no-output, assured, client address sent, PROXY pending, persistent)
 *     6  u16  client port (templates: 0)
 *     8  u16  virtual port
 *    10  u16  real-server port
 *    12  u16  Full-NAT local port (0 otherwise)
 *    14  u16  reserved, 0
 *    16  u32  remaining time, ms
 *    20  i32  Full-NAT sequence delta (PROXY header length, 0 when none)
 *    24  i32  Full-NAT first client data sequence number (with a delta)
 *    28       client address (template: client net), virtual address, real-server address, local address
 *             (4 or 16 bytes each; the local address is zero unless Full-NAT)
 */
import { SYNC_FLAG_MASK, type SyncedSession } from '../../engine/conntable/sync.js';
import { readU16, readU32, writeU16, writeU32 } from '../../wire/bytes.js';

export const SYNC_MAGIC = 0x5453;
export const SYNC_VERSION = 1;
export const HDR = Object.freeze({
  MAGIC: 0,
  VERSION: 2,
  TYPE: 3,
  FLAGS: 4,
  COUNT: 5,
  BODY_LEN: 6,
  EPOCH_HI: 8,
  EPOCH_LO: 12,
  SEQ: 16,
  STREAM: 20,
  VALUE: 24,
  END: 28,
});
export const SYNC_HEADER_LEN: number = HDR.END;
export const SYNC_TAG_LEN = 16;
/** Largest datagram tslvs sends: one Ethernet MTU less IP/UDP headers, with room for tunnels. */
export const SYNC_MAX_DATAGRAM = 1400;
export const SYNC_MAX_BODY = SYNC_MAX_DATAGRAM - SYNC_HEADER_LEN - SYNC_TAG_LEN;

export const SyncType = Object.freeze({ SESSIONS: 1, SNAPSHOT_REQUEST: 2, SNAPSHOT_END: 3 });
export const HeaderFlag = Object.freeze({ SNAPSHOT: 0x01, MASTER: 0x02 });

const REC = Object.freeze({
  FAMILY: 0,
  PROTO: 1,
  FWD: 2,
  STATE: 3,
  FLAGS: 4,
  CPORT: 6,
  VPORT: 8,
  DPORT: 10,
  LPORT: 12,
  RESERVED: 14,
  TIMEOUT: 16,
  SEQ_DELTA: 20,
  ISN: 24,
  ADDRS: 28,
});

export function recordLen(af: number): number {
  return REC.ADDRS + 4 * (af === 6 ? 16 : 4);
}

/** The fixed fields of a datagram; callers keep one and refill it. */
export interface SyncHeader {
  type: number;
  flags: number;
  count: number;
  bodyLen: number;
  /** Sender start time, ms (below 2^53). */
  epoch: number;
  seq: number;
  stream: number;
  value: number;
}

export function newSyncHeader(): SyncHeader {
  return { type: 0, flags: 0, count: 0, bodyLen: 0, epoch: 0, seq: 0, stream: 0, value: 0 };
}

/** Why a datagram was rejected before its records were looked at. */
export const WireError = Object.freeze({ OK: 0, SHORT: 1, MAGIC: 2, VERSION: 3, TYPE: 4, LENGTH: 5 });

export function writeSyncHeader(b: Uint8Array, h: SyncHeader): void {
  writeU16(b, HDR.MAGIC, SYNC_MAGIC);
  b[HDR.VERSION] = SYNC_VERSION;
  b[HDR.TYPE] = h.type;
  b[HDR.FLAGS] = h.flags;
  b[HDR.COUNT] = h.count;
  writeU16(b, HDR.BODY_LEN, h.bodyLen);
  writeU32(b, HDR.EPOCH_HI, Math.floor(h.epoch / 0x100000000));
  writeU32(b, HDR.EPOCH_LO, h.epoch >>> 0);
  writeU32(b, HDR.SEQ, h.seq);
  writeU32(b, HDR.STREAM, h.stream);
  writeU32(b, HDR.VALUE, h.value);
}

/**
 * Reads the header of a datagram of `len` bytes (tag included) into `h`; returns a WireError. After OK,
 * the body is `len - header - tag` bytes and matches `h.bodyLen`.
 */
export function readSyncHeader(b: Uint8Array, len: number, h: SyncHeader): number {
  if (len < SYNC_HEADER_LEN + SYNC_TAG_LEN || b.length < len) return WireError.SHORT;
  if (readU16(b, HDR.MAGIC) !== SYNC_MAGIC) return WireError.MAGIC;
  if (b[HDR.VERSION] !== SYNC_VERSION) return WireError.VERSION;
  h.type = b[HDR.TYPE]!;
  if (h.type < SyncType.SESSIONS || h.type > SyncType.SNAPSHOT_END) return WireError.TYPE;
  h.flags = b[HDR.FLAGS]!;
  h.count = b[HDR.COUNT]!;
  h.bodyLen = readU16(b, HDR.BODY_LEN);
  h.epoch = readU32(b, HDR.EPOCH_HI) * 0x100000000 + readU32(b, HDR.EPOCH_LO);
  h.seq = readU32(b, HDR.SEQ);
  h.stream = readU32(b, HDR.STREAM);
  h.value = readU32(b, HDR.VALUE);
  if (h.bodyLen !== len - SYNC_HEADER_LEN - SYNC_TAG_LEN) return WireError.LENGTH;
  if (h.type !== SyncType.SESSIONS && (h.bodyLen !== 0 || h.count !== 0)) return WireError.LENGTH;
  if ((h.flags & ~(HeaderFlag.SNAPSHOT | HeaderFlag.MASTER)) !== 0 || h.seq === 0) return WireError.TYPE;
  return WireError.OK;
}

function writeAddr(b: Uint8Array, o: number, a: Uint32Array, af: number): number {
  if (af === 4) {
    writeU32(b, o, a[0]!);
    return o + 4;
  }
  for (let i = 0; i < 4; i++) writeU32(b, o + 4 * i, a[i]!);
  return o + 16;
}

function readAddr(b: Uint8Array, o: number, a: Uint32Array, af: number): number {
  if (af === 4) {
    a[0] = readU32(b, o);
    a[1] = 0;
    a[2] = 0;
    a[3] = 0;
    return o + 4;
  }
  for (let i = 0; i < 4; i++) a[i] = readU32(b, o + 4 * i);
  return o + 16;
}

/** Writes `r` at `off`; returns the offset after it, or -1 when it does not fit before `end`. */
export function encodeRecord(b: Uint8Array, off: number, end: number, r: SyncedSession): number {
  const n = recordLen(r.af);
  if (off + n > end) return -1;
  b[off + REC.FAMILY] = r.af;
  b[off + REC.PROTO] = r.proto;
  b[off + REC.FWD] = r.fwd;
  b[off + REC.STATE] = r.state;
  writeU16(b, off + REC.FLAGS, r.flags);
  writeU16(b, off + REC.CPORT, r.cport);
  writeU16(b, off + REC.VPORT, r.vport);
  writeU16(b, off + REC.DPORT, r.dport);
  writeU16(b, off + REC.LPORT, r.lport);
  writeU16(b, off + REC.RESERVED, 0);
  writeU32(b, off + REC.TIMEOUT, r.timeoutMs >>> 0);
  writeU32(b, off + REC.SEQ_DELTA, r.seqDelta >>> 0);
  writeU32(b, off + REC.ISN, r.isn >>> 0);
  let o = off + REC.ADDRS;
  o = writeAddr(b, o, r.caddr, r.af);
  o = writeAddr(b, o, r.vaddr, r.af);
  o = writeAddr(b, o, r.daddr, r.af);
  return writeAddr(b, o, r.laddr, r.af);
}

/**
 * Reads the record at `off` into `r`; returns the offset after it, or -1 when it is malformed (unknown
 * family, truncated before `end`, reserved bits set). Field values are checked by the installer.
 */
export function decodeRecord(b: Uint8Array, off: number, end: number, r: SyncedSession): number {
  if (off + 1 > end) return -1;
  const af = b[off + REC.FAMILY]!;
  if (af !== 4 && af !== 6) return -1;
  if (off + recordLen(af) > end) return -1;
  const flags = readU16(b, off + REC.FLAGS);
  if ((flags & ~SYNC_FLAG_MASK) !== 0 || readU16(b, off + REC.RESERVED) !== 0) return -1;
  r.af = af as 4 | 6;
  r.proto = b[off + REC.PROTO]!;
  r.fwd = b[off + REC.FWD]!;
  r.state = b[off + REC.STATE]!;
  r.flags = flags;
  r.cport = readU16(b, off + REC.CPORT);
  r.vport = readU16(b, off + REC.VPORT);
  r.dport = readU16(b, off + REC.DPORT);
  r.lport = readU16(b, off + REC.LPORT);
  r.timeoutMs = readU32(b, off + REC.TIMEOUT);
  r.seqDelta = readU32(b, off + REC.SEQ_DELTA) | 0;
  r.isn = readU32(b, off + REC.ISN) | 0;
  let o = off + REC.ADDRS;
  o = readAddr(b, o, r.caddr, af);
  o = readAddr(b, o, r.vaddr, af);
  o = readAddr(b, o, r.daddr, af);
  return readAddr(b, o, r.laddr, af);
}
