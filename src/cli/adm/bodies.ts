/**
 * ipvsadm commands as admin API requests: the service/real-server bodies and merge patches, and the
 * batch actions `-R` sends. ipvsadm's -E and -e set every field they know (a field not given goes back to
 * its default, as ipvs_update_service/ipvs_update_dest do); tslvs-only scheduler options are kept.
 */
import type { Addr, AdmCommand, ServiceAddr } from './command.js';

type ServiceCmd = Extract<AdmCommand, { cmd: 'add-service' | 'edit-service' }>;
type ServerCmd = Extract<AdmCommand, { cmd: 'add-server' | 'edit-server' }>;

export function endpointText(a: Addr): string {
  return a.family === 6 ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}

/** The API id of a service: `tcp:10.0.0.1:80`. */
export function serviceId(s: ServiceAddr): string {
  return `${s.protocol}:${endpointText(s)}`;
}

/** Services made by `tslvs adm -A` are named as the keepalived importer names them: tcp-10.0.0.1-80. */
export function serviceName(s: ServiceAddr): string {
  return `${s.protocol}-${s.ip.replace(/:/g, '-')}-${s.port}`;
}

function scheduler(c: ServiceCmd, keep: Record<string, unknown> = {}): unknown {
  const options = Object.fromEntries(
    Object.entries(keep).filter(([k]) => k === 'mhTableSize' || k === 'shTableBits'),
  );
  if (c.flags.length === 0 && Object.keys(options).length === 0) return c.scheduler;
  return { name: c.scheduler, ...(c.flags.length > 0 ? { flags: c.flags } : {}), ...options };
}

function persistence(c: ServiceCmd): Record<string, unknown> | null {
  if (!c.persistent) return null;
  const p: Record<string, unknown> = { timeout: `${c.persistent.timeout}s` };
  if (c.persistent.prefixLength !== null) p.netmask = c.persistent.prefixLength;
  return p;
}

export function addServiceBody(c: ServiceCmd): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: serviceName(c.service),
    protocol: c.service.protocol,
    address: endpointText(c.service),
    scheduler: scheduler(c),
  };
  const p = persistence(c);
  if (p) body.persistence = p;
  if (c.ops) body.onePacket = true;
  return body;
}

/**
 * -E: scheduler (default wlc), flags, persistence and ops all as given. `current` is the service's
 * configured scheduler, whose tslvs-only options (table sizes) stay when the scheduler does not change.
 */
export function editServiceChanges(c: ServiceCmd, current?: unknown): Record<string, unknown> {
  const cur = typeof current === 'object' && current !== null ? (current as Record<string, unknown>) : {};
  const keep = cur.name === c.scheduler ? cur : {};
  return { scheduler: scheduler(c, keep), persistence: persistence(c), onePacket: c.ops ? true : null };
}

/**
 * ipvsadm forces a DR or TUN server onto the service's port (the packet is not rewritten). tslvs does
 * the same on the packet data plane; the socket proxy connects to whatever port is given.
 */
export function serverAddress(c: ServerCmd, packetMode: boolean): string {
  const forced = packetMode && (c.fwd === null || c.fwd === 'dr' || c.fwd === 'tun');
  return endpointText(forced ? { ...c.server, port: c.service.port } : c.server);
}

export function addServerBody(c: ServerCmd, packetMode: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { address: serverAddress(c, packetMode), weight: c.weight };
  if (c.uThreshold > 0) body.maxConnections = c.uThreshold;
  if (c.lThreshold > 0) body.lowerThreshold = c.lThreshold;
  if (c.fwd) body.forwarding = c.fwd;
  return body;
}

/** -e: weight (default 1), thresholds (default 0) and method as given; no method = the service's. */
export function editServerChanges(c: ServerCmd): Record<string, unknown> {
  return {
    weight: c.weight,
    maxConnections: c.uThreshold > 0 ? c.uThreshold : null,
    lowerThreshold: c.lThreshold > 0 ? c.lThreshold : null,
    forwarding: c.fwd,
  };
}

/** The batch action of one restore line; null for commands a restore file may not hold. */
export function batchAction(c: AdmCommand, packetMode: boolean): Record<string, unknown> | null {
  switch (c.cmd) {
    case 'add-service':
      return { op: 'addService', body: addServiceBody(c) };
    case 'edit-service':
      return { op: 'editService', service: serviceId(c.service), changes: editServiceChanges(c) };
    case 'delete-service':
      return { op: 'deleteService', service: serviceId(c.service) };
    case 'flush':
      return { op: 'clearServices' };
    case 'add-server':
      return { op: 'addRealServer', service: serviceId(c.service), body: addServerBody(c, packetMode) };
    case 'edit-server':
      return {
        op: 'editRealServer',
        service: serviceId(c.service),
        realServer: serverAddress(c, packetMode),
        changes: editServerChanges(c),
      };
    case 'delete-server':
      return { op: 'deleteRealServer', service: serviceId(c.service), realServer: endpointText(c.server) };
    case 'set':
      return { op: 'setTimeouts', tcp: c.tcp, tcpFin: c.tcpFin, udp: c.udp };
    default:
      return null;
  }
}
