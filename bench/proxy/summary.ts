/**
 * Turns the proxy benchmark's samples into medians, a human table and the RESULT lines: absolute figures
 * per peer first, then every ratio (per CPU-second of the proxy; memory per idle connection as is), with
 * the five tslvs ratios last.
 */
import { type Figure, median, printResults } from '../lib/report.js';
import type { Measured } from './load.js';
import { PEERS, type PeerName } from './peers.js';

export const METRICS = ['tcp', 'keepalive', 'newconn', 'udp'] as const;
export type Metric = (typeof METRICS)[number];

export interface Samples {
  rates: Record<PeerName, Record<Metric, Measured[]>>;
  /** Bytes of proxy memory per idle connection, one per round. */
  mem: Record<PeerName, number[]>;
}

export function emptySamples(): Samples {
  const rates = {} as Samples['rates'];
  const mem = {} as Samples['mem'];
  for (const p of PEERS) {
    rates[p] = { tcp: [], keepalive: [], newconn: [], udp: [] };
    mem[p] = [];
  }
  return { rates, mem };
}

interface MetricInfo {
  label: string;
  /** RESULT name stems: absolute per wall second, per CPU-second, ratio. */
  wall: string;
  perCpu: string;
  ratio: string;
  /** The peer the ratio is taken against. */
  base: PeerName;
  wallUnit: string;
  cpuUnit: string;
  /** Count -> reported unit (bytes -> Gbit). */
  scale: number;
}

const INFO: Record<Metric, MetricInfo> = {
  tcp: {
    label: 'TCP throughput (iperf3, 1 stream)',
    wall: 'tcp_throughput_gbps',
    perCpu: 'tcp_gbit_per_cpu_s',
    ratio: 'tcp_throughput_vs_haproxy',
    base: 'haproxy',
    wallUnit: 'Gbit/s',
    cpuUnit: 'Gbit/CPU-s',
    scale: 8 / 1e9,
  },
  keepalive: {
    label: 'HTTP keep-alive (wrk -c50)',
    wall: 'keepalive_rps',
    perCpu: 'keepalive_req_per_cpu_s',
    ratio: 'keepalive_rps_vs_haproxy',
    base: 'haproxy',
    wallUnit: 'req/s',
    cpuUnit: 'req/CPU-s',
    scale: 1,
  },
  newconn: {
    label: "new connections (wrk -c50 -H 'Connection: close')",
    wall: 'new_conns_per_s',
    perCpu: 'new_conns_per_cpu_s',
    ratio: 'new_conns_vs_haproxy',
    base: 'haproxy',
    wallUnit: 'conn/s',
    cpuUnit: 'conn/CPU-s',
    scale: 1,
  },
  udp: {
    label: 'UDP datagrams (8 flows x 16 in flight, 64 B, echoed)',
    wall: 'udp_dgrams_per_s',
    perCpu: 'udp_dgrams_per_cpu_s',
    ratio: 'udp_dgrams_vs_nginx',
    base: 'nginx',
    wallUnit: 'dgram/s',
    cpuUnit: 'dgram/CPU-s',
    scale: 1,
  },
};

interface Row {
  wall: number;
  perCpu: number;
  cpuShare: number;
}

function row(xs: Measured[], scale: number): Row | null {
  if (xs.length === 0) return null;
  return {
    wall: median(xs.map((m) => (m.count * scale) / m.wallSeconds)),
    perCpu: median(xs.map((m) => (m.cpuSeconds > 0 ? (m.count * scale) / m.cpuSeconds : Number.NaN))),
    cpuShare: median(xs.map((m) => m.cpuSeconds / m.wallSeconds)),
  };
}

const fmt = (x: number) =>
  Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : 'n/a';

/** Prints the tables and the RESULT lines; returns the names of required figures that are missing. */
export function report(s: Samples, peers: readonly PeerName[], rounds: number): string[] {
  const absolute: Figure[] = [];
  const ratios: Figure[] = [];
  const final: Figure[] = [];
  for (const metric of METRICS) {
    const info = INFO[metric];
    const rows = new Map<PeerName, Row>();
    for (const p of peers) {
      const r = row(s.rates[p][metric], info.scale);
      if (r) rows.set(p, r);
    }
    const base = rows.get(info.base);
    console.log(
      `\n${info.label}, median of ${rounds}; ratio per CPU-second vs ${info.base} (higher is better)`,
    );
    console.log(
      `  ${'peer'.padEnd(8)} ${info.wallUnit.padStart(12)}  proxy CPU  ${info.cpuUnit.padStart(14)}  ratio`,
    );
    for (const [p, r] of rows) {
      const ratio = base ? r.perCpu / base.perCpu : Number.NaN;
      console.log(
        `  ${p.padEnd(8)} ${fmt(r.wall).padStart(12)}  ${`${(r.cpuShare * 100).toFixed(0)}%`.padStart(9)}  ${fmt(r.perCpu).padStart(14)}  ${fmt(ratio)}`,
      );
      absolute.push({ metric: `${p}_${info.wall}`, value: r.wall, unit: info.wallUnit });
      absolute.push({ metric: `${p}_${info.perCpu}`, value: r.perCpu, unit: info.cpuUnit });
      if (p === info.base) continue;
      const fig = { metric: p === 'tslvs' ? info.ratio : `${p}_${info.ratio}`, value: ratio, unit: '' };
      (p === 'tslvs' ? final : ratios).push(fig);
    }
  }
  const mem = new Map<PeerName, number>();
  for (const p of peers) if (s.mem[p].length) mem.set(p, median(s.mem[p]));
  const baseMem = mem.get('haproxy');
  console.log(
    `\nmemory per idle connection (proxy PSS growth / connections), median of ${rounds} (lower is better)`,
  );
  for (const [p, bytes] of mem) {
    const ratio = baseMem ? bytes / baseMem : Number.NaN;
    console.log(`  ${p.padEnd(8)} ${fmt(bytes / 1024).padStart(8)} KiB  ${fmt(ratio)}x haproxy`);
    absolute.push({ metric: `${p}_mem_per_conn_kib`, value: bytes / 1024, unit: 'KiB' });
    if (p === 'haproxy') continue;
    const fig = { metric: `${p === 'tslvs' ? '' : `${p}_`}mem_per_conn_vs_haproxy`, value: ratio, unit: '' };
    (p === 'tslvs' ? final : ratios).push(fig);
  }
  // The five tslvs ratios end the output in a fixed order, whatever was measured.
  const order = ['tcp_throughput_vs_haproxy', 'keepalive_rps_vs_haproxy', 'new_conns_vs_haproxy'];
  order.push('mem_per_conn_vs_haproxy', 'udp_dgrams_vs_nginx');
  const last = order.map(
    (m) => final.find((f) => f.metric === m) ?? { metric: m, value: Number.NaN, unit: '' },
  );
  console.log('');
  printResults([...absolute, ...ratios, ...last]);
  return last.filter((f) => !Number.isFinite(f.value)).map((f) => f.metric);
}
