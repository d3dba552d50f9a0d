/**
 * Test harness for the pipeline: a recording FrameSink, and a Balancer + Pipeline built from the topology
 * that test/fixtures/pipeline/make-fixtures.py writes (so the fixtures and the code agree on addresses).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type IpAddress, parseIp } from '../../../src/engine/addr.js';
import { Balancer } from '../../../src/engine/balancer.js';
import { FORWARDING_NAMES, type ForwardingMethod } from '../../../src/engine/forwarding.js';
import type { FrameSink, PipelineOptions, VnetState } from '../../../src/engine/pipeline/index.js';
import { Pipeline } from '../../../src/engine/pipeline/index.js';
import { fixturesDir } from '../../helpers/paths.js';
import { seededRandom } from '../helpers.js';

export interface SentFrame {
  port: number;
  bytes: Uint8Array;
  vnet: VnetState | null;
}

/** Sink that records every frame sent; the slot is poisoned before each use so stale bytes show. */
export class RecordingSink implements FrameSink {
  readonly buf: Uint8Array;
  readonly capacity: number;
  readonly port: number;
  readonly log: SentFrame[];
  readonly slot: number;
  #poison = 0xa5;

  constructor(port: number, log: SentFrame[], capacity = 65_600, slot = 37) {
    this.port = port;
    this.log = log;
    this.capacity = capacity;
    this.slot = slot;
    this.buf = new Uint8Array(slot + capacity + 64);
  }

  acquire(): number {
    this.#poison = (this.#poison * 7 + 13) & 0xff;
    this.buf.fill(this.#poison);
    return this.slot;
  }

  send(len: number, vnet: VnetState | null = null): boolean {
    this.log.push({
      port: this.port,
      bytes: this.buf.slice(this.slot, this.slot + len),
      vnet: vnet === null ? null : { ...vnet },
    });
    return true;
  }
}

/**
 * Sink that only counts (allocation tests: recording copies every frame). Like the packet worker's rings,
 * all of them write into one shared buffer (`SHARED`, slot `i * 70000`), where the test also places its
 * input frames, so frames are moved with copyWithin as in production.
 */
export const SHARED = new Uint8Array(1 << 20);
export const SHARED_INPUT_OFF = 512 * 1024;

export class CountingSink implements FrameSink {
  readonly buf = SHARED;
  readonly capacity = 65_600;
  readonly #slot: number;
  sent = 0;
  constructor(i: number) {
    this.#slot = i * 70_000;
  }
  acquire(): number {
    return this.#slot;
  }
  send(): boolean {
    this.sent++;
    return true;
  }
}

export interface Topology {
  interfaces: { name: string; mac: string; mtu: number; vlan?: number; addresses: [string, number][] }[];
  routes: { prefix: string; len: number; via: string; iface: number }[];
  neighbours: [string, string][];
  localAddresses: string[];
  portRange: [number, number];
  services: {
    name: string;
    proto: 'tcp' | 'udp';
    vip: string;
    port: number;
    fwd: string;
    dests: [string, number, number?][];
    proxyProtocol?: 0 | 1 | 2;
    onePacket?: boolean;
  }[];
}

export interface Setup {
  portRange?: [number, number];
  dropNeighbours?: string[];
  /** false: a VRRP backup (answers neither ARP/ND nor ping for the VIPs). */
  answerVips?: boolean;
  answerPing?: boolean;
  pingRatePerSec?: number;
}

export function loadScenarios(): { topology: Topology; scenarios: unknown[] } {
  return JSON.parse(readFileSync(join(fixturesDir, 'pipeline', 'scenarios.json'), 'utf8'));
}

export function pipelineOptions(t: Topology, setup: Setup = {}): PipelineOptions {
  const drop = new Set(setup.dropNeighbours ?? []);
  return {
    interfaces: t.interfaces.map((i) => ({
      name: i.name,
      mac: i.mac,
      mtu: i.mtu,
      vlan: i.vlan ?? 0,
      addresses: i.addresses.map(([a, len]) => ({ address: parseIp(a), prefixLen: len })),
    })),
    routes: t.routes.map((r) => ({
      prefix: parseIp(r.prefix),
      prefixLen: r.len,
      via: parseIp(r.via),
      iface: r.iface,
    })),
    staticNeighbours: t.neighbours
      .filter(([a]) => !drop.has(a))
      .map(([a, mac]) => ({ address: parseIp(a), mac })),
    ...(setup.answerVips === undefined ? {} : { answerVips: setup.answerVips }),
    ...(setup.answerPing === undefined ? {} : { answerPing: setup.answerPing }),
    ...(setup.pingRatePerSec === undefined ? {} : { pingRatePerSec: setup.pingRatePerSec }),
  };
}

export interface Built {
  balancer: Balancer;
  pipeline: Pipeline;
  log: SentFrame[];
  sinks: RecordingSink[];
}

export function build(
  t: Topology,
  setup: Setup = {},
  capacity = 4096,
  extra: Partial<PipelineOptions> = {},
  counting = false,
): Built {
  const locals: IpAddress[] = t.localAddresses.map(parseIp);
  const balancer = new Balancer({
    conntable: { capacity },
    random: seededRandom(7),
    localAddresses: locals,
    localPortRange: setup.portRange ?? t.portRange,
  });
  const log: SentFrame[] = [];
  const sinks = t.interfaces.map((_, i) => new RecordingSink(i, log));
  const out: FrameSink[] = counting ? t.interfaces.map((_, i) => new CountingSink(i)) : sinks;
  const pipeline = new Pipeline(balancer, out, { ...pipelineOptions(t, setup), ...extra });
  for (const s of t.services) {
    const svc = balancer.services.add({
      name: s.name,
      protocol: s.proto,
      address: parseIp(s.vip),
      port: s.port,
      scheduler: 'rr',
      forwarding: FORWARDING_NAMES.indexOf(s.fwd as never) as ForwardingMethod,
      onePacket: s.onePacket ?? false,
    });
    for (const [addr, port, weight] of s.dests) {
      svc.addDest({ address: parseIp(addr), port, weight: weight ?? 1 });
    }
    if (s.proxyProtocol) pipeline.setServiceOptions(svc.id, { proxyProtocol: s.proxyProtocol });
  }
  return { balancer, pipeline, log, sinks };
}

export function fromHex(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
