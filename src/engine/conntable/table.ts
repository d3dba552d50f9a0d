/**
 * The session table (IPVS `ip_vs_conn.c`): every connection and persistence template, in fixed-capacity
 * typed arrays (see layout.ts), hashed in the in direction (client -> VIP) and, for NAT/FNAT, in the out
 * direction (RS -> client or local address), expired by a timer wheel, with a hard entry limit and a
 * counted eviction policy when full.
 */
import type { Family } from '../addr.js';
import type { DestTable } from '../dest-table.js';
import { Forwarding, seesReplies } from '../forwarding.js';
import { fmix32, mixWord } from '../hash.js';
import type { LocalAddressPool } from '../local-addrs.js';
import type { FlowKey } from '../schedulers/scheduler.js';
import type { ServiceTable } from '../service-table.js';
import { CF, STRIDE, W } from './layout.js';
import {
  DEFAULT_TCP_TIMEOUTS_S,
  DEFAULT_UDP_TIMEOUT_S,
  Dir,
  isActiveTcpState,
  isHalfOpenTcpState,
  NEW_CONN_TIMEOUT_S,
  nextTcpState,
  TcpState,
  TEMPLATE_BUSY_TIMEOUT_S,
} from './tcp-states.js';

export const ConnStat = Object.freeze({
  CREATED: 0,
  EXPIRED: 1,
  REMOVED: 2,
  EVICTED_HALF_OPEN: 3,
  EVICTED_CLOSING: 4,
  DROPPED_FULL: 5,
  TEMPLATES_CREATED: 6,
  DEFENCE_ON: 7,
});
export const CONN_STAT_NAMES = Object.freeze([
  'created',
  'expired',
  'removed',
  'evicted_half_open',
  'evicted_closing',
  'dropped_full',
  'templates_created',
  'defence_activations',
] as const);

export type DefenceMode = 'off' | 'auto' | 'on';

export interface ConnTableOptions {
  /** Hard limit on entries (connections + templates). */
  capacity: number;
  /** Hash seed; random by default so clients cannot aim at one bucket. */
  seed?: number;
  tickMs?: number;
  wheelSlots?: number;
  /** secure_tcp: 'auto' switches to the defence state table above 3/4 full and back below 1/2. */
  defence?: DefenceMode;
}

/** Parameters of a new connection; callers keep one object and refill it (no allocation per packet). */
export interface NewConn {
  svc: number;
  dest: number;
  fwd: number;
  af: Family;
  proto: number;
  /** Client address, four words. */
  readonly caddr: Uint32Array;
  cport: number;
  vport: number;
  /** RS port the connection is forwarded to. */
  dport: number;
  /** FNAT local address index and port; 0 otherwise. */
  lip: number;
  lport: number;
  /** Extra CF flags (ONE_PACKET, SYNCED). */
  flags: number;
}

export function newConnParams(): NewConn {
  return {
    svc: 0,
    dest: 0,
    fwd: Forwarding.DR,
    af: 4,
    proto: 6,
    caddr: new Uint32Array(4),
    cport: 0,
    vport: 0,
    dport: 0,
    lip: 0,
    lport: 0,
    flags: 0,
  };
}

const EXPIRED = (now: number, expires: number) => (((now >>> 0) - expires) | 0) >= 0;

export class ConnTable {
  readonly capacity: number;
  readonly e: Uint32Array;
  readonly stats = new Float64Array(CONN_STAT_NAMES.length);
  /** Called for each entry just before it is freed (expiry, eviction or removal), fields still readable. */
  onExpire: ((id: number) => void) | null = null;
  /** TCP timeouts per state, ms (`ipvsadm --set` changes ESTABLISHED and FIN_WAIT). */
  readonly tcpTimeoutMs = Uint32Array.from(DEFAULT_TCP_TIMEOUTS_S, (s) => s * 1000);
  udpTimeoutMs = DEFAULT_UDP_TIMEOUT_S * 1000;
  defence: DefenceMode;
  #inDefence = false;
  #count = 0;
  #highWater = 0;
  #freeHead = 0;
  readonly #inBuckets: Uint32Array;
  readonly #outBuckets: Uint32Array;
  readonly #nb: number;
  readonly #seed: number;
  #rng: number;
  readonly #wheel: TimerWheelLike;
  readonly services: ServiceTable;
  readonly dests: DestTable;
  readonly lips: LocalAddressPool | null;

