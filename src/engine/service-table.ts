/**
 * All virtual services: objects for the control plane, plus typed-array columns (address, port, protocol)
 * and an open-addressing VIP index for the hot path, rebuilt on every service add/remove (rare).
 */
import { ErrorCodes, TslvsError } from '../errors.js';
import { formatEndpoint, type IpAddress } from './addr.js';
import { CounterBlock } from './counters.js';
import type { DestTable } from './dest-table.js';
import { fmix32i, mixWord } from './hash.js';
import type { SchedEnv } from './schedulers/scheduler.js';
import { protoNumber, Service, type ServiceSpec } from './service.js';

function serviceKey(proto: number, a: IpAddress, port: number): string {
  return `${proto}/${formatEndpoint({ addr: a, port })}`;
}

export class ServiceTable {
  readonly #services: (Service | undefined)[] = [];
  readonly #byKey = new Map<string, Service>();
  readonly #byName = new Map<string, Service>();
  readonly #free: number[] = [];
  /** Hot-path columns by service id. */
  addr = new Uint32Array(0);
  port = new Uint16Array(0);
  proto = new Uint8Array(0);
  af = new Uint8Array(0);
  readonly stats = new CounterBlock(0);
  /** VIP index: slot -> service id + 1 (0 = empty). */
  #index = new Uint32Array(16);
  #mask = 15;
  /** VIP address index (any port/protocol) for ARP and "is this ours": slot -> service id + 1. */
  #vipIndex = new Uint32Array(16);
  readonly dests: DestTable;
  readonly #env: SchedEnv;

  constructor(dests: DestTable, env: SchedEnv) {
    this.dests = dests;
    this.#env = env;
  }

  get size(): number {
    return this.#byKey.size;
  }

  *[Symbol.iterator](): IterableIterator<Service> {
    for (const s of this.#services) if (s) yield s;
  }

  get(id: number): Service | undefined {
    return this.#services[id];
  }

  byName(name: string): Service | undefined {
    return this.#byName.get(name);
  }

  byEndpoint(protocol: 'tcp' | 'udp', a: IpAddress, port: number): Service | undefined {
    return this.#byKey.get(serviceKey(protoNumber(protocol), a, port));
  }

  add(spec: ServiceSpec): Service {
    const key = serviceKey(protoNumber(spec.protocol), spec.address, spec.port);
    if (this.#byKey.has(key)) {
      throw new TslvsError(
        ErrorCodes.SERVICE_EXISTS,
        `service ${spec.protocol} ${formatEndpoint({ addr: spec.address, port: spec.port })} already exists`,
        {
          service: spec.name,
        },
      );
    }
    if (this.#byName.has(spec.name)) {
      throw new TslvsError(ErrorCodes.SERVICE_EXISTS, `a service named '${spec.name}' already exists`, {
        service: spec.name,
      });
    }
    if (this.#free.length === 0 && this.#services.length >= 0xffff) {
      throw new TslvsError(ErrorCodes.CAPACITY, 'too many services (limit 65535)');
    }
    const id = this.#free.pop() ?? this.#services.length;
    const svc = new Service(id, spec, this.dests, this.#env);
    this.#services[id] = svc;
    this.#byKey.set(key, svc);
    this.#byName.set(spec.name, svc);
    this.#rebuild();
    this.stats.reset(id);
    return svc;
  }

  rename(svc: Service, name: string): void {
    if (svc.name === name) return;
    if (this.#byName.has(name)) {
      throw new TslvsError(ErrorCodes.SERVICE_EXISTS, `a service named '${name}' already exists`, {
        service: name,
      });
    }
    this.#byName.delete(svc.name);
    svc.name = name;
    this.#byName.set(name, svc);
  }

  /** Unregisters the service; the caller deals with its dests and connections first. */
  remove(svc: Service): void {
    this.#services[svc.id] = undefined;
    this.#byKey.delete(serviceKey(svc.proto, svc.address, svc.port));
    this.#byName.delete(svc.name);
    this.#free.push(svc.id);
    this.#rebuild();
  }

  #rebuild(): void {
    const n = this.#services.length;
    this.addr = new Uint32Array(n * 4);
    this.port = new Uint16Array(n);
    this.proto = new Uint8Array(n);
    this.af = new Uint8Array(n);
    this.stats.ensure(n);
    let size = 16;
    while (size < this.#byKey.size * 4) size *= 2;
    this.#index = new Uint32Array(size);
    this.#vipIndex = new Uint32Array(size);
    this.#mask = size - 1;
    for (const s of this) {
      for (let i = 0; i < 4; i++) this.addr[s.id * 4 + i] = s.address.words[i]!;
      this.port[s.id] = s.port;
      this.proto[s.id] = s.proto;
      this.af[s.id] = s.address.family;
      let slot = this.#hash(s.proto, s.address.family, s.address.words, 0, s.port) & this.#mask;
      while (this.#index[slot] !== 0) slot = (slot + 1) & this.#mask;
      this.#index[slot] = s.id + 1;
      slot = this.#hash(0, s.address.family, s.address.words, 0, 0) & this.#mask;
      let dup = false;
      while (this.#vipIndex[slot] !== 0) {
        if (this.#sameAddr(this.#vipIndex[slot]! - 1, s.address.family, s.address.words, 0)) dup = true;
        slot = (slot + 1) & this.#mask;
      }
      if (!dup) this.#vipIndex[slot] = s.id + 1;
    }
  }

  /** IPv4 addresses hash their one word (the others are zero): isVip runs for every TCP/UDP packet. */
  #hash(proto: number, af: number, words: ArrayLike<number>, off: number, port: number): number {
    let h = mixWord(0x2545f491 ^ af, words[off]! | 0);
    if (af === 6) {
      h = mixWord(h, words[off + 1]! | 0);
      h = mixWord(h, words[off + 2]! | 0);
      h = mixWord(h, words[off + 3]! | 0);
    }
    return fmix32i(mixWord(h, (proto << 16) | port));
  }

  #sameAddr(id: number, af: number, words: ArrayLike<number>, off: number): boolean {
    const b = id * 4;
    const a = this.addr;
    return (
      this.af[id] === af &&
      a[b] === words[off] &&
      a[b + 1] === words[off + 1] &&
      a[b + 2] === words[off + 2] &&
      a[b + 3] === words[off + 3]
    );
  }

  /** The service for (protocol, VIP, port), or -1. Allocation-free. */
  find(proto: number, af: number, words: ArrayLike<number>, off: number, port: number): number {
    let slot = this.#hash(proto, af, words, off, port) & this.#mask;
    for (;;) {
      const v = this.#index[slot]!;
      if (v === 0) return -1;
      const id = v - 1;
      if (this.port[id] === port && this.proto[id] === proto && this.#sameAddr(id, af, words, off)) return id;
      slot = (slot + 1) & this.#mask;
    }
  }

  /** Whether any service uses this address as its VIP (ARP, "is it ours"). Allocation-free. */
  isVip(af: number, words: ArrayLike<number>, off: number): boolean {
    let slot = this.#hash(0, af, words, off, 0) & this.#mask;
    for (;;) {
      const v = this.#vipIndex[slot]!;
      if (v === 0) return false;
      if (this.#sameAddr(v - 1, af, words, off)) return true;
      slot = (slot + 1) & this.#mask;
    }
  }
}
