/**
 * One service block -> `ServiceConfig`: scheduler options, persistence, real servers with merged
 * health checks, and the checks that relate a service's fields to each other and to the data plane.
 */
import { type Endpoint, formatEndpoint, formatIp, parseNetmask } from '../../engine/addr.js';
import {
  DEFAULT_SCHEDULER_OPTIONS,
  type SchedulerFlag,
  type SchedulerName,
} from '../../engine/schedulers/names.js';
import type { PartialEndpoint } from './fields.js';
import { buildHealthSpec, checkServiceHealth, mergeHealth } from './health.js';
import type { IssueList, IssuePath } from './issues.js';
import type { RawService } from './schema.js';
import type {
  Config,
  DataplaneConfig,
  PersistenceConfig,
  RealServerConfig,
  SchedulerConfig,
  ServiceConfig,
} from './types.js';

export interface ServiceContext {
  dataplane: DataplaneConfig;
  timeouts: Config['timeouts'];
}

/** ipvsadm's default persistence timeout (-p without a value). */
export const DEFAULT_PERSISTENCE_MS = 300_000;
/** IPVS's own default: "-g" (gatewaying, i.e. direct routing) when no method is given. */
export const DEFAULT_FORWARDING = 'dr';
/** ipvsadm's default scheduler. */
export const DEFAULT_SCHEDULER: SchedulerName = 'wlc';

const FLAG_OWNER: Readonly<Record<SchedulerFlag, SchedulerName>> = {
  'sh-fallback': 'sh',
  'sh-port': 'sh',
  'mh-fallback': 'mh',
  'mh-port': 'mh',
};

function normalizeScheduler(
  raw: RawService['scheduler'],
  path: IssuePath,
  issues: IssueList,
): SchedulerConfig {
  if (raw === undefined || typeof raw === 'string') {
    return { name: raw ?? DEFAULT_SCHEDULER, options: { ...DEFAULT_SCHEDULER_OPTIONS } };
  }
  const options = { ...DEFAULT_SCHEDULER_OPTIONS };
  (raw.flags ?? []).forEach((flag, i) => {
    if (FLAG_OWNER[flag] !== raw.name) {
      issues.error([...path, 'flags', i], `${flag} only applies to the ${FLAG_OWNER[flag]} scheduler`);
    }
    if (flag.endsWith('-fallback')) options.fallback = true;
    else options.port = true;
  });
  if (raw.mhTableSize !== undefined) {
    if (raw.name !== 'mh') issues.error([...path, 'mhTableSize'], 'only applies to the mh scheduler');
    options.mhTableSize = raw.mhTableSize;
  }
  if (raw.shTableBits !== undefined) {
    if (raw.name !== 'sh') issues.error([...path, 'shTableBits'], 'only applies to the sh scheduler');
    options.shTableBits = raw.shTableBits;
  }
  return { name: raw.name, options };
}

function normalizePersistence(
  raw: RawService['persistence'],
  vip: Endpoint,
  path: IssuePath,
  issues: IssueList,
): PersistenceConfig | null {
  if (raw === undefined) return null;
  const family = vip.addr.family;
  let prefixLength = family === 4 ? 32 : 128;
  if (raw.netmask !== undefined) {
    try {
      prefixLength = parseNetmask(raw.netmask, family);
    } catch {
      const want = family === 4 ? 'a dotted IPv4 netmask or a prefix length 0-32' : 'a prefix length 0-128';
      issues.error(
        [...path, 'netmask'],
        `must be ${want} for an IPv${family} service (got '${raw.netmask}')`,
      );
    }
  }
  return { timeoutMs: raw.timeout ?? DEFAULT_PERSISTENCE_MS, prefixLength };
}

function withPort(e: PartialEndpoint, port: number): Endpoint {
  return { addr: e.addr, port: e.port ?? port };
}

