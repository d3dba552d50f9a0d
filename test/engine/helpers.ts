import { parseIp } from '../../src/engine/addr.js';
import { Balancer, type BalancerOptions } from '../../src/engine/balancer.js';
import { Forwarding, type ForwardingMethod } from '../../src/engine/forwarding.js';
import type { SchedulerName } from '../../src/engine/schedulers/names.js';
import { type FlowKey, newFlowKey } from '../../src/engine/schedulers/scheduler.js';
import type { PersistenceSpec, Service } from '../../src/engine/service.js';

export function seededRandom(seed = 42): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

export function makeBalancer(opts: Partial<BalancerOptions> = {}): Balancer {
  return new Balancer({ conntable: { capacity: 1024 }, random: seededRandom(), ...opts });
}

export interface SvcOpts {
  name?: string;
  proto?: 'tcp' | 'udp';
  vip?: string;
  port?: number;
  scheduler?: SchedulerName;
  persistence?: PersistenceSpec | null;
  forwarding?: ForwardingMethod;
  dests?: Array<{ addr: string; port?: number; weight?: number; upper?: number; lower?: number }>;
}

export function addService(b: Balancer, o: SvcOpts = {}): Service {
  const svc = b.services.add({
    name: o.name ?? 'web',
    protocol: o.proto ?? 'tcp',
    address: parseIp(o.vip ?? '10.0.0.100'),
    port: o.port ?? 80,
    scheduler: o.scheduler ?? 'rr',
    persistence: o.persistence ?? null,
    forwarding: o.forwarding ?? Forwarding.NAT,
  });
  for (const d of o.dests ?? []) {
    svc.addDest({
      address: parseIp(d.addr),
      port: d.port ?? 8080,
      weight: d.weight ?? 1,
      upperThreshold: d.upper ?? 0,
      lowerThreshold: d.lower ?? 0,
    });
  }
  return svc;
}

/** A reusable flow key for client -> VIP. */
export function flow(
  client: string,
  cport: number,
  vip = '10.0.0.100',
  vport = 80,
  proto: 'tcp' | 'udp' = 'tcp',
): FlowKey {
  const f = newFlowKey();
  const c = parseIp(client);
  const v = parseIp(vip);
  f.af = c.family;
  f.proto = proto === 'tcp' ? 6 : 17;
  f.saddr.set(c.words);
  f.daddr.set(v.words);
  f.sport = cport;
  f.dport = vport;
  return f;
}

export function destAddrText(b: Balancer, dest: number): string {
  const a = b.dests.address(dest);
  return `${a.words[0]! >>> 24}.${(a.words[0]! >>> 16) & 255}.${(a.words[0]! >>> 8) & 255}.${a.words[0]! & 255}`;
}
