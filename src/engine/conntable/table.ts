/**
 * The session table (IPVS `ip_vs_conn.c`): every connection and persistence template in fixed-capacity
 * typed arrays (layout.ts), hashed in and out (hash-index.ts), expired by a timer wheel (wheel.ts), with a
 * hard entry limit and a counted eviction policy when full.
 */
import type { Family } from '../addr.js';
import type { DestTable } from '../dest-table.js';
import { Forwarding, seesReplies } from '../forwarding.js';
import type { LocalAddressPool } from '../local-addrs.js';
import type { FlowKey } from '../schedulers/scheduler.js';
import type { ServiceTable } from '../service-table.js';
import { ConnEntries } from './entries.js';
import { ConnIndex, type FlowBatch } from './hash-index.js';
import type { SyncJournal } from './journal.js';
import { CF, STRIDE, W } from './layout.js';
import {
  DEFAULT_TCP_TIMEOUTS_S,
  DEFAULT_UDP_TIMEOUT_S,
  isHalfOpenTcpState,
  NEW_CONN_TIMEOUT_S,
  TcpState,
  TEMPLATE_BUSY_TIMEOUT_S,
} from './tcp-states.js';
import { setTcpState, tcpTransition, udpTransition } from './transitions.js';
import { CONN_STAT_NAMES, ConnStat, type ConnTableOptions, type DefenceMode, type NewConn } from './types.js';
import { TimerWheel } from './wheel.js';

export {
  CONN_STAT_NAMES,
  ConnStat,
  type ConnTableOptions,
  type DefenceMode,
  type NewConn,
  newConnParams,
} from './types.js';

/** Wrap-safe "expiry time reached", as the kernel's time_after on jiffies. */
function due(now: number, expires: number): boolean {
  return (((now >>> 0) - expires) | 0) >= 0;
}

/**
 * Two buckets per entry (4 bytes more per entry per index): at one per entry a full table's chains hold
 * two entries on average and long-lived sessions sit behind every newer one hashed to their bucket
 * (insertion is at the head), each step one more cache miss on a lookup; at two the extra steps halve.
 * Capped so a bucket number stays a small integer for V8.
 */
function bucketsFor(capacity: number): number {
  return Math.min(capacity * 2, 0x7ffffffe);
}

const CLOSING = (s: number) =>
  s === TcpState.TIME_WAIT ||
  s === TcpState.CLOSE ||
  s === TcpState.CLOSE_WAIT ||
  s === TcpState.LAST_ACK ||
  s === TcpState.FIN_WAIT;

export class ConnTable extends ConnEntries {
  readonly stats = new Float64Array(CONN_STAT_NAMES.length);
  /** Called for each entry just before it is freed (expiry, eviction or removal), fields still readable. */
  onExpire: ((id: number) => void) | null = null;
  /**
   * Asked before a due entry expires: true keeps it for another timeout. For packets this table does not
   * see (the XDP fast path forwards them and counts them in its map): a session must not expire while
   * they flow, however long the fast path takes to read its counters back on its own.
   */
  keepAlive: ((id: number) => boolean) | null = null;
  /** Session sync: new and changed entries are queued here while it is active (journal.ts). */
  journal: SyncJournal | null = null;
  /** TCP timeouts per state, ms (`ipvsadm --set` changes ESTABLISHED and FIN_WAIT). */
  readonly tcpTimeoutMs = Uint32Array.from(DEFAULT_TCP_TIMEOUTS_S, (s) => s * 1000);
  udpTimeoutMs = DEFAULT_UDP_TIMEOUT_S * 1000;
  defence: DefenceMode;
  readonly services: ServiceTable;
  readonly dests: DestTable;
  readonly lips: LocalAddressPool | null;
  #inDefence = false;
  #count = 0;
  #freeHead = 0;
  #rng: number;
  readonly #index: ConnIndex;
  readonly #wheel: TimerWheel;

  constructor(
    opts: ConnTableOptions,
    services: ServiceTable,
    dests: DestTable,
    lips: LocalAddressPool | null,
  ) {
    super(opts.capacity);
    const seed = (opts.seed ?? Math.random() * 0x100000000) >>> 0;
    this.#rng = seed | 1;
    this.defence = opts.defence ?? 'auto';
    this.#inDefence = this.defence === 'on';
    this.services = services;
    this.dests = dests;
    this.lips = lips;
    this.#index = new ConnIndex(this.e, bucketsFor(opts.capacity), seed, services, dests, lips);
    this.#wheel = new TimerWheel(this.e, opts.tickMs ?? 128, opts.wheelSlots ?? 8192);
  }

