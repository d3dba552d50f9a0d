/**
 * What the admin API shows for services and real servers: the configured block (`config`, exactly what
 * a PUT takes back) next to the running state the engine and the health checks report (effective
 * weight, connection counts, counters, rates, health with the last check and its reason).
 */
import { formatEndpoint } from '../../engine/addr.js';
import type { CounterSnapshot } from '../../engine/counters.js';
import type { Rates } from '../../engine/estimator.js';
import type { DestSnapshot, ServiceSnapshot } from '../../engine/snapshot.js';
import type { MonitorStatus } from '../../health/index.js';
import { realServerKey, serviceKey } from '../config/diff.js';
import { type RawObject, realServerToRaw, serviceToRaw } from '../config/raw.js';
import type { Config, RealServerConfig, ServiceConfig } from '../config/types.js';
import type { Director, RealServerHealth } from '../director/director.js';

export interface HealthView {
  healthy: boolean;
  kind: string;
  /** Monitor state; 'unknown' before the monitor exists. */
  state: 'up' | 'down' | 'unknown';
  checks: number;
  consecutiveOk: number;
  consecutiveFail: number;
  since: string | null;
  lastCheck: { ok: boolean; reason: string; durationMs: number; detail?: string } | null;
}

export interface RealServerView {
  address: string;
  config: RawObject;
  /** The weight the scheduler uses now (0 while an inhibited server is down). */
  weight: number;
  /** The weight in the config. */
  configuredWeight: number;
  maxConnections: number;
  lowerThreshold: number;
  forwarding: string;
  activeConns: number;
  inactConns: number;
  persistConns: number;
  /** In the scheduling list (false: taken out by a failed health check). */
  listed: boolean;
  overloaded: boolean;
  stats: CounterSnapshot;
  rates: Rates;
  health: HealthView;
}

export interface ServiceView {
  name: string;
  key: string;
  protocol: string;
  address: string;
  config: RawObject;
  /** The scheduler and its ipvsadm flags (sh-port...). */
  scheduler: { name: string; flags: string[] };
  persistence: { timeoutSeconds: number; prefixLength: number } | null;
  onePacket: boolean;
  /** Quorum state: false = below quorum (sorry server, else refused). */
  up: boolean;
  stats: CounterSnapshot;
  rates: Rates;
  realServers: RealServerView[];
}

const ZERO_STATS: CounterSnapshot = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
const ZERO_RATES: Rates = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };

function schedulerFlags(s: ServiceConfig): string[] {
  const flags: string[] = [];
  if (s.scheduler.options.fallback) flags.push(`${s.scheduler.name}-fallback`);
  if (s.scheduler.options.port) flags.push(`${s.scheduler.name}-port`);
  return flags;
}

export function destKey(d: DestSnapshot): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

/** Health by `service|realServer`, so views of many servers do not search the report for each. */
export type HealthIndex = ReadonlyMap<string, RealServerHealth>;

export function indexHealth(report: readonly RealServerHealth[]): HealthIndex {
  return new Map(report.map((h) => [`${h.service}|${h.realServer}`, h]));
}

export function healthView(h: RealServerHealth | undefined, kind: string): HealthView {
  const st: MonitorStatus | null = h?.status ?? null;
  const last = st?.lastResult ?? null;
  return {
    healthy: h?.healthy ?? true,
    kind,
    state: st ? st.state : 'unknown',
    checks: st?.checks ?? 0,
    consecutiveOk: st?.consecutiveOk ?? 0,
    consecutiveFail: st?.consecutiveFail ?? 0,
    since: st ? new Date(st.since).toISOString() : null,
    lastCheck: last
      ? {
          ok: last.ok,
          reason: last.reason,
          durationMs: last.durationMs,
          ...(last.detail !== undefined ? { detail: last.detail } : {}),
        }
      : null,
  };
}

function realServerView(
  rs: RealServerConfig,
  s: ServiceConfig,
  dests: ReadonlyMap<string, DestSnapshot>,
  health: HealthIndex,
): RealServerView {
  const address = realServerKey(rs);
  const d = dests.get(address);
  const key = serviceKey(s);
  return {
    address,
    config: realServerToRaw(rs, s),
    weight: d?.weight ?? 0,
    configuredWeight: rs.weight,
    maxConnections: rs.maxConnections,
    lowerThreshold: rs.lowerThreshold,
    forwarding: rs.forwarding,
    activeConns: d?.activeConns ?? 0,
    inactConns: d?.inactConns ?? 0,
    persistConns: d?.persistConns ?? 0,
    listed: d?.listed ?? false,
    overloaded: d?.overloaded ?? false,
    stats: d?.stats ?? ZERO_STATS,
    rates: d?.rates ?? ZERO_RATES,
    health: healthView(health.get(`${key}|${address}`), rs.health.kind),
  };
}

export function serviceView(
  s: ServiceConfig,
  config: Config,
  snap: ServiceSnapshot | undefined,
  health: HealthIndex,
  up: boolean,
): ServiceView {
  const key = serviceKey(s);
  const dests = new Map((snap?.dests ?? []).map((d) => [destKey(d), d]));
  const { realServers: _rs, ...block } = serviceToRaw(s, config);
  return {
    name: s.name,
    key,
    protocol: s.protocol,
    address: formatEndpoint(s.address),
    config: block,
    scheduler: { name: s.scheduler.name, flags: schedulerFlags(s) },
    persistence: s.persistence
      ? { timeoutSeconds: s.persistence.timeoutMs / 1000, prefixLength: s.persistence.prefixLength }
      : null,
    onePacket: s.onePacket,
    up,
    stats: snap?.stats ?? ZERO_STATS,
    rates: snap?.rates ?? ZERO_RATES,
    realServers: s.realServers.map((rs) => realServerView(rs, s, dests, health)),
  };
}

/** Views of every configured service, in config order. */
export async function serviceViews(director: Director): Promise<ServiceView[]> {
  const config = director.config;
  const snapshot = await director.host.snapshot();
  const byKey = new Map(snapshot.services.map((x) => [x.key, x]));
  const health = indexHealth(director.healthReport());
  return config.services.map((s) =>
    serviceView(s, config, byKey.get(serviceKey(s)), health, director.serviceUp(serviceKey(s))),
  );
}
