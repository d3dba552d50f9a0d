/**
 * The raw-config round trip: a normalized `Config` back to the plain data a config file would hold
 * (`configToRaw`), and plain data through the same schema and normalizer as a file (`validateRawConfig`).
 * The admin API edits the running config this way, so every change made over HTTP gets exactly the
 * validation, defaults and messages a file gets, and `validateRawConfig(configToRaw(c))` equals `c`.
 *
 * The raw form is minimal: a value equal to its default is left out, so a default that depends on
 * another value keeps following it (an `idleTimeout` left to `timeouts.tcp` moves with `--set`).
 * Secrets are written out in clear: raw configs stay inside the daemon (the API shows `configToJson`).
 */
import { formatEndpoint, formatIp, formatNetmask } from '../../engine/addr.js';
import { DEFAULT_SCHEDULER_OPTIONS } from '../../engine/schedulers/names.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { HEALTH_DEFAULTS, type HealthCheckSpec } from '../../health/spec.js';
import { formatDuration } from './duration.js';
import { SYNC_DEFAULTS } from './ha.js';
import { defaultHealthKind } from './health.js';
import { type ConfigIssue, formatPath, fromZodIssues, makeErrorMap } from './issues.js';
import { normalizeConfig } from './normalize.js';
import { configSchema } from './schema.js';
import type { NormalizeContext } from './secrets.js';
import { DEFAULT_FORWARDING, DEFAULT_PERSISTENCE_MS, DEFAULT_SCHEDULER } from './service.js';
import type {
  Config,
  RealServerConfig,
  SchedulerConfig,
  ServiceConfig,
  VrrpInstanceConfig,
} from './types.js';

/** A config as plain data (what YAML or JSON text parses to). */
export type RawObject = Record<string, unknown>;

const DEFAULT_ADMIN_LISTEN = '127.0.0.1:9090';
const DEFAULT_TIMEOUTS = { tcpMs: 900_000, tcpFinMs: 120_000, udpMs: 300_000 };
const DEFAULT_CONNTABLE_SIZE = 1_048_576;
const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

/** Sets `key` unless `value` is undefined or equals `dflt`. */
function put(out: RawObject, key: string, value: unknown, dflt?: unknown): void {
  if (value === undefined || value === null || value === dflt) return;
  out[key] = value;
}

export function configToRaw(c: Config): RawObject {
  const out: RawObject = {};
  const admin: RawObject = {};
  put(admin, 'listen', formatEndpoint(c.admin.listen), DEFAULT_ADMIN_LISTEN);
  put(admin, 'token', c.admin.token);
  if (Object.keys(admin).length > 0) out.admin = admin;
  if (c.dataplane.kind === 'packet') {
    const dp: RawObject = { kind: 'packet', interface: c.dataplane.interface };
    if (c.dataplane.localAddresses.length > 0) dp.localAddresses = c.dataplane.localAddresses.map(formatIp);
    put(dp, 'vipInterface', c.dataplane.vipInterface);
    put(dp, 'mtu', c.dataplane.mtu);
    put(dp, 'answerPing', c.dataplane.answerPing, true);
    put(dp, 'pingRatePerSec', c.dataplane.pingRatePerSec, 0);
    put(dp, 'xdp', c.dataplane.xdp, 'auto');
    out.dataplane = dp;
  }
  const timeouts: RawObject = {};
  put(timeouts, 'tcp', ms(c.timeouts.tcpMs), ms(DEFAULT_TIMEOUTS.tcpMs));
  put(timeouts, 'tcpFin', ms(c.timeouts.tcpFinMs), ms(DEFAULT_TIMEOUTS.tcpFinMs));
  put(timeouts, 'udp', ms(c.timeouts.udpMs), ms(DEFAULT_TIMEOUTS.udpMs));
  if (Object.keys(timeouts).length > 0) out.timeouts = timeouts;
  if (c.conntable.size !== DEFAULT_CONNTABLE_SIZE) out.conntable = { size: c.conntable.size };
  if (c.log.level !== 'info') out.log = { level: c.log.level };
  out.services = c.services.map((s) => serviceToRaw(s, c));
  const ha: RawObject = {};
  if (c.ha.vrrp.length > 0) ha.vrrp = c.ha.vrrp.map(vrrpToRaw);
  if (c.ha.sync) {
    ha.sync = {
      listen: formatEndpoint(c.ha.sync.listen),
      peers: c.ha.sync.peers.map(formatEndpoint),
      key: c.ha.sync.key,
    };
    const sync = ha.sync as RawObject;
    if (c.ha.sync.instance !== null) sync.instance = c.ha.sync.instance;
    put(sync, 'refreshInterval', ms(c.ha.sync.refreshIntervalMs), ms(SYNC_DEFAULTS.refreshIntervalMs));
    put(sync, 'snapshotWait', ms(c.ha.sync.snapshotWaitMs), ms(SYNC_DEFAULTS.snapshotWaitMs));
  }
  if (Object.keys(ha).length > 0) out.ha = ha;
  return out;
}

