/**
 * Sessions as session sync carries them between directors, and the two ends of it: reading an entry into
 * a record (the sender) and installing or updating an entry from one (the receiver), after IPVS
 * `ip_vs_sync_conn` / `ip_vs_proc_conn`. A record names its service and real server by address, never by
 * id: both directors run the same configuration but number things independently. Nothing here allocates
 * per record; callers keep one record object and refill it.
 */
import type { Family } from '../addr.js';
import type { DestTable } from '../dest-table.js';
import { Forwarding } from '../forwarding.js';
import { type FlowKey, newFlowKey } from '../schedulers/scheduler.js';
import { CF, STRIDE, W } from './layout.js';
import type { ConnTable, NewConn } from './table.js';
import { newConnParams } from './table.js';
import { TCP_STATE_COUNT } from './tcp-states.js';

/** Flag bits of a synced record (independent of the entry layout, so the wire format is stable). */
export const SyncFlag = Object.freeze({
  TEMPLATE: 0x01,
  NOOUTPUT: 0x02,
  ASSURED: 0x04,
  CLIENT_ADDR_SENT: 0x08,
  PROXY_PENDING: 0x10,
  /** A connection controlled by a persistence template (the receiver attaches it to its own copy). */
  PERSISTENT: 0x20,
});
export const SYNC_FLAG_MASK = 0x3f;

/** Why a record was not installed; `installSynced` returns the negated value. */
export const InstallFail = Object.freeze({
  UNKNOWN_SERVICE: 1,
  UNKNOWN_DEST: 2,
  UNKNOWN_LOCAL_ADDRESS: 3,
  TABLE_FULL: 4,
  INVALID: 5,
});

export interface SyncedSession {
  /** SyncFlag bits. */
  flags: number;
  af: Family;
  proto: number;
  /** Forwarding method (forwarding.ts). */
  fwd: number;
  /** TCP state (tcp-states.ts); 0 for UDP and templates. */
  state: number;
  /** Client address (template: the masked client net) and port (template: 0). */
  readonly caddr: Uint32Array;
  cport: number;
  readonly vaddr: Uint32Array;
  vport: number;
  /** Real server address and port. */
  readonly daddr: Uint32Array;
  dport: number;
  /** Full-NAT local address and port (zero otherwise). */
  readonly laddr: Uint32Array;
  lport: number;
  /** Milliseconds the sender's entry has left. */
  timeoutMs: number;
  /** Full-NAT PROXY injection: bytes the client stream is shifted by (int32) and its first data sequence. */
  seqDelta: number;
  isn: number;
}

export function newSyncedSession(): SyncedSession {
  return {
    flags: 0,
    af: 4,
    proto: 6,
    fwd: Forwarding.DR,
    state: 0,
    caddr: new Uint32Array(4),
    cport: 0,
    vaddr: new Uint32Array(4),
    vport: 0,
    daddr: new Uint32Array(4),
    dport: 0,
    laddr: new Uint32Array(4),
    lport: 0,
    timeoutMs: 0,
    seqDelta: 0,
    isn: 0,
  };
}

function copy4(dst: Uint32Array, src: ArrayLike<number>, off: number): void {
  dst[0] = src[off]!;
  dst[1] = src[off + 1]!;
  dst[2] = src[off + 2]!;
  dst[3] = src[off + 3]!;
}

/**
 * Fills `out` from entry `id` (isn left 0: it lives with the forwarder). False when the entry is not
 * worth sending: free, a one-packet connection, a dead template, or already due.
 */