  get count(): number {
    return this.#count;
  }

  /** Bytes of every array the table owns (entries, both hash indexes, the wheel). */
  get byteLength(): number {
    return this.e.byteLength + this.#index.byteLength + this.#wheel.byteLength;
  }

  /**
   * The large arrays, for a host that can give the memory system advice (huge pages: at 10M entries a
   * random lookup otherwise pays TLB misses on top of cache misses).
   */
  get largeArrays(): Uint32Array[] {
    return [this.e, ...this.#index.arrays];
  }

  get inDefence(): boolean {
    return this.#inDefence;
  }

  // ---- session sync journal -------------------------------------------------------------------------

  /** Queues a new or changed entry for session sync (once until taken; nothing when sync is off). */
  override markChanged(id: number): void {
    const j = this.journal;
    if (j === null || !j.active) return;
    const b = id * STRIDE + W.STATE;
    const st = this.e[b]!;
    if (st & CF.SYNC_PENDING) return;
    if (j.push(id)) this.e[b] = (st | CF.SYNC_PENDING) >>> 0;
  }

  // ---- lookups ----------------------------------------------------------------------------------------

  /** An entry a lookup found overdue is expired on the spot; returns the id or 0 when it is gone. */
  #live(id: number, now: number): number {
    if (id === 0 || !due(now, this.e[id * STRIDE + W.EXPIRES]!)) return id;
    return this.#expire(id, now) ? 0 : id;
  }