function ms(v: number): string {
  return formatDuration(v);
}

export function schedulerToRaw(s: SchedulerConfig): string | RawObject {
  const flags: string[] = [];
  if (s.options.fallback) flags.push(`${s.name}-fallback`);
  if (s.options.port) flags.push(`${s.name}-port`);
  const out: RawObject = { name: s.name };
  if (flags.length > 0) out.flags = flags;
  put(out, 'mhTableSize', s.options.mhTableSize, DEFAULT_SCHEDULER_OPTIONS.mhTableSize);
  put(out, 'shTableBits', s.options.shTableBits, DEFAULT_SCHEDULER_OPTIONS.shTableBits);
  return Object.keys(out).length === 1 ? s.name : out;
}

/** One service block as it would be written in the file (also the admin API's `config` view). */
export function serviceToRaw(s: ServiceConfig, c: Pick<Config, 'timeouts'>): RawObject {
  const out: RawObject = { name: s.name, protocol: s.protocol, address: formatEndpoint(s.address) };
  const scheduler = schedulerToRaw(s.scheduler);
  if (scheduler !== DEFAULT_SCHEDULER) out.scheduler = scheduler;
  if (s.persistence) {
    const p: RawObject = {};
    put(p, 'timeout', ms(s.persistence.timeoutMs), ms(DEFAULT_PERSISTENCE_MS));
    const family = s.address.addr.family;
    if (s.persistence.prefixLength !== (family === 4 ? 32 : 128)) {
      p.netmask = family === 4 ? formatNetmask(s.persistence.prefixLength, 4) : s.persistence.prefixLength;
    }
    out.persistence = p;
  }
  put(out, 'proxyProtocol', s.proxyProtocol, 'off');
  const health = healthToRaw(s.health, defaultHealthKind(s.protocol));
  if (Object.keys(health).length > 0) out.health = health;
  if (s.sorryServer) out.sorryServer = formatEndpoint(s.sorryServer);
  put(out, 'quorum', s.quorum, 1);
  put(out, 'hysteresis', s.hysteresis, 0);
  put(out, 'inhibitOnFailure', s.inhibitOnFailure, false);
  put(out, 'expireOnFailure', s.expireOnFailure, false);
  put(out, 'connectTimeout', ms(s.connectTimeoutMs), ms(DEFAULT_CONNECT_TIMEOUT_MS));
  const idleDefault = s.protocol === 'tcp' ? c.timeouts.tcpMs : c.timeouts.udpMs;
  put(out, 'idleTimeout', ms(s.idleTimeoutMs), ms(idleDefault));
  put(out, 'tcpNoDelay', s.tcpNoDelay, true);
  put(out, 'forwarding', s.forwarding, DEFAULT_FORWARDING);
  put(out, 'onePacket', s.onePacket, false);
  out.realServers = s.realServers.map((rs) => realServerToRaw(rs, s));
  return out;
}

export function realServerToRaw(rs: RealServerConfig, s: ServiceConfig): RawObject {
  const out: RawObject = { address: formatEndpoint(rs.address), weight: rs.weight };
  put(out, 'maxConnections', rs.maxConnections, 0);
  put(out, 'lowerThreshold', rs.lowerThreshold, 0);
  put(out, 'forwarding', rs.forwarding, s.forwarding);
  put(out, 'inhibitOnFailure', rs.inhibitOnFailure, s.inhibitOnFailure);
  // A real server's block is merged over its service's; when the result differs, the complete spec
  // (kind included) is written, which the merge reproduces exactly whatever the service says.
  if (rs.health !== s.health && !sameJson(rs.health, s.health)) out.health = healthToRaw(rs.health, null);
  return out;
}

const HEALTH_KEY_DEFAULTS: Readonly<Record<string, unknown>> = {
  method: 'GET',
  path: '/',
  expectStatus: [200],
  tlsVerify: false,
  payload: '',
  query: '.',
  queryType: 'SOA',
  helo: 'tslvs',
};

/**
 * A health spec as config keys. With `defaultKind`, keys at their defaults (and the kind, when it is
 * the protocol's default) are left out; with null the block is complete.
 */
