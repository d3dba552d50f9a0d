/**
 * The engine facade every data plane shares: services, their dests, the session table, Full-NAT local
 * addresses, and the scheduling entry point with IPVS's persistence rules (`ip_vs_schedule`,
 * `ip_vs_sched_persist`). Pure: time comes in as `now`, randomness through `random`.
 */
import type { IpAddress } from './addr.js';
import { CF } from './conntable/layout.js';
import { installSynced, linkSyncedToTemplate, type SyncedSession, SyncFlag } from './conntable/sync.js';
import { ConnTable, type ConnTableOptions, type NewConn, newConnParams } from './conntable/table.js';
import { DestFlag, DestTable } from './dest-table.js';
import { Forwarding } from './forwarding.js';
import { LocalAddressPool } from './local-addrs.js';
import type { FlowKey } from './schedulers/scheduler.js';
import type { Service } from './service.js';
import { ServiceTable } from './service-table.js';

export const BalancerStat = Object.freeze({
  /** No dest available and no sorry server (IPVS "no destination available"). */
  NO_DEST: 0,
  /** Session table full, nothing evictable. */
  TABLE_FULL: 1,
  /** FNAT: no free local port for the chosen RS. */
  NO_LOCAL_PORT: 2,
  /** Connections sent to the sorry server. */
  SORRY: 3,
  /** Templates found invalid (dest gone) and replaced. */
  TEMPLATE_INVALID: 4,
});
export const BALANCER_STAT_NAMES = Object.freeze([
  'no_dest',
  'table_full',
  'no_local_port',
  'sorry',
  'template_invalid',
] as const);

export interface BalancerOptions {
  conntable: ConnTableOptions;
  /** FNAT local addresses and the port range allocated on each. */
  localAddresses?: readonly IpAddress[];
  localPortRange?: readonly [number, number];
  /** Uniform [0, 1); schedulers (twos) and hash seeds use it. */
  random?: () => number;
  /** IPVS expire_quiescent_template: a weight-0 dest invalidates persistence templates. */
  expireQuiescentTemplate?: boolean;
}

/** Why `schedule` returned 0; one of BalancerStat. */
export type ScheduleFailure = (typeof BalancerStat)[keyof typeof BalancerStat];

export class Balancer {
  readonly dests = new DestTable();
  readonly services: ServiceTable;
  readonly conns: ConnTable;
  readonly lips: LocalAddressPool | null;
  readonly stats = new Float64Array(BALANCER_STAT_NAMES.length);
  expireQuiescentTemplate: boolean;
  /** Set when `schedule` returns 0. */
  lastFailure: ScheduleFailure = BalancerStat.NO_DEST;
  readonly #p: NewConn = newConnParams();
  readonly #snet = new Uint32Array(4);
  readonly #maxPortTries = 4096;

  constructor(opts: BalancerOptions) {
    const random = opts.random ?? Math.random;
    this.services = new ServiceTable(this.dests, { random });
    const [pmin, pmax] = opts.localPortRange ?? [1024, 65535];
    this.lips = opts.localAddresses?.length ? new LocalAddressPool(opts.localAddresses, pmin, pmax) : null;
    this.conns = new ConnTable(
      { seed: (random() * 0x100000000) >>> 0, ...opts.conntable },
      this.services,
      this.dests,
      this.lips,
    );
    this.expireQuiescentTemplate = opts.expireQuiescentTemplate ?? false;
  }

  /** The dest for a new connection of `svc`: quorum, scheduler, then the sorry server. -1 = none. */
  pick(svc: Service, flow: FlowKey, now: number): number {
    if (svc.up) {
      const d = svc.schedule(flow, now);
      if (d >= 0) return d;
    }
    if (svc.sorryDest >= 0) {
      this.stats[BalancerStat.SORRY]!++;
      return svc.sorryDest;
    }
    return -1;
  }

