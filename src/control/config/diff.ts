/**
 * What changed between two normalized configs, so a reload touches only that (no delete-and-re-add:
 * the complaint users of keepalived and DPVS have about reloads). Pure: same inputs, same list; the
 * diff of a config with itself is empty.
 *
 * Identity: a service is its protocol + address (the name is a label, so a rename is a change of the
 * field `name`); a real server is its address within its service; a VRRP instance is its name.
 * The order of services and real servers in the file is not a change.
 *
 * Order of the list: global sections, removed services, then each service of the new config (added,
 * or changed and/or with real-server changes: removed, added, changed), then VRRP instances.
 */
import { formatEndpoint } from '../../engine/addr.js';
import type { Config, RealServerConfig, ServiceConfig, VrrpInstanceConfig } from './types.js';

export type GlobalSection = 'admin' | 'dataplane' | 'timeouts' | 'conntable' | 'log' | 'sync';

export type ConfigChange =
  | { kind: 'global-changed'; section: GlobalSection; fields: string[] }
  | { kind: 'service-added'; service: string; after: ServiceConfig }
  | { kind: 'service-removed'; service: string; before: ServiceConfig }
  | {
      kind: 'service-changed';
      service: string;
      fields: Exclude<keyof ServiceConfig, 'realServers'>[];
      before: ServiceConfig;
      after: ServiceConfig;
    }
  | { kind: 'realserver-added'; service: string; realServer: string; after: RealServerConfig }
  | { kind: 'realserver-removed'; service: string; realServer: string; before: RealServerConfig }
  | {
      kind: 'realserver-changed';
      service: string;
      realServer: string;
      fields: Exclude<keyof RealServerConfig, 'address'>[];
      before: RealServerConfig;
      after: RealServerConfig;
    }
  | { kind: 'vrrp-added'; instance: string; after: VrrpInstanceConfig }
  | { kind: 'vrrp-removed'; instance: string; before: VrrpInstanceConfig }
  | {
      kind: 'vrrp-changed';
      instance: string;
      fields: (keyof VrrpInstanceConfig)[];
      before: VrrpInstanceConfig;
      after: VrrpInstanceConfig;
    };

/** "tcp/10.0.0.1:80", "udp/[2001:db8::1]:53". */
export function serviceKey(s: Pick<ServiceConfig, 'protocol' | 'address'>): string {
  return `${s.protocol}/${formatEndpoint(s.address)}`;
}

export function realServerKey(rs: Pick<RealServerConfig, 'address'>): string {
  return formatEndpoint(rs.address);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The keys (of the union of both objects) whose values differ, in a stable order. */
function changedFields<T extends object>(a: T, b: T, skip: readonly string[] = []): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !skip.includes(k));
  return keys.filter((k) => !deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function byKey<T>(items: readonly T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((t) => [key(t), t]));
}

export function diffConfig(before: Config, after: Config): ConfigChange[] {
  const out: ConfigChange[] = [];
  const sections: [GlobalSection, object | null, object | null][] = [
    ['admin', before.admin, after.admin],
    ['dataplane', before.dataplane, after.dataplane],
    ['timeouts', before.timeouts, after.timeouts],
    ['conntable', before.conntable, after.conntable],
    ['log', before.log, after.log],
    ['sync', before.ha.sync, after.ha.sync],
  ];
  for (const [section, a, b] of sections) {
    const fields = a && b ? changedFields(a, b) : deepEqual(a, b) ? [] : Object.keys(a ?? b ?? {});
    if (fields.length > 0) out.push({ kind: 'global-changed', section, fields });
  }
  const oldServices = byKey(before.services, serviceKey);
  const newServices = byKey(after.services, serviceKey);
  for (const [key, svc] of oldServices) {
    if (!newServices.has(key)) out.push({ kind: 'service-removed', service: key, before: svc });
  }
  for (const [key, svc] of newServices) {
    const old = oldServices.get(key);
    if (!old) {
      out.push({ kind: 'service-added', service: key, after: svc });
      continue;
    }
    const fields = changedFields(old, svc, ['realServers']) as Exclude<keyof ServiceConfig, 'realServers'>[];
    if (fields.length > 0)
      out.push({ kind: 'service-changed', service: key, fields, before: old, after: svc });
    diffRealServers(key, old.realServers, svc.realServers, out);
  }
  const oldVrrp = byKey(before.ha.vrrp, (v) => v.name);
  const newVrrp = byKey(after.ha.vrrp, (v) => v.name);
  for (const [name, inst] of oldVrrp) {
    if (!newVrrp.has(name)) out.push({ kind: 'vrrp-removed', instance: name, before: inst });
  }
  for (const [name, inst] of newVrrp) {
    const old = oldVrrp.get(name);
    if (!old) out.push({ kind: 'vrrp-added', instance: name, after: inst });
    else {
      const fields = changedFields(old, inst) as (keyof VrrpInstanceConfig)[];
      if (fields.length > 0)
        out.push({ kind: 'vrrp-changed', instance: name, fields, before: old, after: inst });
    }
  }
  return out;
}

function diffRealServers(
  service: string,
  before: readonly RealServerConfig[],
  after: readonly RealServerConfig[],
  out: ConfigChange[],
): void {
  const oldRs = byKey(before, realServerKey);
  const newRs = byKey(after, realServerKey);
  for (const [key, rs] of oldRs) {
    if (!newRs.has(key)) out.push({ kind: 'realserver-removed', service, realServer: key, before: rs });
  }
  for (const [key, rs] of newRs) {
    const old = oldRs.get(key);
    if (!old) {
      out.push({ kind: 'realserver-added', service, realServer: key, after: rs });
      continue;
    }
    const fields = changedFields(old, rs, ['address']) as Exclude<keyof RealServerConfig, 'address'>[];
    if (fields.length > 0)
      out.push({ kind: 'realserver-changed', service, realServer: key, fields, before: old, after: rs });
  }
}
