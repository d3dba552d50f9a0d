/**
 * A virtual service (IPVS `struct ip_vs_service`): protocol + VIP + port, its scheduler, persistence, and
 * its real servers. Dest data lives in the shared `DestTable`; the service keeps the scheduling list in
 * IPVS order and tells its scheduler about every change through the scheduler's hooks.
 */
import { ErrorCodes, TslvsError } from '../errors.js';
import { formatEndpoint, type IpAddress } from './addr.js';
import { DestFlag, type DestTable } from './dest-table.js';
import { Forwarding, type ForwardingMethod } from './forwarding.js';
import { DEFAULT_SCHEDULER_OPTIONS, type SchedulerName, type SchedulerOptions } from './schedulers/names.js';
import { getScheduler } from './schedulers/registry.js';
import type { FlowKey, SchedEnv, SchedulerInstance } from './schedulers/scheduler.js';

export const Proto = Object.freeze({ TCP: 6, UDP: 17 });
export type ProtoName = 'tcp' | 'udp';
export function protoNumber(p: ProtoName): number {
  return p === 'tcp' ? Proto.TCP : Proto.UDP;
}
export function protoName(p: number): ProtoName {
  return p === Proto.TCP ? 'tcp' : 'udp';
}

export interface PersistenceSpec {
  timeoutMs: number;
  /** Client address granularity: IPv4 mask length or IPv6 prefix length (ipvsadm -M). */
  prefixLen: number;
}

export interface ServiceSpec {
  name: string;
  protocol: ProtoName;
  address: IpAddress;
  port: number;
  scheduler: SchedulerName;
  schedulerOptions?: Partial<SchedulerOptions>;
  persistence?: PersistenceSpec | null;
  /** IPVS -o: every UDP datagram scheduled on its own. */
  onePacket?: boolean;
  /** Default forwarding method of the service's dests (ipvsadm -g/-m/-i per dest). */
  forwarding?: ForwardingMethod;
}

export interface DestSpec {
  address: IpAddress;
  port: number;
  weight: number;
  /** ipvsadm -x: 0 = no limit. */
  upperThreshold?: number;
  /** ipvsadm -y. */
  lowerThreshold?: number;
  forwarding?: ForwardingMethod;
}

export type DestField = 'weight' | 'upperThreshold' | 'lowerThreshold' | 'forwarding';

function validateDest(spec: DestSpec): void {
  const bad = (msg: string) =>
    new TslvsError(ErrorCodes.INVALID_ARGUMENT, msg, {
      dest: formatEndpoint({ addr: spec.address, port: spec.port }),
    });
  if (!Number.isInteger(spec.weight) || spec.weight < 0 || spec.weight > 0x7fffffff)
    throw bad(`weight ${spec.weight} must be an integer >= 0`);
  const u = spec.upperThreshold ?? 0;
  const l = spec.lowerThreshold ?? 0;
  if (!Number.isInteger(u) || u < 0 || !Number.isInteger(l) || l < 0)
    throw bad('thresholds must be integers >= 0');
  if (u !== 0 && l > u) throw bad(`lower threshold ${l} is above upper threshold ${u}`);
}

export class Service {
  readonly id: number;
  name: string;
  readonly proto: number;
  readonly address: IpAddress;
  readonly port: number;
  schedulerName!: SchedulerName;
  schedulerOptions!: Readonly<SchedulerOptions>;
  persistence: PersistenceSpec | null;
  onePacket: boolean;
  forwarding: ForwardingMethod;
  /** Dest ids in scheduling order (head first). */
  readonly list: number[] = [];
  /** Every current (not deleted) dest by endpoint text, listed or not. */
  readonly members = new Map<string, number>();
  /** Dest used when the scheduler finds none or the service is below quorum; -1 = none. */
  sorryDest = -1;
  /** False when the control plane decided the service is down (quorum): only the sorry server is used. */
  up = true;
  #sched!: SchedulerInstance;
  readonly #dests: DestTable;
  readonly #env: SchedEnv;

  constructor(id: number, spec: ServiceSpec, dests: DestTable, env: SchedEnv) {
    this.id = id;
    this.name = spec.name;
    this.proto = protoNumber(spec.protocol);
    this.address = spec.address;
    this.port = spec.port;
    this.persistence = spec.persistence ?? null;
    this.onePacket = spec.onePacket ?? false;
    this.forwarding = spec.forwarding ?? Forwarding.DR;
    this.#dests = dests;
    this.#env = env;
    this.setScheduler(spec.scheduler, spec.schedulerOptions ?? {});
  }

