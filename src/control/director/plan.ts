/**
 * Turns "the running config, the new config and what the health checks currently say" into the engine
 * operations that get from one to the other, touching only what changed (the config diff drives it), and
 * the per-service quorum state. Pure.
 */
import { Forwarding, forwardingFromName } from '../../engine/forwarding.js';
import type { EngineOp } from '../../engine/ops.js';
import type { DestSpec, ServiceSpec } from '../../engine/service.js';
import { type ConfigChange, diffConfig, realServerKey, serviceKey } from '../config/diff.js';
import type { Config, RealServerConfig, ServiceConfig } from '../config/types.js';

export type Mode = 'proxy' | 'packet';

/** Health as the director knows it; unknown real servers count as healthy (monitors start "up"). */
export type HealthLookup = (service: string, realServer: string) => boolean;

export function healthId(service: string, realServer: string): string {
  return `${service}|${realServer}`;
}

export function serviceSpecOf(s: ServiceConfig, mode: Mode): ServiceSpec {
  return {
    name: s.name,
    protocol: s.protocol,
    address: s.address.addr,
    port: s.address.port,
    scheduler: s.scheduler.name,
    schedulerOptions: s.scheduler.options,
    persistence: s.persistence
      ? { timeoutMs: s.persistence.timeoutMs, prefixLen: s.persistence.prefixLength }
      : null,
    onePacket: s.onePacket,
    forwarding: mode === 'proxy' ? Forwarding.PROXY : forwardingFromName(s.forwarding),
  };
}

/** The dest as the engine should hold it: a failed server with inhibitOnFailure keeps its place at weight 0. */
export function destSpecOf(rs: RealServerConfig, mode: Mode, healthy: boolean): DestSpec {
  return {
    address: rs.address.addr,
    port: rs.address.port,
    weight: healthy || !rs.inhibitOnFailure ? rs.weight : 0,
    upperThreshold: rs.maxConnections,
    lowerThreshold: rs.lowerThreshold,
    forwarding: mode === 'proxy' ? Forwarding.PROXY : forwardingFromName(rs.forwarding),
  };
}

/** Listed in the scheduling list: healthy, or failed but inhibited (weight 0 instead of removal). */
export function isListed(rs: RealServerConfig, healthy: boolean): boolean {
  return healthy || rs.inhibitOnFailure;
}

/**
 * keepalived's quorum with hysteresis: a service goes down when fewer than quorum - hysteresis servers are
 * healthy and comes back at quorum + hysteresis; in between it keeps its state.
 */
export function quorumUp(s: ServiceConfig, healthyCount: number, wasUp: boolean): boolean {
  if (wasUp) return healthyCount >= s.quorum - s.hysteresis;
  return healthyCount >= s.quorum + s.hysteresis;
}

export function healthyCount(s: ServiceConfig, health: HealthLookup): number {
  const key = serviceKey(s);
  return s.realServers.filter((rs) => health(key, realServerKey(rs))).length;
}

export interface Plan {
  changes: ConfigChange[];
  ops: EngineOp[];
  /** Quorum state of every service of the new config after the plan. */
  up: Map<string, boolean>;
  /** Changes the running engine cannot take (need a restart), as sentences. */
  needsRestart: string[];
}

const ENGINE_SERVICE_FIELDS = ['name', 'scheduler', 'persistence', 'forwarding', 'onePacket'] as const;

export function planChanges(
  before: Config | null,
  after: Config,
  health: HealthLookup,
  wasUp: ReadonlyMap<string, boolean>,
): Plan {
  const mode: Mode = after.dataplane.kind;
  const empty: Config = { ...after, services: [], ha: { vrrp: [], sync: null } };
  const changes = diffConfig(before ?? empty, after);
  const ops: EngineOp[] = [];
  const needsRestart: string[] = [];
  const newServices = new Map(after.services.map((s) => [serviceKey(s), s]));
  if (!before || changes.some((c) => c.kind === 'global-changed' && c.section === 'timeouts')) {
    ops.push({ op: 'setTimeouts', ...after.timeouts });
  }
  for (const c of changes) {
    switch (c.kind) {
      case 'global-changed':
        if (before && (c.section === 'conntable' || c.section === 'dataplane')) {
          needsRestart.push(`${c.section} (${c.fields.join(', ')}) changes take effect at the next restart`);
        }
        break;
      case 'service-removed':
        ops.push({ op: 'removeService', key: c.service });
        break;
      case 'service-added': {
        ops.push({ op: 'addService', spec: serviceSpecOf(c.after, mode) });
        for (const rs of c.after.realServers) {
          const ok = health(c.service, realServerKey(rs));
          ops.push({
            op: 'addDest',
            key: c.service,
            dest: destSpecOf(rs, mode, ok),
            listed: isListed(rs, ok),
          });
        }
        if (c.after.sorryServer)
          ops.push({ op: 'setSorryServer', key: c.service, sorry: c.after.sorryServer });
        break;
      }
      case 'service-changed': {
        const spec = serviceSpecOf(c.after, mode);
        const edit: Extract<EngineOp, { op: 'editService' }> = { op: 'editService', key: c.service };
        for (const f of c.fields) {
          if (f === 'name') edit.name = spec.name;
          if (f === 'scheduler')
            edit.scheduler = { name: spec.scheduler, options: spec.schedulerOptions ?? {} };
          if (f === 'persistence') edit.persistence = spec.persistence ?? null;
          if (f === 'forwarding') edit.forwarding = spec.forwarding!;
          if (f === 'onePacket') edit.onePacket = spec.onePacket ?? false;
        }
        if (c.fields.some((f) => (ENGINE_SERVICE_FIELDS as readonly string[]).includes(f))) ops.push(edit);
        if (c.fields.includes('sorryServer'))
          ops.push({ op: 'setSorryServer', key: c.service, sorry: c.after.sorryServer });
        break;
      }
      case 'realserver-removed':
        ops.push({ op: 'removeDest', key: c.service, rs: c.realServer });
        break;
      case 'realserver-added': {
        const ok = health(c.service, c.realServer);
        ops.push({
          op: 'addDest',
          key: c.service,
          dest: destSpecOf(c.after, mode, ok),
          listed: isListed(c.after, ok),
        });
        break;
      }
      case 'realserver-changed': {
        const ok = health(c.service, c.realServer);
        const engineFields = c.fields.filter((f) => f !== 'health');
        if (engineFields.length > 0)
          ops.push({ op: 'editDest', key: c.service, dest: destSpecOf(c.after, mode, ok) });
        if (isListed(c.before, ok) !== isListed(c.after, ok)) {
          ops.push({ op: 'setListed', key: c.service, rs: c.realServer, listed: isListed(c.after, ok) });
        }
        break;
      }
      default:
        break;
    }
  }
  const up = new Map<string, boolean>();
  for (const [key, s] of newServices) {
    const prev = wasUp.get(key);
    const now = quorumUp(s, healthyCount(s, health), prev ?? true);
    up.set(key, now);
    if (prev !== now) ops.push({ op: 'setServiceUp', key, up: now });
  }
  return { changes, ops, up, needsRestart };
}