export function healthToRaw(spec: HealthCheckSpec, defaultKind: string | null): RawObject {
  const minimal = defaultKind !== null;
  const out: RawObject = {};
  if (!minimal || spec.kind !== defaultKind) out.kind = spec.kind;
  const common: [string, unknown, unknown][] = [
    ['interval', ms(spec.intervalMs), ms(HEALTH_DEFAULTS.intervalMs)],
    ['timeout', ms(spec.timeoutMs), ms(HEALTH_DEFAULTS.timeoutMs)],
    ['rise', spec.rise, HEALTH_DEFAULTS.rise],
    ['fall', spec.fall, HEALTH_DEFAULTS.fall],
  ];
  for (const [k, v, d] of common) put(out, k, v, minimal ? d : undefined);
  put(out, 'port', spec.port);
  const extra: [string, unknown][] = [];
  switch (spec.kind) {
    case 'http':
    case 'https':
      extra.push(
        ['method', spec.method],
        ['path', spec.path],
        ['host', spec.host],
        ['expectStatus', spec.expectStatus],
        ['bodyRegex', spec.bodyRegex],
      );
      if (spec.kind === 'https') extra.push(['tlsVerify', spec.tlsVerify], ['sni', spec.sni]);
      break;
    case 'udp':
      extra.push(['payload', spec.payload], ['expectRegex', spec.expectRegex]);
      break;
    case 'dns':
      extra.push(['query', spec.query], ['queryType', spec.queryType]);
      break;
    case 'smtp':
      extra.push(['helo', spec.helo]);
      break;
    case 'exec':
      extra.push(['command', spec.command]);
      break;
    default:
      break;
  }
  for (const [k, v] of extra) {
    if (v === undefined) continue;
    if (minimal && sameJson(v, HEALTH_KEY_DEFAULTS[k])) continue;
    out[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

function vrrpToRaw(v: VrrpInstanceConfig): RawObject {
  const out: RawObject = {
    name: v.name,
    interface: v.interface,
    virtualRouterId: v.virtualRouterId,
    priority: v.priority,
    advertInterval: ms(v.advertIntervalMs),
    version: v.version,
    preempt: v.preempt,
    preemptDelay: ms(v.preemptDelayMs),
    virtualAddresses: v.virtualAddresses.map((a) => ({
      address: `${formatIp(a.addr)}/${a.prefixLength}`,
      interface: a.interface,
    })),
    garp: { repeat: v.garp.repeat, refresh: ms(v.garp.refreshMs), delay: ms(v.garp.delayMs) },
  };
  if (v.unicastSource) out.unicastSource = formatIp(v.unicastSource);
  if (v.unicastPeers.length > 0) out.unicastPeers = v.unicastPeers.map(formatIp);
  if (v.trackHealth.length > 0) out.trackHealth = v.trackHealth.map((t) => ({ ...t }));
  put(out, 'authPass', v.authPass);
  const notify: RawObject = {};
  for (const k of ['master', 'backup', 'fault', 'stop', 'any'] as const)
    if (v.notify[k]) notify[k] = [...v.notify[k]];
  if (Object.keys(notify).length > 0) out.notify = notify;
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A problem found in raw config data: where (key path) and what. */
export interface RawIssue {
  severity: 'error' | 'warning';
  path: (string | number)[];
  message: string;
}

export interface RawValidation {
  config: Config;
  warnings: RawIssue[];
}

function plain(i: ConfigIssue): RawIssue & { text: string } {
  const where = i.path.length > 0 ? `${formatPath(i.path)}: ` : '';
  return { severity: i.severity, path: i.path, message: i.message, text: `${where}${i.message}` };
}

/**
 * Validates raw config data exactly as a file's contents (schema, then normalize). Throws one
 * TslvsError(TSLVS_ERR_CONFIG) whose `details.issues[]` list every problem with its key path.
 */
export function validateRawConfig(raw: unknown, source: string, ctx: NormalizeContext): RawValidation {
  const { map, knownKeys } = makeErrorMap();
  const parsed = configSchema.safeParse(raw, { error: map });
  let issues: ConfigIssue[];
  let config: Config | null = null;
  if (!parsed.success) issues = fromZodIssues(parsed.error.issues, knownKeys);
  else ({ config, issues } = normalizeConfig(parsed.data, ctx));
  const errors = issues.filter((i) => i.severity === 'error');
  const warnings = issues.filter((i) => i.severity === 'warning').map(plain);
  if (errors.length > 0 || config === null) {
    const listed = errors.map(plain);
    throw new TslvsError(ErrorCodes.CONFIG, `${source}: ${listed.map((i) => i.text).join('; ')}`, {
      source,
      path: listed[0] ? formatPath(listed[0].path) : '',
      issues: listed,
      warnings,
    });
  }
  return { config, warnings: warnings.map(({ severity, path, message }) => ({ severity, path, message })) };
}