export function readSynced(t: ConnTable, id: number, now: number, out: SyncedSession): boolean {
  if (!t.inUse(id)) return false;
  const e = t.e;
  const b = id * STRIDE;
  const st = e[b + W.STATE]!;
  if (st & (CF.ONE_PACKET | CF.DEAD)) return false;
  const rem = t.remainingMs(id, now);
  if (rem <= 0) return false;
  const svc = e[b + W.SVC_LIP]! & 0xffff;
  const dest = e[b + W.DEST]!;
  const fwd = (st & CF.FWD_MASK) >>> CF.FWD_SHIFT;
  const tmpl = (st & CF.TEMPLATE) !== 0;
  let flags = 0;
  if (tmpl) flags |= SyncFlag.TEMPLATE;
  if (st & CF.NOOUTPUT) flags |= SyncFlag.NOOUTPUT;
  if (st & CF.ASSURED) flags |= SyncFlag.ASSURED;
  if (st & CF.CLIENT_ADDR_SENT) flags |= SyncFlag.CLIENT_ADDR_SENT;
  if (st & CF.PROXY_PENDING) flags |= SyncFlag.PROXY_PENDING;
  if (!tmpl && e[b + W.CONTROL] !== 0) flags |= SyncFlag.PERSISTENT;
  out.flags = flags;
  out.af = st & CF.AF6 ? 6 : 4;
  out.proto = st & CF.UDP ? 17 : 6;
  out.fwd = tmpl ? 0 : fwd;
  out.state = tmpl || st & CF.UDP ? 0 : st & 0xff;
  copy4(out.caddr, e, b + W.CADDR);
  out.cport = e[b + W.PORTS]! & 0xffff;
  copy4(out.vaddr, t.services.addr, svc * 4);
  out.vport = e[b + W.PORTS]! >>> 16;
  copy4(out.daddr, t.dests.addr, dest * 4);
  out.dport = e[b + W.RPORTS]! & 0xffff;
  if (!tmpl && fwd === Forwarding.FNAT && t.lips !== null) {
    copy4(out.laddr, t.lips.addr, (e[b + W.SVC_LIP]! >>> 16) * 4);
    out.lport = e[b + W.RPORTS]! >>> 16;
  } else {
    out.laddr.fill(0);
    out.lport = 0;
  }
  out.timeoutMs = rem;
  out.seqDelta = e[b + W.SEQ]! | 0;
  out.isn = 0;
  return true;
}

function destIs(d: DestTable, id: number, af: number, addr: Uint32Array, port: number): boolean {
  const b = id * 4;
  return (
    d.af[id] === af &&
    d.port[id] === port &&
    d.addr[b] === addr[0] &&
    d.addr[b + 1] === addr[1] &&
    d.addr[b + 2] === addr[2] &&
    d.addr[b + 3] === addr[3]
  );
}

/** The dest of service `svc` at `addr`:`port` (listed or not, or its sorry server), or -1. */
export function findSyncedDest(
  t: ConnTable,
  svc: number,
  af: number,
  addr: Uint32Array,
  port: number,
): number {
  const s = t.services.get(svc);
  if (!s) return -1;
  const d = t.dests;
  for (let i = 0; i < s.list.length; i++) if (destIs(d, s.list[i]!, af, addr, port)) return s.list[i]!;
  if (s.sorryDest >= 0 && destIs(d, s.sorryDest, af, addr, port)) return s.sorryDest;
  // Unlisted members (health checks took them out here): rare, so the Map walk is fine.
  for (const id of s.members.values()) if (destIs(d, id, af, addr, port)) return id;
  return -1;
}

const params: NewConn = newConnParams();
const flow: FlowKey = newFlowKey();
/** Longest remaining time a record may carry (wrap-safe expiry comparisons need < 2^31 ms). */
export const MAX_SYNC_TIMEOUT_MS = 0x3fffffff;

/** Valid field combinations only: anything else is a sender bug or a forged record. */
function validRecord(r: SyncedSession): boolean {
  if (r.proto !== 6 && r.proto !== 17) return false;
  if (r.af !== 4 && r.af !== 6) return false;
  if ((r.flags & ~SYNC_FLAG_MASK) !== 0 || !(r.timeoutMs >= 0 && r.timeoutMs <= MAX_SYNC_TIMEOUT_MS))
    return false;
  if (r.flags & SyncFlag.TEMPLATE) return r.state === 0;
  if (r.fwd < Forwarding.DR || r.fwd > Forwarding.FNAT) return false;
  return r.proto === 17 ? r.state === 0 : r.state < TCP_STATE_COUNT;
}

/**
 * Installs `r` (create, or update the entry with the same key) with CF.SYNCED, bound to the local
 * service and dest matched by address, expiring `r.timeoutMs + graceMs` from now. Counters follow the
 * state as IPVS's backup keeps them (inactive at creation, active once ESTABLISHED). The journal is not
 * fed (a peer's sessions are not echoed back). Returns the entry id, or a negated InstallFail. Persistence
 * attachment is the caller's (Balancer.installSynced: it knows the service's persistence mask).
 */