  /** The connection of a client -> VIP packet, or 0. */
  lookupIn(flow: FlowKey, now: number): number {
    const id = this.#index.findIn(
      flow.proto,
      flow.af,
      flow.saddr,
      0,
      flow.sport,
      flow.daddr,
      0,
      flow.dport,
      0,
    );
    return this.#live(id, now);
  }

  /**
   * `lookupIn` for a batch of keys at once (ids into `out`, 0 = none); the cache misses of the batch
   * overlap, which is what makes a 10M-entry table fast (see ConnIndex.findInBatch).
   */
  lookupInBatch(batch: FlowBatch, out: Uint32Array, now: number): void {
    this.#index.findInBatch(batch, out);
    for (let k = 0; k < batch.count; k++) out[k] = this.#live(out[k]!, now);
  }

  /** The persistence template for (service, client net, vport), or 0. */
  lookupTemplate(svc: number, af: number, snet: ArrayLike<number>, vport: number, now: number): number {
    const s = this.services;
    return this.#live(
      this.#index.findIn(s.proto[svc]!, af, snet, 0, 0, s.addr, svc * 4, vport, CF.TEMPLATE),
      now,
    );
  }

  /** `lookupOut` for a batch of reply keys (FlowBatch: saddr/sport = RS, daddr/dport = client or LIP). */
  lookupOutBatch(batch: FlowBatch, out: Uint32Array, now: number): void {
    this.#index.findOutBatch(batch, out);
    for (let k = 0; k < batch.count; k++) out[k] = this.#live(out[k]!, now);
  }

  /** The NAT/FNAT connection of a reply from `src:sport` (RS) to `dst:dport` (client or local address). */
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
    return this.#live(this.#index.findOut(proto, af, src, so, sport, dst, dof, dport), now);
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
      id = ++this.hw;
    }
    this.#count++;
    this.#updateDefence();
    return id;
  }

  #updateDefence(): void {
    if (this.defence !== 'auto') {
      this.#inDefence = this.defence === 'on';
    } else if (!this.#inDefence && this.#count * 4 >= this.capacity * 3) {
      this.#inDefence = true;
      this.stats[ConnStat.DEFENCE_ON]!++;
    } else if (this.#inDefence && this.#count * 2 < this.capacity) {
      this.#inDefence = false;
    }
  }

  #fill(
    id: number,
    flags: number,
    caddr: ArrayLike<number>,
    ports: number,
    rports: number,
    svcLip: number,
    dest: number,
  ): void {
    const e = this.e;
    const b = id * STRIDE;
    for (let i = 0; i < 4; i++) e[b + W.CADDR + i] = caddr[i]!;
    e[b + W.PORTS] = ports >>> 0;
    e[b + W.RPORTS] = rports >>> 0;
    e[b + W.SVC_LIP] = svcLip >>> 0;
    e[b + W.DEST] = dest;
    e[b + W.STATE] = flags >>> 0;
    e[b + W.CONTROL] = 0;
    e[b + W.SEQ] = 0;
    e[b + W.ONEXT] = 0;
  }

  /**
   * Creates a connection bound to `p.dest` (IPVS `ip_vs_conn_new` + `ip_vs_bind_dest`): state NONE, 3 s
   * until its first packet runs the state machine, counted as inactive. Returns the id, or 0 when the
   * table is full and nothing could be evicted (counted).
   */
  create(p: NewConn, now: number): number {
    const id = this.#alloc();
    if (id === 0) return 0;
    let flags = CF.IN_USE | CF.INACTIVE | (p.fwd << CF.FWD_SHIFT) | p.flags;
    if (p.af === 6) flags |= CF.AF6;
    if (p.proto === 17) flags |= CF.UDP;
    if (!seesReplies(p.fwd)) flags |= CF.NOOUTPUT;
    this.#fill(
      id,
      flags,
      p.caddr,
      p.cport | (p.vport << 16),
      p.dport | (p.lport << 16),
      p.svc | (p.lip << 16),
      p.dest,
    );
    this.#index.insertIn(id);
    if (p.fwd === Forwarding.NAT || p.fwd === Forwarding.FNAT) this.#index.insertOut(id);
    this.arm(id, now, p.flags & CF.ONE_PACKET ? 0 : NEW_CONN_TIMEOUT_S * 1000);
    const d = this.dests;
    d.inactConns[p.dest]!++;
    d.checkOverloadOnBind(p.dest);
    // A synced copy is not a connection scheduled here (IPVS counts conns in ip_vs_schedule only).
    if (!(p.flags & CF.SYNCED)) {
      d.stats.conn(p.dest);
      this.services.stats.conn(p.svc);
    }
    this.stats[ConnStat.CREATED]!++;
    this.markChanged(id);
    return id;
  }

  /** Creates a persistence template (client net -> dest), counted in the dest's persistent connections. */
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
    let flags = CF.IN_USE | CF.TEMPLATE | CF.NOOUTPUT;
    if (af === 6) flags |= CF.AF6;
    if (this.services.proto[svc] === 17) flags |= CF.UDP;
    this.#fill(id, flags, snet, vport << 16, dport, svc, dest);
    this.#index.insertIn(id);
    this.arm(id, now, timeoutMs);
    this.dests.persistConns[dest]!++;
    this.dests.checkOverloadOnBind(dest);
    this.stats[ConnStat.TEMPLATES_CREATED]!++;
    this.markChanged(id);
    return id;
  }

  /** Puts `conn` under `template`'s control (n_control++) and re-arms the template. */
  attachToTemplate(conn: number, template: number, timeoutMs: number, now: number): void {
    this.e[conn * STRIDE + W.CONTROL] = template;
    this.e[template * STRIDE + W.CONTROL]!++;
    this.e[template * STRIDE + W.STATE]! &= ~CF.BUSY;
    this.arm(template, now, timeoutMs);
  }

  // ---- timers and state ----------------------------------------------------------------------------

  /** Timeout of an entry in its current state, ms. */
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

  /** Expiry = now + timeout. Moving it later is lazy (see wheel.ts); moving it earlier relinks at once. */
  arm(id: number, now: number, timeoutMs: number): void {
    const b = id * STRIDE;
    const next = (now + timeoutMs) >>> 0;
    const linked = this.e[b + W.WPREV] !== 0;
    const earlier = linked && ((next - this.e[b + W.EXPIRES]!) | 0) < 0;
    this.e[b + W.EXPIRES] = next;
    if (earlier) this.#wheel.unlink(id);
    if (!linked || earlier) this.#wheel.link(id, now + timeoutMs);
  }

  /** Re-arms with the current state's timeout (every packet: `ip_vs_conn_put`). */
  touch(id: number, now: number): void {
    this.arm(id, now, this.timeoutOf(id));
  }

  /** One TCP packet through IPVS's state machine; `dir` Dir.INPUT or Dir.OUTPUT. Returns the new state. */
  tcpTransition(id: number, dir: number, tcpFlags: number, now: number): number {
    return tcpTransition(this, id, dir, tcpFlags, now);
  }

  udpTransition(id: number, dir: number, now: number): void {
    udpTransition(this, id, dir, now);
  }

  /** Sets a TCP state directly (socket proxy, session sync), with the same counter bookkeeping. */
  setState(id: number, state: number, now: number): void {
    setTcpState(this, id, state, now);
  }

  // ---- expiry and removal ---------------------------------------------------------------------------

  /** Expires due entries, looking at `budget` entries at most (a packet loop bounds its pause). */
  expire(now: number, budget = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < budget) {
      const id = this.#wheel.nextCandidate(now);
      if (id === 0) break;
      n++;
      const expires = this.e[id * STRIDE + W.EXPIRES]!;
      if (due(now, expires)) this.#expire(id, now);
      else this.#wheel.link(id, now + ((expires - (now >>> 0)) | 0));
    }
    return n;
  }

  /** A due entry goes, except a template still controlling connections: 60 s more (ip_vs_conn_expire). */
  #expire(id: number, now: number): boolean {
    const b = id * STRIDE;
    if (this.e[b + W.STATE]! & CF.TEMPLATE && this.e[b + W.CONTROL]! > 0) {
      this.e[b + W.STATE]! |= CF.BUSY;
      if (this.e[b + W.WPREV] !== 0) this.#wheel.unlink(id);
      this.arm(id, now, TEMPLATE_BUSY_TIMEOUT_S * 1000);
      return false;
    }
    if (this.keepAlive?.(id)) {
      this.stats[ConnStat.KEPT_ALIVE]!++;
      this.touch(id, now);
      return false;
    }
    this.stats[ConnStat.EXPIRED]!++;
    this.#free(id);
    return true;
  }

  /** Removes an entry now (flush, expire_nodest_conn, a one-packet connection after its packet). */
  remove(id: number): void {
    if (!this.inUse(id)) return;
    this.stats[ConnStat.REMOVED]!++;
    this.#free(id);
  }

  #free(id: number): void {
    this.onExpire?.(id);
    const e = this.e;
    const b = id * STRIDE;
    const st = e[b + W.STATE]!;
    this.#index.remove(id);
    if (e[b + W.WPREV] !== 0) this.#wheel.unlink(id);
    const dest = e[b + W.DEST]!;
    const d = this.dests;
    if (st & CF.TEMPLATE) d.persistConns[dest]!--;
    else if (st & CF.INACTIVE) d.inactConns[dest]!--;
    else d.activeConns[dest]!--;
    d.checkOverloadOnUnbind(dest);
    d.releaseIfUnused(dest);
    const ctl = e[b + W.CONTROL]!;
    if (!(st & CF.TEMPLATE) && ctl !== 0) e[ctl * STRIDE + W.CONTROL]!--;
    e[b + W.STATE] = 0;
    e[b + W.INEXT] = this.#freeHead;
    this.#freeHead = id;
    this.#count--;
    this.#updateDefence();
  }

  /**
   * Frees one entry for a new connection when full, after IPVS `ip_vs_random_dropentry`: sample random
   * entries, evict a half-open TCP connection first, else a closing one; never an established
   * connection, a UDP session or a template.
   */
  #evict(): boolean {
    for (let tier = 0; tier < 2; tier++) {
      for (let k = 0; k < 64; k++) {
        let x = this.#rng;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        this.#rng = x >>> 0;
        const id = 1 + (this.#rng % this.hw);
        const st = this.e[id * STRIDE + W.STATE]!;
        if (!(st & CF.IN_USE) || st & (CF.TEMPLATE | CF.UDP)) continue;
        if (tier === 0 ? isHalfOpenTcpState(st & 0xff) : CLOSING(st & 0xff)) {
          this.stats[tier === 0 ? ConnStat.EVICTED_HALF_OPEN : ConnStat.EVICTED_CLOSING]!++;
          this.#free(id);
          return true;
        }
      }
    }
    return false;
  }
}
