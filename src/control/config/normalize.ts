/**
 * Schema output -> `Config`: applies every default, resolves secrets, and runs the checks that need
 * more than one field (duplicates, address families, thresholds, mode-specific keys). Problems are
 * collected, never thrown, so the user sees all of them at once; load.ts attaches file positions.
 *
 * Decisions (documented in docs/config.md):
 * - keys that only the other data plane uses are warnings ("ignored"), so one file can be tried in
 *   proxy mode on a laptop and run in packet mode on the director;
 * - quorum above the number of real servers is a warning: the service stays down (sorry server),
 *   which is a legitimate maintenance setup, but usually a mistake;
 * - a VIP and its real servers may differ in family only in proxy mode (sockets bridge families;
 *   rewritten packets cannot).
 */
import { type Endpoint, formatEndpoint, formatIp } from '../../engine/addr.js';
import { normalizeHa } from './ha.js';
import { type ConfigIssue, IssueList } from './issues.js';
import type { RawConfig } from './schema.js';
import { type NormalizeContext, readSecret } from './secrets.js';
import { normalizeService } from './service.js';
import type { AdminConfig, Config, DataplaneConfig, ServiceConfig } from './types.js';

export function normalizeConfig(
  raw: RawConfig,
  ctx: NormalizeContext,
): { config: Config | null; issues: ConfigIssue[] } {
  const issues = new IssueList();
  const dataplane = normalizeDataplane(raw, issues);
  const timeouts = {
    tcpMs: raw.timeouts?.tcp ?? 900_000,
    tcpFinMs: raw.timeouts?.tcpFin ?? 120_000,
    udpMs: raw.timeouts?.udp ?? 300_000,
  };
  const services: ServiceConfig[] = [];
  const byKey = new Map<string, number>();
  const byName = new Map<string, number>();
  (raw.services ?? []).forEach((svc, i) => {
    const path = ['services', i];
    const protocol = svc.protocol ?? 'tcp';
    const key = `${protocol} ${formatEndpoint(svc.address)}`;
    const sameKey = byKey.get(key);
    if (sameKey !== undefined) {
      issues.error(
        [...path, 'address'],
        `duplicate service: ${key} is already defined by services[${sameKey}]`,
      );
    } else byKey.set(key, i);
    const sameName = byName.get(svc.name);
    if (sameName !== undefined) {
      issues.error([...path, 'name'], `duplicate service name '${svc.name}' (also services[${sameName}])`);
    } else byName.set(svc.name, i);
    const service = normalizeService(svc, path, { dataplane, timeouts }, issues);
    if (service) services.push(service);
  });
  const config: Config = {
    admin: normalizeAdmin(raw, ctx, issues),
    dataplane,
    timeouts,
    conntable: { size: raw.conntable?.size ?? 1_048_576 },
    log: { level: raw.log?.level ?? 'info' },
    services,
    ha: normalizeHa(raw.ha, services, ctx, issues),
  };
  return { config: issues.hasErrors ? null : config, issues: issues.items };
}

function isLoopback(e: Endpoint): boolean {
  if (e.addr.family === 4) return e.addr.words[0] >>> 24 === 127;
  return formatIp(e.addr) === '::1';
}

function normalizeAdmin(raw: RawConfig, ctx: NormalizeContext, issues: IssueList): AdminConfig {
  const admin = raw.admin ?? {};
  const listen = admin.listen ?? { addr: { family: 4, words: [0x7f000001, 0, 0, 0] }, port: 9090 };
  let token: string | null = null;
  if (admin.token !== undefined && admin.tokenFile !== undefined) {
    issues.error(['admin', 'tokenFile'], 'give either token or tokenFile, not both');
  } else if (admin.token !== undefined) token = admin.token;
  else if (admin.tokenFile !== undefined)
    token = readSecret(ctx, admin.tokenFile, ['admin', 'tokenFile'], issues);
  else if (ctx.env.TSLVS_TOKEN) token = ctx.env.TSLVS_TOKEN;
  if (token === null && !isLoopback(listen)) {
    issues.warn(
      ['admin', 'listen'],
      `the admin API listens on ${formatEndpoint(listen)} (not loopback) and no token is set: anyone who can reach it can read the state`,
    );
  }
  return { listen, token };
}

const PACKET_ONLY_DATAPLANE_KEYS = [
  'interface',
  'localAddresses',
  'vipInterface',
  'mtu',
  'answerPing',
  'pingRatePerSec',
  'xdp',
] as const;

function normalizeDataplane(raw: RawConfig, issues: IssueList): DataplaneConfig {
  const dp = raw.dataplane ?? {};
  if ((dp.kind ?? 'proxy') === 'proxy') {
    for (const key of PACKET_ONLY_DATAPLANE_KEYS) {
      if (dp[key] !== undefined) issues.warn(['dataplane', key], 'ignored: applies to kind: packet only');
    }
    return { kind: 'proxy' };
  }
  if (dp.interface === undefined) issues.error(['dataplane', 'interface'], 'is required when kind is packet');
  const local = dp.localAddresses ?? [];
  const seen = new Set<string>();
  local.forEach((a, i) => {
    const text = formatIp(a);
    if (seen.has(text)) issues.error(['dataplane', 'localAddresses', i], `duplicate local address ${text}`);
    seen.add(text);
  });
  return {
    kind: 'packet',
    interface: dp.interface ?? '',
    localAddresses: local,
    vipInterface: dp.vipInterface ?? null,
    mtu: dp.mtu ?? null,
    answerPing: dp.answerPing ?? true,
    pingRatePerSec: dp.pingRatePerSec ?? 0,
    xdp: dp.xdp ?? 'auto',
  };
}