export function installSynced(t: ConnTable, r: SyncedSession, now: number, graceMs: number): number {
  if (!validRecord(r)) return -InstallFail.INVALID;
  const svc = t.services.find(r.proto, r.af, r.vaddr, 0, r.vport);
  if (svc < 0) return -InstallFail.UNKNOWN_SERVICE;
  const dest = findSyncedDest(t, svc, r.af, r.daddr, r.dport);
  if (dest < 0) return -InstallFail.UNKNOWN_DEST;
  const j = t.journal;
  const active = j?.active === true;
  if (j !== null) j.active = false;
  try {
    const id =
      r.flags & SyncFlag.TEMPLATE ? installTemplate(t, r, svc, dest, now) : installConn(t, r, svc, dest, now);
    if (id > 0) {
      t.setFlag(id, CF.SYNCED, true);
      t.setFlag(id, CF.ASSURED, (r.flags & SyncFlag.ASSURED) !== 0);
      t.arm(id, now, Math.min(r.timeoutMs + graceMs, MAX_SYNC_TIMEOUT_MS));
    }
    return id;
  } finally {
    if (j !== null) j.active = active;
  }
}

function installTemplate(t: ConnTable, r: SyncedSession, svc: number, dest: number, now: number): number {
  let id = t.lookupTemplate(svc, r.af, r.caddr, r.vport, now);
  if (id !== 0 && t.dest(id) !== dest) {
    // The sender re-bound this client net: our template is stale (dead templates never match again).
    t.setFlag(id, CF.DEAD, true);
    id = 0;
  }
  if (id === 0) id = t.createTemplate(svc, dest, r.af, r.caddr, r.vport, r.dport, r.timeoutMs, now);
  return id === 0 ? -InstallFail.TABLE_FULL : id;
}

function installConn(t: ConnTable, r: SyncedSession, svc: number, dest: number, now: number): number {
  let lip = 0;
  if (r.fwd === Forwarding.FNAT) {
    lip = t.lips === null ? -1 : t.lips.find(r.af, r.laddr, 0);
    if (lip < 0) return -InstallFail.UNKNOWN_LOCAL_ADDRESS;
  }
  const p = params;
  p.svc = svc;
  p.dest = dest;
  p.fwd = r.fwd;
  p.af = r.af;
  p.proto = r.proto;
  copy4(p.caddr, r.caddr, 0);
  p.cport = r.cport;
  p.vport = r.vport;
  p.dport = r.dport;
  p.lip = lip;
  p.lport = r.fwd === Forwarding.FNAT ? r.lport : 0;
  p.flags = CF.SYNCED;
  flow.proto = r.proto;
  flow.af = r.af;
  copy4(flow.saddr, r.caddr, 0);
  flow.sport = r.cport;
  copy4(flow.daddr, r.vaddr, 0);
  flow.dport = r.vport;
  let id = t.lookupIn(flow, now);
  if (id !== 0 && !sameBinding(t, id, p)) {
    t.remove(id); // re-scheduled on the sender (connection reuse): take its binding
    id = 0;
  }
  if (id === 0) {
    // An out-direction key in use here (e.g. a local port this director handed out while it was master
    // too) would shadow the sender's session: the sender's binding wins.
    if (r.fwd === Forwarding.FNAT || r.fwd === Forwarding.NAT) {
      const fnat = r.fwd === Forwarding.FNAT;
      const other = t.lookupOut(
        r.proto,
        r.af,
        t.dests.addr,
        dest * 4,
        r.dport,
        fnat ? t.lips!.addr : r.caddr,
        fnat ? lip * 4 : 0,
        fnat ? r.lport : r.cport,
        now,
      );
      if (other !== 0) t.remove(other);
    }
    id = t.create(p, now);
    if (id === 0) return -InstallFail.TABLE_FULL;
  }
  t.setFlag(id, CF.NOOUTPUT, (r.flags & SyncFlag.NOOUTPUT) !== 0);
  t.setFlag(id, CF.CLIENT_ADDR_SENT, (r.flags & SyncFlag.CLIENT_ADDR_SENT) !== 0);
  t.setFlag(id, CF.PROXY_PENDING, (r.flags & SyncFlag.PROXY_PENDING) !== 0);
  if (r.proto === 6) t.setState(id, r.state, now);
  t.setSeqDelta(id, r.seqDelta);
  return id;
}

function sameBinding(t: ConnTable, id: number, p: NewConn): boolean {
  return (
    !t.isTemplate(id) &&
    t.dest(id) === p.dest &&
    t.fwd(id) === p.fwd &&
    t.dport(id) === p.dport &&
    t.lip(id) === p.lip &&
    t.lport(id) === p.lport
  );
}

/** Puts synced connection `conn` under `template` without re-arming the template (its expiry is synced). */
export function linkSyncedToTemplate(t: ConnTable, conn: number, template: number): void {
  const e = t.e;
  if (e[conn * STRIDE + W.CONTROL] !== 0) return;
  e[conn * STRIDE + W.CONTROL] = template;
  e[template * STRIDE + W.CONTROL]!++;
}
