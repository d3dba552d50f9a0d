/**
 * Control operations on a Balancer as plain, serialisable data, so the same changes can be applied in the
 * thread that owns the engine: directly in proxy mode, or posted to the packet worker. Services are named
 * by key (`tcp/10.0.0.1:80`), real servers by endpoint text within their service; ids stay internal.
 *
 * `applyEngineOps` checks the whole batch against the current state before changing anything, so a
 * batch is applied entirely or not at all (the admin API promises atomic changes).
 */
import { ErrorCodes, TslvsError } from '../errors.js';
import { type Endpoint, formatEndpoint, type IpAddress, parseEndpoint } from './addr.js';
import type { Balancer } from './balancer.js';
import type { ForwardingMethod } from './forwarding.js';
import type { SchedulerName, SchedulerOptions } from './schedulers/names.js';
import type { DestSpec, PersistenceSpec, ProtoName, Service, ServiceSpec } from './service.js';

export type EngineOp =
  | { op: 'addService'; spec: ServiceSpec }
  | {
      op: 'editService';
      key: string;
      name?: string;
      scheduler?: { name: SchedulerName; options: Partial<SchedulerOptions> };
      persistence?: PersistenceSpec | null;
      forwarding?: ForwardingMethod;
      onePacket?: boolean;
    }
  | { op: 'removeService'; key: string }
  | { op: 'setSorryServer'; key: string; sorry: Endpoint | null }
  | { op: 'setServiceUp'; key: string; up: boolean }
  | { op: 'addDest'; key: string; dest: DestSpec; listed: boolean }
  | { op: 'editDest'; key: string; dest: DestSpec }
  | { op: 'removeDest'; key: string; rs: string }
  | { op: 'setListed'; key: string; rs: string; listed: boolean }
  | { op: 'expireDestConns'; key: string; rs: string }
  | { op: 'setTimeouts'; tcpMs: number; tcpFinMs: number; udpMs: number }
  | { op: 'zeroCounters'; key: string | null };

export function serviceKeyOf(protocol: ProtoName, addr: IpAddress, port: number): string {
  return `${protocol}/${formatEndpoint({ addr, port })}`;
}

export function destKeyOf(d: { address: IpAddress; port: number }): string {
  return formatEndpoint({ addr: d.address, port: d.port });
}

function notFound(
  code: typeof ErrorCodes.SERVICE_NOT_FOUND | typeof ErrorCodes.DEST_NOT_FOUND,
  what: string,
) {
  return new TslvsError(code, `${what} does not exist`, { what });
}

/** Checks a batch against the state it would meet, op after op, without changing anything. */
function validate(b: Balancer, ops: readonly EngineOp[]): void {
  const services = new Map<string, Set<string>>();
  const names = new Set<string>();
  for (const s of b.services) {
    const key = serviceKeyOf(s.proto === 6 ? 'tcp' : 'udp', s.address, s.port);
    services.set(key, new Set(s.members.keys()));
    names.add(s.name);
  }
  const svc = (key: string) => {
    const s = services.get(key);
    if (!s) throw notFound(ErrorCodes.SERVICE_NOT_FOUND, `service ${key}`);
    return s;
  };
  for (const o of ops) {
    switch (o.op) {
      case 'addService': {
        const key = serviceKeyOf(o.spec.protocol, o.spec.address, o.spec.port);
        if (services.has(key))
          throw new TslvsError(ErrorCodes.SERVICE_EXISTS, `service ${key} already exists`, { key });
        if (names.has(o.spec.name)) {
          throw new TslvsError(ErrorCodes.SERVICE_EXISTS, `a service named '${o.spec.name}' already exists`, {
            name: o.spec.name,
          });
        }
        services.set(key, new Set());
        names.add(o.spec.name);
        break;
      }
      case 'removeService':
        svc(o.key);
        services.delete(o.key);
        break;
      case 'addDest': {
        const rs = destKeyOf(o.dest);
        if (svc(o.key).has(rs))
          throw new TslvsError(ErrorCodes.DEST_EXISTS, `real server ${rs} already exists in ${o.key}`, {
            rs,
          });
        svc(o.key).add(rs);
        break;
      }
      case 'removeDest':
        if (!svc(o.key).delete(o.rs))
          throw notFound(ErrorCodes.DEST_NOT_FOUND, `real server ${o.rs} of ${o.key}`);
        break;
      case 'editDest':
        if (!svc(o.key).has(destKeyOf(o.dest)))
          throw notFound(ErrorCodes.DEST_NOT_FOUND, `real server ${destKeyOf(o.dest)} of ${o.key}`);
        break;
      case 'setListed':
      case 'expireDestConns':
        if (!svc(o.key).has(o.rs))
          throw notFound(ErrorCodes.DEST_NOT_FOUND, `real server ${o.rs} of ${o.key}`);
        break;
      case 'editService':
      case 'setSorryServer':
      case 'setServiceUp':
        svc(o.key);
        break;
      case 'zeroCounters':
        if (o.key !== null) svc(o.key);
        break;
      case 'setTimeouts':
        break;
    }
  }
}