  constructor(
    opts: ConnTableOptions,
    services: ServiceTable,
    dests: DestTable,
    lips: LocalAddressPool | null,
    wheel: (e: Uint32Array) => TimerWheelLike,
  ) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1 || opts.capacity > 0x7ffffffe) {
      throw new RangeError(`session table capacity ${opts.capacity} out of range`);
    }
    this.capacity = opts.capacity;
    this.e = new Uint32Array((opts.capacity + 1) * STRIDE);
    this.#nb = opts.capacity;
    this.#inBuckets = new Uint32Array(this.#nb);
    this.#outBuckets = new Uint32Array(this.#nb);
    this.#seed = (opts.seed ?? Math.random() * 0x100000000) >>> 0;
    this.#rng = this.#seed | 1;
    this.defence = opts.defence ?? 'auto';
    this.#inDefence = this.defence === 'on';
    this.services = services;
    this.dests = dests;
    this.lips = lips;
    this.#wheel = wheel(this.e);
  }

  get count(): number {
    return this.#count;
  }

  get inDefence(): boolean {
    return this.#inDefence;
  }

  // ---- field access -------------------------------------------------------------------------------

  state(id: number): number {
    return this.e[id * STRIDE + W.STATE]! & 0xff;
  }
  flags(id: number): number {
    return this.e[id * STRIDE + W.STATE]! & ~0xff;
  }
  fwd(id: number): number {
    return (this.e[id * STRIDE + W.STATE]! & CF.FWD_MASK) >>> CF.FWD_SHIFT;
  }
  dest(id: number): number {
    return this.e[id * STRIDE + W.DEST]!;
  }
  svc(id: number): number {
    return this.e[id * STRIDE + W.SVC_LIP]! & 0xffff;
  }
  lip(id: number): number {
    return this.e[id * STRIDE + W.SVC_LIP]! >>> 16;
  }
  cport(id: number): number {
    return this.e[id * STRIDE + W.PORTS]! & 0xffff;
  }
  vport(id: number): number {
    return this.e[id * STRIDE + W.PORTS]! >>> 16;
  }
  dport(id: number): number {
    return this.e[id * STRIDE + W.RPORTS]! & 0xffff;
  }
  lport(id: number): number {
    return this.e[id * STRIDE + W.RPORTS]! >>> 16;
  }
  family(id: number): Family {
    return this.e[id * STRIDE + W.STATE]! & CF.AF6 ? 6 : 4;
  }
  proto(id: number): number {
    return this.e[id * STRIDE + W.STATE]! & CF.UDP ? 17 : 6;
  }
  isTemplate(id: number): boolean {
    return (this.e[id * STRIDE + W.STATE]! & CF.TEMPLATE) !== 0;
  }
  inUse(id: number): boolean {
    return id > 0 && id <= this.#highWater && (this.e[id * STRIDE + W.STATE]! & CF.IN_USE) !== 0;
  }
  /** Milliseconds until expiry (may be negative when overdue). */
  remainingMs(id: number, now: number): number {
    return (this.e[id * STRIDE + W.EXPIRES]! - (now >>> 0)) | 0;
  }
  control(id: number): number {
    return this.e[id * STRIDE + W.CONTROL]!;
  }
  seqDelta(id: number): number {
    return this.e[id * STRIDE + W.SEQ]! | 0;
  }
  setSeqDelta(id: number, d: number): void {
    this.e[id * STRIDE + W.SEQ] = d >>> 0;
  }
  setFlag(id: number, flag: number, on: boolean): void {
    const b = id * STRIDE + W.STATE;
    this.e[b] = on ? this.e[b]! | flag : this.e[b]! & ~flag;
  }

  /** Every live entry id (control plane: listing, sync snapshots). */
  *ids(): IterableIterator<number> {
    for (let id = 1; id <= this.#highWater; id++) if (this.e[id * STRIDE + W.STATE]! & CF.IN_USE) yield id;
  }

  // ---- hashing --------------------------------------------------------------------------------------

  #bucket(h: number): number {
    return Math.floor((fmix32(h) * this.#nb) / 4294967296);
  }

  #inHash(
    proto: number,
    a: ArrayLike<number>,
    ao: number,
    port1: number,
    v: ArrayLike<number>,
    vo: number,
    port2: number,
    tmpl: number,
  ): number {
    let h = mixWord(this.#seed ^ tmpl, a[ao]!);
    h = mixWord(h, a[ao + 1]!);
    h = mixWord(h, a[ao + 2]!);
    h = mixWord(h, a[ao + 3]!);
    h = mixWord(h, v[vo]!);
    h = mixWord(h, v[vo + 1]!);
    h = mixWord(h, v[vo + 2]!);
    h = mixWord(h, v[vo + 3]!);
    return this.#bucket(mixWord(h, ((port1 << 16) | port2) ^ (proto << 1)));
  }

  #sameWords(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): boolean {
    return a[ao] === b[bo] && a[ao + 1] === b[bo + 1] && a[ao + 2] === b[bo + 2] && a[ao + 3] === b[bo + 3];
  }

  #inMatch(
    id: number,
    proto: number,
    af: number,
    ca: ArrayLike<number>,
    co: number,
    cport: number,
    va: ArrayLike<number>,
    vo: number,
    vport: number,
    tmpl: number,
  ): boolean {
    const e = this.e;
    const b = id * STRIDE;
    const st = e[b + W.STATE]!;
    if (
      (st & (CF.TEMPLATE | CF.DEAD)) !== tmpl ||
      ((st & CF.UDP) !== 0) !== (proto === 17) ||
      ((st & CF.AF6) !== 0) !== (af === 6)
    )
      return false;
    if (e[b + W.PORTS] !== (cport | (vport << 16)) >>> 0) return false;
    if (!this.#sameWords(e, b + W.CADDR, ca, co)) return false;
    const svc = e[b + W.SVC_LIP]! & 0xffff;
    return this.#sameWords(this.services.addr, svc * 4, va, vo);
  }

  /** An overdue entry found by a lookup is expired on the spot; true when it is gone. */
  #expireIfDue(id: number, now: number): boolean {
    if (!EXPIRED(now, this.e[id * STRIDE + W.EXPIRES]!)) return false;
    return this.#expire(id, now);
  }

  #findIn(
    proto: number,
    af: number,
    ca: ArrayLike<number>,
    co: number,
    cport: number,
    va: ArrayLike<number>,
    vo: number,
    vport: number,
    tmpl: number,
    now: number,
  ): number {
    let id = this.#inBuckets[this.#inHash(proto, ca, co, cport, va, vo, vport, tmpl)]!;
    while (id !== 0) {
      if (this.#inMatch(id, proto, af, ca, co, cport, va, vo, vport, tmpl))
        return this.#expireIfDue(id, now) ? 0 : id;
      id = this.e[id * STRIDE + W.INEXT]!;
    }
    return 0;
  }

  /** The connection for a client -> VIP packet, or 0. */
  lookupIn(flow: FlowKey, now: number): number {
    return this.#findIn(flow.proto, flow.af, flow.saddr, 0, flow.sport, flow.daddr, 0, flow.dport, 0, now);
  }

  /** The persistence template for (service, client net, vport), or 0. */
  lookupTemplate(svc: number, af: number, snet: ArrayLike<number>, vport: number, now: number): number {
    const proto = this.services.proto[svc]!;
    return this.#findIn(proto, af, snet, 0, 0, this.services.addr, svc * 4, vport, CF.TEMPLATE, now);
  }

  #outHash(
    proto: number,
    src: ArrayLike<number>,
    so: number,
    sport: number,
    dst: ArrayLike<number>,
    dof: number,
    dport: number,
  ): number {
    return this.#inHash(proto, src, so, sport, dst, dof, dport, 0x5a5a5a5a);
  }

  /**
   * The NAT/FNAT connection a packet from `src:sport` (a RS) to `dst:dport` (the client, or a local
   * address in FNAT) belongs to, or 0.
   */
  lookupOut(
    proto: number,
    af: number,
    src: ArrayLike<number>,
    so: number,
    sport: number,
    dst: ArrayLike<number>,
    dof: number,
    dport: number,
    now: number,
  ): number {
    const e = this.e;
    let id = this.#outBuckets[this.#outHash(proto, src, so, sport, dst, dof, dport)]!;
    while (id !== 0) {
      const b = id * STRIDE;
      const st = e[b + W.STATE]!;
      if (
        ((st & CF.UDP) !== 0) === (proto === 17) &&
        ((st & CF.AF6) !== 0) === (af === 6) &&
        (e[b + W.RPORTS]! & 0xffff) === sport
      ) {
        const dest = e[b + W.DEST]!;
        if (this.#sameWords(this.dests.addr, dest * 4, src, so)) {
          const isFnat = (st & CF.FWD_MASK) >>> CF.FWD_SHIFT === Forwarding.FNAT;
          const match = isFnat
            ? e[b + W.RPORTS]! >>> 16 === dport &&
              this.lips !== null &&
              this.#sameWords(this.lips.addr, (e[b + W.SVC_LIP]! >>> 16) * 4, dst, dof)
            : (e[b + W.PORTS]! & 0xffff) === dport && this.#sameWords(e, b + W.CADDR, dst, dof);
          if (match) return this.#expireIfDue(id, now) ? 0 : id;
        }
      }
      id = e[b + W.ONEXT]!;
    }
    return 0;
  }

  // ---- creation ------------------------------------------------------------------------------------

  #alloc(): number {
    if (this.#count >= this.capacity && !this.#evict()) {
      this.stats[ConnStat.DROPPED_FULL]!++;
      return 0;
    }
    let id: number;
    if (this.#freeHead !== 0) {
      id = this.#freeHead;
      this.#freeHead = this.e[id * STRIDE + W.INEXT]!;
    } else {
      id = ++this.#highWater;
    }
    this.#count++;
    this.#updateDefence();
    return id;
  }

  #updateDefence(): void {
    if (this.defence !== 'auto') {
      this.#inDefence = this.defence === 'on';
      return;
    }
    if (!this.#inDefence && this.#count * 4 >= this.capacity * 3) {
      this.#inDefence = true;
      this.stats[ConnStat.DEFENCE_ON]!++;
    } else if (this.#inDefence && this.#count * 2 < this.capacity) {
      this.#inDefence = false;
    }
  }

  #linkIn(id: number, h: number): void {
    this.e[id * STRIDE + W.INEXT] = this.#inBuckets[h]!;
    this.#inBuckets[h] = id;
  }

  /**
   * Creates a connection bound to `p.dest` (IPVS `ip_vs_conn_new` + `ip_vs_bind_dest`): state NONE, 3 s
   * until its first packet runs the state machine, counted as inactive. Returns the id, or 0 when the
   * table is full and nothing could be evicted (counted).
   */
  create(p: NewConn, now: number): number {
    const id = this.#alloc();
    if (id === 0) return 0;
    const e = this.e;
    const b = id * STRIDE;
    let flags = CF.IN_USE | CF.INACTIVE | (p.fwd << CF.FWD_SHIFT) | p.flags;
    if (p.af === 6) flags |= CF.AF6;
    if (p.proto === 17) flags |= CF.UDP;
    if (!seesReplies(p.fwd)) flags |= CF.NOOUTPUT;
    for (let i = 0; i < 4; i++) e[b + W.CADDR + i] = p.caddr[i]!;
    e[b + W.PORTS] = (p.cport | (p.vport << 16)) >>> 0;
    e[b + W.RPORTS] = (p.dport | (p.lport << 16)) >>> 0;
    e[b + W.SVC_LIP] = (p.svc | (p.lip << 16)) >>> 0;
    e[b + W.DEST] = p.dest;
    e[b + W.STATE] = flags >>> 0;
    e[b + W.CONTROL] = 0;
    e[b + W.SEQ] = 0;
    e[b + W.ONEXT] = 0;
    const svcAddr = this.services.addr;
    this.#linkIn(id, this.#inHash(p.proto, p.caddr, 0, p.cport, svcAddr, p.svc * 4, p.vport, 0));
    if (p.fwd === Forwarding.NAT || p.fwd === Forwarding.FNAT) {
      const dst = p.fwd === Forwarding.FNAT ? this.lips!.addr : p.caddr;
      const dof = p.fwd === Forwarding.FNAT ? p.lip * 4 : 0;
      const xport = p.fwd === Forwarding.FNAT ? p.lport : p.cport;
      const h = this.#outHash(p.proto, this.dests.addr, p.dest * 4, p.dport, dst, dof, xport);
      e[b + W.ONEXT] = this.#outBuckets[h]!;
      this.#outBuckets[h] = id;
      e[b + W.STATE]! |= CF.OUT_HASHED;
    }
    this.#arm(id, now, p.flags & CF.ONE_PACKET ? 0 : NEW_CONN_TIMEOUT_S * 1000);
    const d = this.dests;
    d.inactConns[p.dest]!++;
    d.checkOverloadOnBind(p.dest);
    d.stats.conn(p.dest);
    this.services.stats.conn(p.svc);
    this.stats[ConnStat.CREATED]!++;
    return id;
  }

  /** Creates a persistence template (client net -> dest) counted in the dest's persistent connections. */
  createTemplate(
    svc: number,
    dest: number,
    af: Family,
    snet: ArrayLike<number>,
    vport: number,
    dport: number,
    timeoutMs: number,
    now: number,
  ): number {
    const id = this.#alloc();
    if (id === 0) return 0;
    const e = this.e;
    const b = id * STRIDE;
    const proto = this.services.proto[svc]!;
    let flags = CF.IN_USE | CF.TEMPLATE | CF.NOOUTPUT;
    if (af === 6) flags |= CF.AF6;
    if (proto === 17) flags |= CF.UDP;
    for (let i = 0; i < 4; i++) e[b + W.CADDR + i] = snet[i]!;
    e[b + W.PORTS] = (vport << 16) >>> 0;
    e[b + W.RPORTS] = dport;
    e[b + W.SVC_LIP] = svc;
    e[b + W.DEST] = dest;
    e[b + W.STATE] = flags >>> 0;
    e[b + W.CONTROL] = 0;
    e[b + W.SEQ] = 0;
    e[b + W.ONEXT] = 0;
    this.#linkIn(id, this.#inHash(proto, snet, 0, 0, this.services.addr, svc * 4, vport, CF.TEMPLATE));
    this.#arm(id, now, timeoutMs);
    this.dests.persistConns[dest]!++;
    this.dests.checkOverloadOnBind(dest);
    this.stats[ConnStat.TEMPLATES_CREATED]!++;
    return id;
  }

  /** Puts `conn` under `template`'s control (n_control++), and re-arms the template. */
  attachToTemplate(conn: number, template: number, timeoutMs: number, now: number): void {
    this.e[conn * STRIDE + W.CONTROL] = template;
    this.e[template * STRIDE + W.CONTROL]!++;
    this.e[template * STRIDE + W.STATE]! &= ~CF.BUSY;
    this.#arm(template, now, timeoutMs);
  }

  // ---- timers and state ----------------------------------------------------------------------------

  /** Timeout of an entry in its current state, ms; templates carry theirs in `templateTimeoutMs`. */
  timeoutOf(id: number): number {
    const st = this.e[id * STRIDE + W.STATE]!;
    if (st & CF.ONE_PACKET) return 0;
    if (st & CF.TEMPLATE) {
      if (st & CF.BUSY) return TEMPLATE_BUSY_TIMEOUT_S * 1000;
      return this.services.get(this.svc(id))?.persistence?.timeoutMs ?? TEMPLATE_BUSY_TIMEOUT_S * 1000;
    }
    if (st & CF.UDP) return this.udpTimeoutMs;
    return this.tcpTimeoutMs[st & 0xff]!;
  }

  /** Sets the expiry to now + timeout. Moving it later is lazy (see wheel.ts); earlier relinks at once. */
  #arm(id: number, now: number, timeoutMs: number): void {
    const b = id * STRIDE;
    const next = (now + timeoutMs) >>> 0;
    const linked = this.e[b + W.WPREV] !== 0;
    const earlier = linked && ((next - this.e[b + W.EXPIRES]!) | 0) < 0;
    this.e[b + W.EXPIRES] = next;
    if (!linked) this.#wheel.link(id, now + timeoutMs);
    else if (earlier) {
      this.#wheel.unlink(id);
      this.#wheel.link(id, now + timeoutMs);
    }
  }

  /** Re-arms an entry with its current state's timeout (every packet does this: `ip_vs_conn_put`). */
  touch(id: number, now: number): void {
    this.#arm(id, now, this.timeoutOf(id));
  }

  /**
   * Runs IPVS's TCP state machine for one packet (`set_tcp_state`): picks the INPUT, OUTPUT or
   * INPUT_ONLY table, moves the dest between active and inactive counters when activity changes, marks
   * the controlling template assured on ESTABLISHED, and re-arms with the new state's timeout.
   * `dir` is Dir.INPUT (client side) or Dir.OUTPUT (RS side). Returns the new state.
   */
  tcpTransition(id: number, dir: number, tcpFlags: number, now: number): number {
    const e = this.e;
    const b = id * STRIDE;
    let st = e[b + W.STATE]!;
    if (dir === Dir.OUTPUT) st &= ~CF.NOOUTPUT;
    const table = dir === Dir.INPUT && st & CF.NOOUTPUT ? Dir.INPUT_ONLY : dir;
    const old = st & 0xff;
    const next = nextTcpState(old, table, tcpFlags, this.#inDefence);
    if (next !== old) {
      const dest = e[b + W.DEST]!;
      const d = this.dests;
      if (!(st & CF.INACTIVE) && !isActiveTcpState(next)) {
        d.activeConns[dest]!--;
        d.inactConns[dest]!++;
        st |= CF.INACTIVE;
      } else if (st & CF.INACTIVE && isActiveTcpState(next)) {
        d.activeConns[dest]!++;
        d.inactConns[dest]!--;
        st &= ~CF.INACTIVE;
      }
      if (next === TcpState.ESTABLISHED) {
        const t = e[b + W.CONTROL]!;
        if (t !== 0) e[t * STRIDE + W.STATE]! |= CF.ASSURED;
      }
    }
    e[b + W.STATE] = ((st & ~0xff) | next) >>> 0;
    this.#arm(id, now, this.tcpTimeoutMs[next]!);
    return next;
  }

  /** UDP's single state: every datagram re-arms the timeout (`udp_state_transition`). */
  udpTransition(id: number, dir: number, now: number): void {
    const b = id * STRIDE;
    if (dir === Dir.OUTPUT) {
      this.e[b + W.STATE]! &= ~CF.NOOUTPUT;
      const t = this.e[b + W.CONTROL]!;
      if (t !== 0) this.e[t * STRIDE + W.STATE]! |= CF.ASSURED;
    }
    this.#arm(id, now, this.e[b + W.STATE]! & CF.ONE_PACKET ? 0 : this.udpTimeoutMs);
  }

  /** Sets the state directly (socket proxy, session sync); counters follow as for a transition. */
  setState(id: number, state: number, now: number): void {
    const b = id * STRIDE;
    const st = this.e[b + W.STATE]!;
    if ((st & 0xff) === state) return this.touch(id, now);
    const dest = this.e[b + W.DEST]!;
    const d = this.dests;
    const wasActive = !(st & CF.INACTIVE);
    const active = !(st & CF.UDP) && !(st & CF.TEMPLATE) && isActiveTcpState(state);
    let flags = st & ~0xff;
    if (!(st & CF.TEMPLATE) && wasActive !== active) {
      if (active) {
        d.activeConns[dest]!++;
        d.inactConns[dest]!--;
        flags &= ~CF.INACTIVE;
      } else {
        d.activeConns[dest]!--;
        d.inactConns[dest]!++;
        flags |= CF.INACTIVE;
      }
    }
    this.e[b + W.STATE] = (flags | state) >>> 0;
    this.touch(id, now);
  }

  // ---- expiry and removal ---------------------------------------------------------------------------

  /**
   * Expires due entries, at most `budget` of them (so a packet loop can bound its pause). Returns how
   * many entries it looked at.
   */
  expire(now: number, budget = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < budget) {
      const id = this.#wheel.nextCandidate(now);
      if (id === 0) break;
      n++;
      const b = id * STRIDE;
      const expires = this.e[b + W.EXPIRES]!;
      if (EXPIRED(now, expires)) this.#expire(id, now);
      else this.#wheel.link(id, now + ((expires - (now >>> 0)) | 0));
    }
    return n;
  }

  /** Expiry of one due entry; a template still controlling connections gets 60 s more (ip_vs_conn_expire). */
  #expire(id: number, now: number): boolean {
    const b = id * STRIDE;
    if (this.e[b + W.STATE]! & CF.TEMPLATE && this.e[b + W.CONTROL]! > 0) {
      this.e[b + W.STATE]! |= CF.BUSY;
      if (this.e[b + W.WPREV] !== 0) this.#wheel.unlink(id);
      this.e[b + W.EXPIRES] = 0;
      this.#arm(id, now, TEMPLATE_BUSY_TIMEOUT_S * 1000);
      return false;
    }
    this.stats[ConnStat.EXPIRED]!++;
    this.#free(id);
    return true;
  }

  /** Removes an entry now (flush, expire_nodest_conn, one-packet after its packet). */
  remove(id: number): void {
    if (!this.inUse(id)) return;
    this.stats[ConnStat.REMOVED]!++;
    this.#free(id);
  }

  #unchain(buckets: Uint32Array, h: number, id: number, word: number): void {
    const e = this.e;
    let cur = buckets[h]!;
    if (cur === id) {
      buckets[h] = e[id * STRIDE + word]!;
      return;
    }
    while (cur !== 0) {
      const next = e[cur * STRIDE + word]!;
      if (next === id) {
        e[cur * STRIDE + word] = e[id * STRIDE + word]!;
        return;
      }
      cur = next;
    }
  }

  #free(id: number): void {
    this.onExpire?.(id);
    const e = this.e;
    const b = id * STRIDE;
    const st = e[b + W.STATE]!;
    const svc = e[b + W.SVC_LIP]! & 0xffff;
    const proto = st & CF.UDP ? 17 : 6;
    const tmpl = st & CF.TEMPLATE;
    const port1 = tmpl ? 0 : e[b + W.PORTS]! & 0xffff;
    this.#unchain(
      this.#inBuckets,
      this.#inHash(proto, e, b + W.CADDR, port1, this.services.addr, svc * 4, e[b + W.PORTS]! >>> 16, tmpl),
      id,
      W.INEXT,
    );
    const dest = e[b + W.DEST]!;
    if (st & CF.OUT_HASHED) {
      const isFnat = (st & CF.FWD_MASK) >>> CF.FWD_SHIFT === Forwarding.FNAT;
      const dst = isFnat ? this.lips!.addr : e;
      const dof = isFnat ? (e[b + W.SVC_LIP]! >>> 16) * 4 : b + W.CADDR;
      const xport = isFnat ? e[b + W.RPORTS]! >>> 16 : e[b + W.PORTS]! & 0xffff;
      this.#unchain(
        this.#outBuckets,
        this.#outHash(proto, this.dests.addr, dest * 4, e[b + W.RPORTS]! & 0xffff, dst, dof, xport),
        id,
        W.ONEXT,
      );
    }
    if (e[b + W.WPREV] !== 0) this.#wheel.unlink(id);
    const d = this.dests;
    if (tmpl) d.persistConns[dest]!--;
    else if (st & CF.INACTIVE) d.inactConns[dest]!--;
    else d.activeConns[dest]!--;
    d.checkOverloadOnUnbind(dest);
    d.releaseIfUnused(dest);
    const t = e[b + W.CONTROL]!;
    if (!tmpl && t !== 0) e[t * STRIDE + W.CONTROL]!--;
    e[b + W.STATE] = 0;
    e[b + W.INEXT] = this.#freeHead;
    this.#freeHead = id;
    this.#count--;
    this.#updateDefence();
  }

  // ---- eviction when full -----------------------------------------------------------------------------

  #random(): number {
    let x = this.#rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#rng = x >>> 0;
    return this.#rng;
  }

  /**
   * Frees one entry for a new connection when the table is full, after IPVS `ip_vs_random_dropentry`:
   * sample random entries, evict a half-open TCP connection first, else a closing one; never an
   * established connection, a UDP session or a template.
   */
  #evict(): boolean {
    for (const [accept, stat] of EVICTION_TIERS) {
      for (let k = 0; k < 64; k++) {
        const id = 1 + (this.#random() % this.#highWater);
        const st = this.e[id * STRIDE + W.STATE]!;
        if (!(st & CF.IN_USE) || st & (CF.TEMPLATE | CF.UDP)) continue;
        if (accept(st & 0xff)) {
          this.stats[stat]!++;
          this.#free(id);
          return true;
        }
      }
    }
    return false;
  }
}

const EVICTION_TIERS: ReadonlyArray<readonly [(state: number) => boolean, number]> = [
  [isHalfOpenTcpState, ConnStat.EVICTED_HALF_OPEN],
  [
    (s) =>
      s === TcpState.TIME_WAIT ||
      s === TcpState.CLOSE ||
      s === TcpState.CLOSE_WAIT ||
      s === TcpState.LAST_ACK ||
      s === TcpState.FIN_WAIT,
    ConnStat.EVICTED_CLOSING,
  ],
];

export interface TimerWheelLike {
  link(id: number, at: number): void;
  unlink(id: number): void;
  nextCandidate(now: number): number;
}
