/**
 * Plain-data views of a running Balancer for the control plane (admin API, metrics, ipvsadm -L): services
 * with their real servers, counters and rates, and pages of the session table (ipvsadm -Lc). Allocates
 * freely: never called per packet.
 */
import { type Family, formatEndpoint, formatIp, type IpAddress } from './addr.js';
import { BALANCER_STAT_NAMES, type Balancer } from './balancer.js';
import { CONN_STAT_NAMES } from './conntable/table.js';
import { TCP_STATE_NAMES } from './conntable/tcp-states.js';
import type { CounterSnapshot } from './counters.js';
import { DestFlag } from './dest-table.js';
import type { RateEstimator, Rates } from './estimator.js';
import { FORWARDING_NAMES, type ForwardingName } from './forwarding.js';
import type { SchedulerName, SchedulerOptions } from './schedulers/names.js';
import type { ProtoName } from './service.js';

export interface DestSnapshot {
  address: string;
  port: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  forwarding: ForwardingName;
  activeConns: number;
  inactConns: number;
  persistConns: number;
  /** In the scheduling list (false: taken out by a failed health check). */
  listed: boolean;
  overloaded: boolean;
  stats: CounterSnapshot;
  rates: Rates;
}

export interface ServiceSnapshot {
  key: string;
  name: string;
  protocol: ProtoName;
  address: string;
  port: number;
  scheduler: SchedulerName;
  schedulerOptions: SchedulerOptions;
  persistence: { timeoutMs: number; prefixLen: number } | null;
  onePacket: boolean;
  forwarding: ForwardingName;
  up: boolean;
  sorryServer: string | null;
  stats: CounterSnapshot;
  rates: Rates;
  /** Listed dests in scheduling order, then unlisted ones. */
  dests: DestSnapshot[];
}

export interface EngineSnapshot {
  services: ServiceSnapshot[];
  conntable: {
    count: number;
    capacity: number;
    inDefence: boolean;
    timeouts: { tcpMs: number; tcpFinMs: number; udpMs: number };
    stats: Record<string, number>;
  };
  balancer: Record<string, number>;
}

export interface RateSources {
  services: RateEstimator;
  dests: RateEstimator;
}

function named(names: readonly string[], values: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  names.forEach((n, i) => {
    out[n] = values[i]!;
  });
  return out;
}

export function snapshotEngine(b: Balancer, rates: RateSources): EngineSnapshot {
  const d = b.dests;
  const services: ServiceSnapshot[] = [];
  for (const s of b.services) {
    const protocol: ProtoName = s.proto === 6 ? 'tcp' : 'udp';
    const ids = [...s.list, ...[...s.members.values()].filter((id) => !s.list.includes(id))];
    services.push({
      key: `${protocol}/${formatEndpoint({ addr: s.address, port: s.port })}`,
      name: s.name,
      protocol,
      address: formatIp(s.address),
      port: s.port,
      scheduler: s.schedulerName,
      schedulerOptions: { ...s.schedulerOptions },
      persistence: s.persistence ? { ...s.persistence } : null,
      onePacket: s.onePacket,
      forwarding: FORWARDING_NAMES[s.forwarding]!,
      up: s.up,
      sorryServer:
        s.sorryDest >= 0
          ? formatEndpoint({ addr: d.address(s.sorryDest), port: d.port[s.sorryDest]! })
          : null,
      stats: b.services.stats.snapshot(s.id),
      rates: rates.services.rates(s.id),
      dests: ids.map((id) => ({
        address: formatIp(d.address(id)),
        port: d.port[id]!,
        weight: d.weight[id]!,
        upperThreshold: d.uThreshold[id]!,
        lowerThreshold: d.lThreshold[id]!,
        forwarding: FORWARDING_NAMES[d.fwd[id]!]!,
        activeConns: d.activeConns[id]!,
        inactConns: d.inactConns[id]!,
        persistConns: d.persistConns[id]!,
        listed: (d.flags[id]! & DestFlag.LISTED) !== 0,
        overloaded: d.isOverloaded(id),
        stats: d.stats.snapshot(id),
        rates: rates.dests.rates(id),
      })),
    });
  }
  const c = b.conns;
  return {
    services,
    conntable: {
      count: c.count,
      capacity: c.capacity,
      inDefence: c.inDefence,
      timeouts: { tcpMs: c.tcpTimeoutMs[1]!, tcpFinMs: c.tcpTimeoutMs[4]!, udpMs: c.udpTimeoutMs },
      stats: named(CONN_STAT_NAMES, c.stats),
    },
    balancer: named(BALANCER_STAT_NAMES, b.stats),
  };
}

export interface ConnSnapshot {
  protocol: ProtoName;
  /** ipvsadm -Lc's state column: TCP state name, UDP, or NONE for a template. */
  state: string;
  expiresMs: number;
  client: string;
  virtual: string;
  realServer: string;
  /** FNAT local address:port; null otherwise. */
  local: string | null;
  forwarding: ForwardingName;
  template: boolean;
  service: string;
}

export interface ConnFilter {
  service?: string;
  /** Client address (exact) or address:port. */
  client?: string;
  /** Real server address:port or address. */
  realServer?: string;
  templates?: boolean;
}

function ipFromWords(e: Uint32Array, off: number, family: Family): IpAddress {
  return { family, words: [e[off]!, e[off + 1]!, e[off + 2]!, e[off + 3]!] };
}

/** One page of the session table in table order, with the total number of matches. */
export function listConns(
  b: Balancer,
  filter: ConnFilter,
  offset: number,
  limit: number,
  now: number,
): { total: number; items: ConnSnapshot[] } {
  const c = b.conns;
  const d = b.dests;
  const items: ConnSnapshot[] = [];
  let total = 0;
  for (const id of c.ids()) {
    const tmpl = c.isTemplate(id);
    if (filter.templates === false && tmpl) continue;
    const svc = b.services.get(c.svc(id));
    if (!svc) continue;
    const af = c.family(id);
    const protocol: ProtoName = c.proto(id) === 6 ? 'tcp' : 'udp';
    if (
      filter.service &&
      filter.service !== svc.name &&
      filter.service !== `${protocol}/${formatEndpoint({ addr: svc.address, port: svc.port })}`
    )
      continue;
    const caddr = formatIp(ipFromWords(c.e, id * 16, af));
    const client = formatEndpoint({ addr: ipFromWords(c.e, id * 16, af), port: c.cport(id) });
    if (filter.client && filter.client !== caddr && filter.client !== client) continue;
    const dest = c.dest(id);
    const rsAddr = d.address(dest);
    const rs = formatEndpoint({ addr: rsAddr, port: c.dport(id) });
    if (filter.realServer && filter.realServer !== rs && filter.realServer !== formatIp(rsAddr)) continue;
    total++;
    if (total <= offset || items.length >= limit) continue;
    const fwd = c.fwd(id);
    const lips = b.lips;
    items.push({
      protocol,
      state: tmpl ? 'NONE' : protocol === 'udp' ? 'UDP' : TCP_STATE_NAMES[c.state(id)]!,
      expiresMs: Math.max(0, c.remainingMs(id, now)),
      client,
      virtual: formatEndpoint({ addr: svc.address, port: c.vport(id) }),
      realServer: rs,
      local:
        fwd === 3 && lips && !tmpl
          ? formatEndpoint({ addr: lips.addresses[c.lip(id)]!, port: c.lport(id) })
          : null,
      forwarding: FORWARDING_NAMES[fwd]!,
      template: tmpl,
      service: svc.name,
    });
  }
  return { total, items };
}