export function normalizeService(
  svc: RawService,
  path: IssuePath,
  ctx: ServiceContext,
  issues: IssueList,
): ServiceConfig | null {
  const protocol = svc.protocol ?? 'tcp';
  const packet = ctx.dataplane.kind === 'packet';
  const vip = svc.address;
  const forwarding = svc.forwarding ?? DEFAULT_FORWARDING;
  const scheduler = normalizeScheduler(svc.scheduler, [...path, 'scheduler'], issues);
  if (scheduler.name === 'mh' && svc.realServers.length > scheduler.options.mhTableSize) {
    issues.error([...path, 'scheduler', 'mhTableSize'], 'must be at least the number of real servers');
  }
  const proxyProtocol = svc.proxyProtocol ?? 'off';
  // PROXY v1 is a text line naming TCP4/TCP6 only; v2 has a DGRAM transport code for UDP.
  if (proxyProtocol === 'v1' && protocol === 'udp') {
    issues.error([...path, 'proxyProtocol'], 'v1 carries TCP only; use v2 for UDP services');
  }
  if (svc.onePacket && protocol !== 'udp')
    issues.error([...path, 'onePacket'], 'applies to udp services only');
  warnModeKeys(svc, path, packet, issues);

  const healthPath = [...path, 'health'];
  const healthOk = checkServiceHealth(svc.health, protocol, healthPath, issues);
  const serviceRaw = healthOk ? mergeHealth(svc.health, undefined, protocol, healthPath, issues) : null;
  const health = serviceRaw ? buildHealthSpec(serviceRaw, healthPath, issues) : null;

  const sorryServer = svc.sorryServer ? withPort(svc.sorryServer, vip.port) : null;
  if (sorryServer && packet && sorryServer.addr.family !== vip.addr.family) {
    issues.error(
      [...path, 'sorryServer'],
      `is IPv${sorryServer.addr.family} but the service is IPv${vip.addr.family}`,
    );
  }

  const realServers: RealServerConfig[] = [];
  const seen = new Map<string, number>();
  svc.realServers.forEach((rs, j) => {
    const rsPath = [...path, 'realServers', j];
    const address = withPort(rs.address, vip.port);
    const text = formatEndpoint(address);
    const dup = seen.get(text);
    if (dup !== undefined)
      issues.error([...rsPath, 'address'], `duplicate real server ${text} (also realServers[${dup}])`);
    seen.set(text, j);
    const rsForwarding = rs.forwarding ?? forwarding;
    if (packet)
      checkPacketRealServer(
        vip,
        address,
        rsForwarding,
        rs.forwarding !== undefined,
        ctx,
        rsPath,
        path,
        issues,
      );
    else if (rs.forwarding !== undefined) {
      issues.warn([...rsPath, 'forwarding'], 'ignored: forwarding applies to the packet data plane only');
    }
    const maxConnections = rs.maxConnections ?? 0;
    const lowerThreshold = rs.lowerThreshold ?? 0;
    if (maxConnections !== 0 && lowerThreshold > maxConnections) {
      issues.error(
        [...rsPath, 'lowerThreshold'],
        `must not exceed maxConnections (${lowerThreshold} > ${maxConnections})`,
      );
    } else if (lowerThreshold !== 0 && maxConnections === 0) {
      issues.warn([...rsPath, 'lowerThreshold'], 'has no effect without maxConnections');
    }
    let rsHealth = health;
    if (rs.health !== undefined && healthOk) {
      const merged = mergeHealth(svc.health, rs.health, protocol, [...rsPath, 'health'], issues);
      const from = rs.health.kind !== undefined ? [...rsPath, 'health'] : healthPath;
      rsHealth =
        merged && (health || rs.health.kind !== undefined) ? buildHealthSpec(merged, from, issues) : null;
    }
    if (rsHealth) {
      realServers.push({
        address,
        weight: rs.weight ?? 1,
        maxConnections,
        lowerThreshold,
        forwarding: rsForwarding,
        inhibitOnFailure: rs.inhibitOnFailure ?? svc.inhibitOnFailure ?? false,
        health: rsHealth,
      });
    }
  });
  if (protocol === 'udp' && svc.tcpNoDelay !== undefined) {
    issues.warn([...path, 'tcpNoDelay'], 'ignored: applies to tcp services only');
  }
  const quorum = svc.quorum ?? 1;
  if (quorum > svc.realServers.length) {
    issues.warn(
      [...path, 'quorum'],
      `is ${quorum} but the service has ${svc.realServers.length} real server(s): it will always be down`,
    );
  }
  if (!health) return null;
  return {
    name: svc.name,
    protocol,
    address: vip,
    scheduler,
    persistence: normalizePersistence(svc.persistence, vip, [...path, 'persistence'], issues),
    proxyProtocol,
    health,
    sorryServer,
    quorum,
    hysteresis: svc.hysteresis ?? 0,
    inhibitOnFailure: svc.inhibitOnFailure ?? false,
    expireOnFailure: svc.expireOnFailure ?? false,
    connectTimeoutMs: svc.connectTimeout ?? 3000,
    idleTimeoutMs: svc.idleTimeout ?? (protocol === 'tcp' ? ctx.timeouts.tcpMs : ctx.timeouts.udpMs),
    tcpNoDelay: svc.tcpNoDelay ?? true,
    forwarding,
    onePacket: svc.onePacket ?? false,
    realServers,
  };
}

function warnModeKeys(svc: RawService, path: IssuePath, packet: boolean, issues: IssueList): void {
  if (packet) {
    for (const key of ['connectTimeout', 'idleTimeout', 'tcpNoDelay'] as const) {
      if (svc[key] !== undefined)
        issues.warn([...path, key], 'ignored: applies to the proxy data plane only');
    }
    if (svc.proxyProtocol !== undefined && svc.proxyProtocol !== 'off') {
      issues.warn([...path, 'proxyProtocol'], 'ignored: the packet data plane does not add PROXY headers');
    }
  } else if (svc.forwarding !== undefined) {
    issues.warn([...path, 'forwarding'], 'ignored: forwarding applies to the packet data plane only');
  }
}

function checkPacketRealServer(
  vip: Endpoint,
  rs: Endpoint,
  forwarding: string,
  overridden: boolean,
  ctx: ServiceContext,
  rsPath: IssuePath,
  servicePath: IssuePath,
  issues: IssueList,
): void {
  if (rs.addr.family !== vip.addr.family) {
    issues.error([...rsPath, 'address'], `is IPv${rs.addr.family} but the service is IPv${vip.addr.family}`);
  }
  const where = overridden ? [...rsPath, 'forwarding'] : [...servicePath, 'forwarding'];
  // DR and TUN deliver the client's packet unchanged but for the MAC / outer header: no port rewrite.
  if ((forwarding === 'dr' || forwarding === 'tun') && rs.port !== vip.port) {
    issues.error(
      [...rsPath, 'address'],
      `${forwarding} forwarding cannot change the port: the real server must listen on ${vip.port} (got ${formatEndpoint(rs)})`,
    );
  }
  if (forwarding === 'fnat' && ctx.dataplane.kind === 'packet') {
    const local = ctx.dataplane.localAddresses.filter((a) => a.family === rs.addr.family);
    if (local.length === 0) {
      issues.error(
        where,
        `fnat needs an IPv${rs.addr.family} address in dataplane.localAddresses (for ${formatIp(rs.addr)})`,
      );
    }
  }
}