/** Applies a batch atomically (see above); throws a TslvsError and changes nothing when any op is invalid. */
export function applyEngineOps(b: Balancer, ops: readonly EngineOp[]): void {
  validate(b, ops);
  for (const o of ops) applyOne(b, o);
}

export function findService(b: Balancer, key: string): Service {
  const slash = key.indexOf('/');
  const protocol = key.slice(0, slash);
  if (slash > 0 && (protocol === 'tcp' || protocol === 'udp')) {
    const ep = parseEndpoint(key.slice(slash + 1), { allowZeroPort: true });
    const s = b.services.byEndpoint(protocol, ep.addr, ep.port);
    if (s) return s;
  }
  throw notFound(ErrorCodes.SERVICE_NOT_FOUND, `service ${key}`);
}

function destOf(s: Service, rs: string): number {
  const id = s.members.get(rs);
  if (id === undefined) throw notFound(ErrorCodes.DEST_NOT_FOUND, `real server ${rs} of ${s.name}`);
  return id;
}

function applyOne(b: Balancer, o: EngineOp): void {
  switch (o.op) {
    case 'addService':
      b.services.add(o.spec);
      return;
    case 'removeService':
      b.removeService(findService(b, o.key));
      return;
    case 'editService': {
      const s = findService(b, o.key);
      if (o.name !== undefined) b.services.rename(s, o.name);
      if (o.scheduler) s.setScheduler(o.scheduler.name, o.scheduler.options);
      if (o.persistence !== undefined) s.persistence = o.persistence;
      if (o.forwarding !== undefined) s.forwarding = o.forwarding;
      if (o.onePacket !== undefined) s.onePacket = o.onePacket;
      return;
    }
    case 'setSorryServer':
      b.setSorryServer(findService(b, o.key), o.sorry);
      return;
    case 'setServiceUp':
      findService(b, o.key).up = o.up;
      return;
    case 'addDest': {
      const s = findService(b, o.key);
      const id = s.addDest(o.dest, b.dests.trashOf(s.id));
      if (!o.listed) s.unlink(id);
      return;
    }
    case 'editDest': {
      const s = findService(b, o.key);
      s.editDest(destOf(s, destKeyOf(o.dest)), o.dest);
      return;
    }
    case 'removeDest': {
      const s = findService(b, o.key);
      s.removeDest(destOf(s, o.rs));
      return;
    }
    case 'setListed': {
      const s = findService(b, o.key);
      const id = destOf(s, o.rs);
      if (o.listed) s.link(id);
      else s.unlink(id);
      return;
    }
    case 'expireDestConns': {
      const s = findService(b, o.key);
      b.removeConnsOf(destOf(s, o.rs));
      return;
    }
    case 'setTimeouts':
      b.conns.tcpTimeoutMs[1] = o.tcpMs;
      b.conns.tcpTimeoutMs[4] = o.tcpFinMs;
      b.conns.udpTimeoutMs = o.udpMs;
      return;
    case 'zeroCounters':
      for (const s of b.services) {
        if (o.key !== null && serviceKeyOf(s.proto === 6 ? 'tcp' : 'udp', s.address, s.port) !== o.key)
          continue;
        b.services.stats.reset(s.id);
        for (const id of s.members.values()) b.dests.stats.reset(id);
      }
      return;
  }
}
