/**
 * Health-check specs from config: which keys each kind accepts, the merge of a real server's override
 * over its service's block, and the defaults. The result is exactly `HealthCheckSpec` from
 * src/health/spec.ts (durations in ms), so the health monitor never sees config syntax.
 */
import { HEALTH_DEFAULTS, type HealthCheckSpec, type HealthKind } from '../../health/spec.js';
import type { IssuePath } from './issues.js';
import type { RawHealth } from './schema.js';
import type { Protocol } from './types.js';

type HealthKey = keyof RawHealth;

const COMMON_KEYS: readonly HealthKey[] = ['kind', 'interval', 'timeout', 'rise', 'fall', 'port'];
const HTTP_KEYS: readonly HealthKey[] = ['method', 'path', 'host', 'expectStatus', 'bodyRegex'];

const KEYS_BY_KIND: Readonly<Record<HealthKind, readonly HealthKey[]>> = {
  tcp: COMMON_KEYS,
  http: [...COMMON_KEYS, ...HTTP_KEYS],
  https: [...COMMON_KEYS, ...HTTP_KEYS, 'tlsVerify', 'sni'],
  udp: [...COMMON_KEYS, 'payload', 'expectRegex'],
  dns: [...COMMON_KEYS, 'query', 'queryType'],
  smtp: [...COMMON_KEYS, 'helo'],
  exec: [...COMMON_KEYS, 'command'],
  none: COMMON_KEYS,
};

/**
 * Without a health block a TCP service gets a TCP connect check. A UDP service gets none: a connect
 * to a UDP-only port always fails and an unanswered datagram proves nothing, so there is no check
 * that is right by default (keepalived also treats a server without a checker as up).
 */
export function defaultHealthKind(protocol: Protocol): HealthKind {
  return protocol === 'tcp' ? 'tcp' : 'none';
}

export interface HealthReport {
  error(path: IssuePath, message: string): void;
}

function checkKeys(raw: RawHealth, kind: HealthKind, path: IssuePath, report: HealthReport): boolean {
  let ok = true;
  const allowed = KEYS_BY_KIND[kind];
  for (const key of Object.keys(raw) as HealthKey[]) {
    if (raw[key] === undefined || allowed.includes(key)) continue;
    const kinds = (Object.keys(KEYS_BY_KIND) as HealthKind[]).filter((k) => KEYS_BY_KIND[k].includes(key));
    report.error([...path, key], `does not apply to '${kind}' checks (only to ${kinds.join(', ')})`);
    ok = false;
  }
  return ok;
}

/** Checks a service's own health block; false when it has keys its kind does not take. */
export function checkServiceHealth(
  raw: RawHealth | undefined,
  protocol: Protocol,
  path: IssuePath,
  report: HealthReport,
): boolean {
  return raw === undefined || checkKeys(raw, raw.kind ?? defaultHealthKind(protocol), path, report);
}

/**
 * The effective raw block of a real server: its override merged over the service's. When the override
 * switches kind, only the kind-independent keys (timers, thresholds, port) are inherited.
 */
export function mergeHealth(
  service: RawHealth | undefined,
  override: RawHealth | undefined,
  protocol: Protocol,
  overridePath: IssuePath,
  report: HealthReport,
): RawHealth | null {
  const serviceKind = service?.kind ?? defaultHealthKind(protocol);
  if (override === undefined) return { ...service, kind: serviceKind };
  const kind = override.kind ?? serviceKind;
  if (!checkKeys(override, kind, overridePath, report)) return null;
  const inherited: RawHealth = {};
  for (const key of Object.keys(service ?? {}) as HealthKey[]) {
    if (kind === serviceKind || COMMON_KEYS.includes(key)) Object.assign(inherited, { [key]: service![key] });
  }
  const merged: RawHealth = { ...inherited, kind };
  for (const key of Object.keys(override) as HealthKey[]) {
    if (override[key] !== undefined) Object.assign(merged, { [key]: override[key] });
  }
  return merged;
}

/** Defaults applied to a merged block whose keys all apply to its kind. */
export function buildHealthSpec(
  raw: RawHealth,
  path: IssuePath,
  report: HealthReport,
): HealthCheckSpec | null {
  const common = {
    intervalMs: raw.interval ?? HEALTH_DEFAULTS.intervalMs,
    timeoutMs: raw.timeout ?? HEALTH_DEFAULTS.timeoutMs,
    rise: raw.rise ?? HEALTH_DEFAULTS.rise,
    fall: raw.fall ?? HEALTH_DEFAULTS.fall,
    ...(raw.port !== undefined ? { port: raw.port } : {}),
  };
  const kind = raw.kind ?? 'tcp';
  switch (kind) {
    case 'tcp':
    case 'none':
      return { kind, ...common };
    case 'http':
    case 'https': {
      return {
        kind,
        ...common,
        method: raw.method ?? 'GET',
        path: raw.path ?? '/',
        ...(raw.host !== undefined ? { host: raw.host } : {}),
        expectStatus: raw.expectStatus ?? [200],
        ...(raw.bodyRegex !== undefined ? { bodyRegex: raw.bodyRegex } : {}),
        tlsVerify: raw.tlsVerify ?? false,
        ...(raw.sni !== undefined ? { sni: raw.sni } : {}),
      };
    }
    case 'udp':
      return {
        kind,
        ...common,
        payload: raw.payload ?? '',
        ...(raw.expectRegex !== undefined ? { expectRegex: raw.expectRegex } : {}),
      };
    case 'dns':
      return { kind, ...common, query: raw.query ?? '.', queryType: raw.queryType ?? 'SOA' };
    case 'smtp':
      return { kind, ...common, helo: raw.helo ?? 'tslvs' };
    case 'exec':
      if (raw.command === undefined) {
        report.error([...path, 'command'], "is required for 'exec' checks (an argv list)");
        return null;
      }
      return { kind, ...common, command: raw.command };
  }
}