  get dests(): DestTable {
    return this.#dests;
  }

  /** Replaces the scheduler (ipvsadm -E -s): fresh scheduler state over the same list. */
  setScheduler(name: SchedulerName, options: Partial<SchedulerOptions>): void {
    const impl = getScheduler(name);
    const opts = Object.freeze({ ...DEFAULT_SCHEDULER_OPTIONS, ...options });
    const instance = impl.create({ dests: this.#dests, list: this.list, options: opts }, this.#env);
    this.schedulerName = name;
    this.schedulerOptions = opts;
    this.#sched = instance;
  }

  schedule(flow: FlowKey, now: number): number {
    return this.#sched.schedule(flow, now);
  }

  tick(now: number): void {
    this.#sched.tick?.(now);
  }

  findDest(address: IpAddress, port: number): number {
    return this.members.get(formatEndpoint({ addr: address, port })) ?? -1;
  }

  addDest(spec: DestSpec, trash: Iterable<number> = []): number {
    validateDest(spec);
    const key = formatEndpoint({ addr: spec.address, port: spec.port });
    if (this.members.has(key)) {
      throw new TslvsError(
        ErrorCodes.DEST_EXISTS,
        `real server ${key} already exists in service ${this.name}`,
        {
          service: this.name,
          dest: key,
        },
      );
    }
    const d = this.#dests;
    let id = -1;
    for (const t of trash)
      if (d.isAllocated(t) && d.svc[t] === this.id && d.matches(t, spec.address, spec.port)) id = t;
    if (id >= 0) d.flags[id]! |= DestFlag.AVAILABLE;
    else id = d.alloc(this.id, spec.address, spec.port, spec.forwarding ?? this.forwarding);
    d.fwd[id] = spec.forwarding ?? this.forwarding;
    d.setWeight(id, spec.weight);
    d.setThresholds(id, spec.upperThreshold ?? 0, spec.lowerThreshold ?? 0);
    this.members.set(key, id);
    this.link(id);
    return id;
  }

  /** Applies the given fields; returns the names of those that changed. */
  editDest(id: number, spec: DestSpec): DestField[] {
    validateDest(spec);
    const d = this.#dests;
    const changed: DestField[] = [];
    if (d.weight[id] !== spec.weight) {
      d.setWeight(id, spec.weight);
      changed.push('weight');
    }
    const u = spec.upperThreshold ?? 0;
    const l = spec.lowerThreshold ?? 0;
    if (d.uThreshold[id] !== u || d.lThreshold[id] !== l) {
      if (d.uThreshold[id] !== u) changed.push('upperThreshold');
      if (d.lThreshold[id] !== l) changed.push('lowerThreshold');
      d.setThresholds(id, u, l);
    }
    const fwd = spec.forwarding ?? this.forwarding;
    if (d.fwd[id] !== fwd) {
      d.fwd[id] = fwd;
      changed.push('forwarding');
    }
    if (changed.length > 0 && d.flags[id]! & DestFlag.LISTED) this.#sched.onUpdate?.(id);
    return changed;
  }

  /** Deletes a dest: unlinked and !AVAILABLE; it stays allocated while connections count against it. */
  removeDest(id: number): void {
    const d = this.#dests;
    this.unlink(id);
    this.members.delete(formatEndpoint({ addr: d.address(id), port: d.port[id]! }));
    d.flags[id]! &= ~DestFlag.AVAILABLE;
    d.releaseIfUnused(id);
  }

  /** Links a dest at the list head (IPVS list_add_rcu after the head). No-op when already linked. */
  link(id: number): boolean {
    const d = this.#dests;
    if (d.flags[id]! & DestFlag.LISTED) return false;
    d.flags[id]! |= DestFlag.LISTED;
    this.list.unshift(id);
    this.#sched.onAdd?.(id);
    return true;
  }

  /** Takes a dest out of scheduling (health check failed) without deleting it. No-op when not linked. */
  unlink(id: number): boolean {
    const d = this.#dests;
    if (!(d.flags[id]! & DestFlag.LISTED)) return false;
    d.flags[id]! &= ~DestFlag.LISTED;
    const i = this.list.indexOf(id);
    this.list.splice(i, 1);
    this.#sched.onRemove?.(id, i);
    return true;
  }

  isListed(id: number): boolean {
    return (this.#dests.flags[id]! & DestFlag.LISTED) !== 0;
  }
}