  #templateValid(t: number): boolean {
    const dest = this.conns.dest(t);
    const f = this.dests.flags[dest]!;
    if (!(f & DestFlag.AVAILABLE) || !(f & DestFlag.LISTED)) return false;
    return !(this.expireQuiescentTemplate && this.dests.weight[dest] === 0);
  }

  /**
   * Schedules a new connection for a client -> VIP flow of service `svcId` and creates its session
   * (plus a persistence template when the service is persistent). Returns the connection id, or 0 with
   * `lastFailure` set and counted. `onePacket` marks UDP one-packet scheduling (IPVS -o).
   */
  schedule(svcId: number, flow: FlowKey, now: number): number {
    const svc = this.services.get(svcId)!;
    const conns = this.conns;
    let dest = -1;
    let template = 0;
    const persist = svc.persistence;
    if (persist) {
      const snet = this.#snet;
      maskWords(flow.saddr, flow.af, persist.prefixLen, snet);
      const vport = svc.port;
      template = conns.lookupTemplate(svcId, flow.af, snet, vport, now);
      if (template !== 0 && !this.#templateValid(template)) {
        conns.setFlag(template, CF.DEAD, true);
        this.stats[BalancerStat.TEMPLATE_INVALID]!++;
        template = 0;
      }
      if (template !== 0) {
        dest = conns.dest(template);
      } else {
        dest = this.pick(svc, flow, now);
        if (dest < 0) return this.#fail(BalancerStat.NO_DEST);
        if (dest !== svc.sorryDest) {
          const dport = this.dests.port[dest] || 0;
          template = conns.createTemplate(svcId, dest, flow.af, snet, vport, dport, persist.timeoutMs, now);
          if (template === 0) return this.#fail(BalancerStat.TABLE_FULL);
        }
      }
    } else {
      dest = this.pick(svc, flow, now);
      if (dest < 0) return this.#fail(BalancerStat.NO_DEST);
    }
    const id = this.createConn(svc, dest, flow, 0, now);
    if (id !== 0 && template !== 0) conns.attachToTemplate(id, template, persist!.timeoutMs, now);
    return id;
  }

  /**
   * Creates the session for `flow` bound to `dest` (already chosen). FNAT connections get a local
   * address and port here. `extraFlags`: CF.SYNCED etc.
   */
  createConn(svc: Service, dest: number, flow: FlowKey, extraFlags: number, now: number): number {
    const p = this.#p;
    const d = this.dests;
    p.svc = svc.id;
    p.dest = dest;
    p.fwd = d.fwd[dest]!;
    p.af = flow.af;
    p.proto = flow.proto;
    for (let i = 0; i < 4; i++) p.caddr[i] = flow.saddr[i]!;
    p.cport = flow.sport;
    p.vport = flow.dport;
    p.dport = d.port[dest] || flow.dport;
    p.lip = 0;
    p.lport = 0;
    p.flags = extraFlags | (svc.onePacket && flow.proto === 17 ? CF.ONE_PACKET : 0);
    if (p.fwd === Forwarding.FNAT && !this.#allocLocal(p, now)) return this.#fail(BalancerStat.NO_LOCAL_PORT);
    const id = this.conns.create(p, now);
    return id === 0 ? this.#fail(BalancerStat.TABLE_FULL) : id;
  }

  /** Picks a local address (round robin) and a port free towards the chosen RS; false when exhausted. */
  #allocLocal(p: NewConn, now: number): boolean {
    const pool = this.lips;
    if (!pool) return false;
    const range = pool.portMax - pool.portMin + 1;
    const tries = Math.min(range, this.#maxPortTries);
    const rsAddr = this.dests.addr;
    for (let k = 0; k < pool.size; k++) {
      const lip = pool.pick(p.af);
      if (lip < 0) return false;
      let port = pool.cursor[lip]!;
      for (let t = 0; t < tries; t++) {
        if (port > pool.portMax || port < pool.portMin) port = pool.portMin;
        const used = this.conns.lookupOut(
          p.proto,
          p.af,
          rsAddr,
          p.dest * 4,
          p.dport,
          pool.addr,
          lip * 4,
          port,
          now,
        );
        if (used === 0) {
          p.lip = lip;
          p.lport = port;
          pool.cursor[lip] = port + 1 > pool.portMax ? pool.portMin : port + 1;
          return true;
        }
        port++;
      }
    }
    return false;
  }

  /**
   * Session sync: installs or updates a peer director's session or template (conntable/sync.ts: matched
   * by service and real-server address, Full-NAT local address and port kept, so this director's port
   * allocation steps around them) and puts a persistent connection under this director's copy of its
   * template. Returns the entry id or a negated InstallFail.
   */
  installSynced(r: SyncedSession, now: number, graceMs: number): number {
    const conns = this.conns;
    const id = installSynced(conns, r, now, graceMs);
    if (id > 0 && r.flags & SyncFlag.PERSISTENT && conns.control(id) === 0) {
      const svc = this.services.get(conns.svc(id))!;
      if (svc.persistence) {
        maskWords(r.caddr, r.af, svc.persistence.prefixLen, this.#snet);
        const tpl = conns.lookupTemplate(svc.id, r.af, this.#snet, svc.port, now);
        if (tpl !== 0) linkSyncedToTemplate(conns, id, tpl);
      }
    }
    return id;
  }

  #fail(why: ScheduleFailure): 0 {
    this.lastFailure = why;
    this.stats[why]!++;
    return 0;
  }

  /** Removes a service and every session and template it owns. */
  removeService(svc: Service): void {
    for (const id of this.conns.ids()) if (this.conns.svc(id) === svc.id) this.conns.remove(id);
    for (const id of [...svc.members.values()]) svc.removeDest(id);
    if (svc.sorryDest >= 0) this.setSorryServer(svc, null);
    this.services.remove(svc);
  }

  /** Sets or clears the sorry server (a dest outside the scheduling list). */
  setSorryServer(svc: Service, ep: { addr: IpAddress; port: number } | null): void {
    const d = this.dests;
    const cur = svc.sorryDest;
    if (cur >= 0 && ep && d.matches(cur, ep.addr, ep.port)) return;
    if (cur >= 0) {
      d.flags[cur]! &= ~DestFlag.AVAILABLE;
      d.releaseIfUnused(cur);
      svc.sorryDest = -1;
    }
    if (ep) {
      const id = d.alloc(svc.id, ep.addr, ep.port, svc.forwarding);
      d.setWeight(id, 1);
      svc.sorryDest = id;
    }
  }

  /** Expire-nodest: removes every session bound to `dest` (IPVS expire_nodest_conn on a failed RS). */
  removeConnsOf(dest: number): number {
    let n = 0;
    for (const id of this.conns.ids()) {
      if (this.conns.dest(id) === dest && !this.conns.isTemplate(id)) {
        this.conns.remove(id);
        n++;
      }
    }
    return n;
  }

  /** Housekeeping: expire sessions (bounded) and tick schedulers that keep caches. */
  tick(now: number, budget?: number): number {
    for (const s of this.services) s.tick(now);
    return this.conns.expire(now, budget);
  }
}

/** Writes `words` masked to `prefixLen` bits into `out` (no allocation). */
export function maskWords(words: ArrayLike<number>, af: number, prefixLen: number, out: Uint32Array): void {
  const n = af === 4 ? 1 : 4;
  for (let i = 0; i < 4; i++) {
    if (i >= n) {
      out[i] = 0;
      continue;
    }
    const keep = Math.max(0, Math.min(32, prefixLen - 32 * i));
    out[i] = keep === 0 ? 0 : (words[i]! & (0xffffffff << (32 - keep))) >>> 0;
  }
}
