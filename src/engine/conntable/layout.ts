/**
 * One session-table entry is sixteen 32-bit words (64 bytes, one cache line) in a single Uint32Array, so
 * a lookup touches one line per entry. Entry ids start at 1; 0 means "none" in every link word.
 *
 *   word 0-3  client address (four words, see addr.ts; IPv4 in word 0); for templates the masked net
 *   word 4    client port | virtual port << 16
 *   word 5    RS port | local port << 16 (FNAT)
 *   word 6    service id | local address index << 16 (FNAT)
 *   word 7    dest id
 *   word 8    state (8 bits) | flags << 8
 *   word 9    expiry time, ms, modulo 2^32 (compared wrap-safely, like jiffies)
 *   word 10,11 timer-wheel next / prev (prev of a list head = HEAD | slot)
 *   word 12   next in the in-direction hash chain (and the free list)
 *   word 13   next in the out-direction hash chain
 *   word 14   conn: controlling template id; template: number of connections it controls
 *   word 15   FNAT sequence-number delta (a PROXY header injected into the stream), signed
 */
export const STRIDE = 16;
export const W = Object.freeze({
  CADDR: 0,
  PORTS: 4,
  RPORTS: 5,
  SVC_LIP: 6,
  DEST: 7,
  STATE: 8,
  EXPIRES: 9,
  WNEXT: 10,
  WPREV: 11,
  INEXT: 12,
  ONEXT: 13,
  CONTROL: 14,
  SEQ: 15,
});

/** Flag bits of word 8 (above the 8-bit state). */
export const CF = Object.freeze({
  FWD_SHIFT: 8,
  FWD_MASK: 0x7 << 8,
  AF6: 1 << 11,
  UDP: 1 << 12,
  TEMPLATE: 1 << 13,
  /** No reply seen yet: DR/TUN replies bypass us, so the INPUT_ONLY table applies (IP_VS_CONN_F_NOOUTPUT). */
  NOOUTPUT: 1 << 14,
  /** Counted in the dest's inactive connections (IP_VS_CONN_F_INACTIVE). */
  INACTIVE: 1 << 15,
  ONE_PACKET: 1 << 16,
  /** Template: a controlled connection got established (ip_vs_control_assure_ct). */
  ASSURED: 1 << 17,
  /** FNAT: the client address was delivered to the RS (TOA or PROXY header). */
  CLIENT_ADDR_SENT: 1 << 18,
  IN_USE: 1 << 19,
  /** Installed from a peer director's session sync. */
  SYNCED: 1 << 20,
  /** Template expired while controlling connections: re-armed with 60 s. */
  BUSY: 1 << 21,
  /** FNAT: a PROXY protocol header still has to be injected before the first payload byte. */
  PROXY_PENDING: 1 << 22,
  OUT_HASHED: 1 << 23,
  /** Template no longer valid (its dest went away): never matches again, left to expire (IPVS re-keys it). */
  DEAD: 1 << 24,
  /** Queued in the session-sync journal (journal.ts): an id is queued once until the sender takes it. */
  SYNC_PENDING: 1 << 25,
});

export const HEAD = 0x80000000;
