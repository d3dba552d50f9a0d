/**
 * Builds real services (DestTable + Service, so dests are linked in IPVS order and the scheduler hooks
 * run exactly as in production) from small tables of dests, plus a reusable flow key.
 */
import { parseIp } from '../../../src/engine/addr.js';
import { DestFlag, DestTable } from '../../../src/engine/dest-table.js';
import type { SchedulerName, SchedulerOptions } from '../../../src/engine/schedulers/names.js';
import { type FlowKey, newFlowKey, type SchedEnv } from '../../../src/engine/schedulers/scheduler.js';
import { Service } from '../../../src/engine/service.js';

export interface Row {
  name: string;
  addr?: string;
  port?: number;
  weight: number;
  active?: number;
  inact?: number;
  overloaded?: boolean;
}

export interface Built {
  svc: Service;
  table: DestTable;
  /** Dest id by row name. */
  id: Record<string, number>;
  /** Row name by dest id. */
  name(id: number): string;
  pick(flow?: FlowKey, now?: number): string;
  picks(n: number, flow?: FlowKey): string[];
  set(name: string, counters: { active?: number; inact?: number; overloaded?: boolean }): void;
}

/** A repeatable uniform source (mulberry32), or a fixed queue of values when given. */
export function testEnv(seedOrValues: number | number[] = 1): SchedEnv & { draws: number } {
  if (Array.isArray(seedOrValues)) {
    const q = [...seedOrValues];
    const env = {
      draws: 0,
      random() {
        env.draws++;
        const v = q.shift();
        if (v === undefined) throw new Error('test random source exhausted');
        return v;
      },
    };
    return env;
  }
  let a = seedOrValues >>> 0;
  const env = {
    draws: 0,
    random() {
      env.draws++;
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
  return env;
}

let nextAddr = 1;

export interface BuildOptions {
  /**
   * 'list': rows are given head first, as IPVS lists them (so they are added in reverse); 'added': rows
   * are added in the order given (the list ends up reversed).
   */
  order?: 'list' | 'added';
  /**
   * 'before' (default): the scheduler is set first and sees every add, as `ipvsadm -A` then `-a`.
   * 'after': the dests are added first and the scheduler is then set on the full list (its init_svc
   * sees them all), as `ipvsadm -E -s <sched>` on a populated service.
   */
  attach?: 'before' | 'after';
  options?: Partial<SchedulerOptions>;
  env?: SchedEnv;
}

export function build(scheduler: SchedulerName, rows: Row[], opts: BuildOptions = {}): Built {
  const attachAfter = opts.attach === 'after';
  const table = new DestTable();
  const svc = new Service(
    1,
    {
      name: 'test',
      protocol: 'tcp',
      address: parseIp('192.0.2.1'),
      port: 80,
      scheduler: attachAfter ? 'rr' : scheduler,
      schedulerOptions: opts.options ?? {},
    },
    table,
    opts.env ?? testEnv(),
  );
  const id: Record<string, number> = {};
  const names = new Map<number, string>();
  const ordered = (opts.order ?? 'list') === 'list' ? [...rows].reverse() : rows;
  for (const r of ordered) {
    const addr = r.addr ?? `10.9.${(nextAddr >> 8) & 255}.${nextAddr++ & 255}`;
    const d = svc.addDest({ address: parseIp(addr), port: r.port ?? 80, weight: r.weight });
    id[r.name] = d;
    names.set(d, r.name);
  }
  const set: Built['set'] = (name, c) => {
    const d = id[name]!;
    if (c.active !== undefined) table.activeConns[d] = c.active;
    if (c.inact !== undefined) table.inactConns[d] = c.inact;
    if (c.overloaded !== undefined) {
      if (c.overloaded) table.flags[d]! |= DestFlag.OVERLOAD;
      else table.flags[d]! &= ~DestFlag.OVERLOAD;
    }
  };
  for (const r of rows) set(r.name, r);
  if (attachAfter) svc.setScheduler(scheduler, opts.options ?? {});
  const defaultFlow = flowKey('198.51.100.7', 40000);
  const name = (d: number) => (d < 0 ? '-' : (names.get(d) ?? `#${d}`));
  const pick = (flow = defaultFlow, now = 0) => name(svc.schedule(flow, now));
  return {
    svc,
    table,
    id,
    name,
    pick,
    picks: (n, flow) => Array.from({ length: n }, () => pick(flow)),
    set,
  };
}

export function flowKey(src: string, sport = 40000, dst = '192.0.2.1', proto = 6): FlowKey {
  const f = newFlowKey();
  setFlow(f, src, sport, dst, proto);
  return f;
}

export function setFlow(f: FlowKey, src: string, sport = 40000, dst = '192.0.2.1', proto = 6): FlowKey {
  const s = parseIp(src);
  const d = parseIp(dst);
  f.af = s.family;
  f.proto = proto;
  f.sport = sport;
  f.dport = 80;
  for (let i = 0; i < 4; i++) {
    f.saddr[i] = s.words[i];
    f.daddr[i] = d.words[i];
  }
  return f;
}

/** Sets the flow's client address to the IPv4 address with the given 32-bit value. */
export function setFlowV4(f: FlowKey, src: number, sport = 40000): FlowKey {
  f.af = 4;
  f.saddr[0] = src >>> 0;
  f.saddr[1] = f.saddr[2] = f.saddr[3] = 0;
  f.sport = sport;
  return f;
}
