/**
 * `/metrics`: the daemon's state as Prometheus metrics. Traffic metrics use the names of node_exporter's
 * IPVS collector (collector/ipvs_linux.go) with the `tslvs_` prefix, so IPVS dashboards carry over:
 * the global `tslvs_ipvs_{connections,incoming_packets,outgoing_packets,incoming_bytes,outgoing_bytes}_total`
 * (no labels, like /proc/net/ip_vs_stats) and the per-backend gauges
 * `tslvs_ipvs_backend_{connections_active,connections_inactive,weight}`. node_exporter labels backends
 * with local_address/local_port/remote_address/remote_port/proto; tslvs uses service, protocol, vip,
 * port and rs (= remote address:port). tslvs adds per-service and per-backend counters, health, quorum,
 * the session table, scheduling failures and data-plane errors.
 */

import { formatEndpoint, formatIp } from '../../engine/addr.js';
import type { CounterSnapshot } from '../../engine/counters.js';
import type { EngineSnapshot, ServiceSnapshot } from '../../engine/snapshot.js';
import { haMetrics } from '../../ha/metrics.js';
import type { ApiHost } from '../api/context.js';
import { VERSION } from '../api/context.js';
import { destKey, indexHealth } from '../api/views.js';
import { serviceKey } from '../config/diff.js';
import { LabelSet, MetricSet } from './exposition.js';

const TRAFFIC: readonly [keyof CounterSnapshot, string, string][] = [
  ['conns', 'connections_total', 'connections scheduled'],
  ['inpkts', 'incoming_packets_total', 'incoming packets (proxy mode: reads from clients)'],
  ['outpkts', 'outgoing_packets_total', 'outgoing packets (proxy mode: reads from real servers)'],
  ['inbytes', 'incoming_bytes_total', 'incoming bytes'],
  ['outbytes', 'outgoing_bytes_total', 'outgoing bytes'],
];

/** Data-plane counters that count failures; the rest become their own `_total` metrics. */
const PROXY_ERROR_KINDS = new Set([
  'no_dest',
  'udp_no_dest',
  'connect_failed',
  'connect_timeout',
  'client_errors',
  'upstream_errors',
  'udp_send_errors',
  'address_unparsable',
  'refused_stopping',
]);

const CONNTABLE_DROPS: Readonly<Record<string, string>> = {
  dropped_full: 'table_full',
  evicted_half_open: 'evicted_half_open',
  evicted_closing: 'evicted_closing',
};

const SCHEDULING_FAILURES = ['no_dest', 'table_full', 'no_local_port'] as const;

function serviceLabels(s: Pick<ServiceSnapshot, 'name' | 'protocol' | 'address' | 'port'>): LabelSet {
  return new LabelSet({ service: s.name, protocol: s.protocol, vip: s.address, port: String(s.port) });
}

/** Label sets of every service and real server, rendered once for all families. */
function labelSets(snap: EngineSnapshot) {
  return snap.services.map((s) => {
    const svc = serviceLabels(s);
    return { s, svc, dests: s.dests.map((d) => ({ d, labels: svc.with({ rs: destKey(d) }) })) };
  });
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function traffic(m: MetricSet, snap: EngineSnapshot): void {
  const sets = labelSets(snap);
  for (const [field, suffix, help] of TRAFFIC) {
    const total = snap.services.reduce((n, s) => n + s.stats[field], 0);
    m.family(`tslvs_ipvs_${suffix}`, 'counter', `The total number of ${help} (all services).`).add({}, total);
  }
  for (const [field, suffix, help] of TRAFFIC) {
    const f = m.family(`tslvs_ipvs_service_${suffix}`, 'counter', `Per virtual service: ${help}.`);
    for (const { s, svc } of sets) f.add(svc, s.stats[field]);
  }
  for (const [field, suffix, help] of TRAFFIC) {
    const f = m.family(`tslvs_ipvs_backend_${suffix}`, 'counter', `Per real server: ${help}.`);
    for (const { dests } of sets) for (const { d, labels } of dests) f.add(labels, d.stats[field]);
  }
  const gauges: [string, string, (d: ServiceSnapshot['dests'][number]) => number][] = [
    [
      'tslvs_ipvs_backend_connections_active',
      'The current active connections by service and real server.',
      (d) => d.activeConns,
    ],
    [
      'tslvs_ipvs_backend_connections_inactive',
      'The current inactive connections by service and real server.',
      (d) => d.inactConns,
    ],
    [
      'tslvs_ipvs_backend_connections_persistent',
      'The current persistence templates by service and real server.',
      (d) => d.persistConns,
    ],
    [
      'tslvs_ipvs_backend_weight',
      'The current (effective) weight by service and real server.',
      (d) => d.weight,
    ],
    [
      'tslvs_backend_overloaded',
      '1 while the real server is at its upper connection threshold.',
      (d) => (d.overloaded ? 1 : 0),
    ],
    ['tslvs_backend_listed', '1 while the real server is in the scheduling list.', (d) => (d.listed ? 1 : 0)],
  ];
  for (const [name, help, value] of gauges) {
    const f = m.family(name, 'gauge', help);
    for (const { dests } of sets) for (const { d, labels } of dests) f.add(labels, value(d));
  }
}

function health(m: MetricSet, host: ApiHost): void {
  const d = host.director;
  const report = indexHealth(d.healthReport());
  const up = m.family('tslvs_backend_up', 'gauge', '1 if the real server passes its health check.');
  const checks = m.family('tslvs_health_checks_total', 'counter', 'Health checks completed per real server.');
  const failing = m.family('tslvs_health_check_consecutive_failures', 'gauge', 'Consecutive failed checks.');
  const duration = m.family(
    'tslvs_health_check_duration_seconds',
    'gauge',
    'Duration of the last health check.',
  );
  const svcUp = m.family(
    'tslvs_service_up',
    'gauge',
    '1 while the service has its quorum of healthy real servers.',
  );
  for (const s of d.config.services) {
    const key = serviceKey(s);
    const labels = new LabelSet({
      service: s.name,
      protocol: s.protocol,
      vip: formatIp(s.address.addr),
      port: String(s.address.port),
    });
    svcUp.add(labels, d.serviceUp(key) ? 1 : 0);
    for (const rs of s.realServers) {
      const rsKey = formatEndpoint(rs.address);
      const h = report.get(`${key}|${rsKey}`);
      const l = labels.with({ rs: rsKey });
      up.add(l, (h?.healthy ?? true) ? 1 : 0);
      checks.add(l, h?.status?.checks ?? 0);
      failing.add(l, h?.status?.consecutiveFail ?? 0);
      duration.add(l, (h?.status?.lastResult?.durationMs ?? 0) / 1000);
    }
  }
  m.family('tslvs_health_transitions_total', 'counter', 'Real servers that went up or down.').add(
    {},
    d.counters.healthTransitions,
  );
}

function engine(m: MetricSet, snap: EngineSnapshot): void {
  const c = snap.conntable;
  m.family(
    'tslvs_conntable_entries',
    'gauge',
    'Entries in the session table (connections and templates).',
  ).add({}, c.count);
  m.family('tslvs_conntable_limit', 'gauge', 'Capacity of the session table.').add({}, c.capacity);
  m.family(
    'tslvs_conntable_defence_active',
    'gauge',
    '1 while the secure_tcp defence state table is in use.',
  ).add({}, c.inDefence ? 1 : 0);
  const drops = m.family('tslvs_conntable_drops_total', 'counter', 'Sessions refused or evicted, by reason.');
  for (const [stat, reason] of Object.entries(CONNTABLE_DROPS)) drops.add({ reason }, c.stats[stat] ?? 0);
  for (const [stat, value] of Object.entries(c.stats)) {
    if (stat in CONNTABLE_DROPS) continue;
    m.family(
      `tslvs_conntable_${sanitize(stat)}_total`,
      'counter',
      `Session table: ${stat.replace(/_/g, ' ')}.`,
    ).add({}, value);
  }
  const fails = m.family(
    'tslvs_scheduling_failures_total',
    'counter',
    'New connections that got no real server, by reason.',
  );
  for (const reason of SCHEDULING_FAILURES) fails.add({ reason }, snap.balancer[reason] ?? 0);
  m.family('tslvs_sorry_server_connections_total', 'counter', 'Connections sent to a sorry server.').add(
    {},
    snap.balancer.sorry ?? 0,
  );
  m.family(
    'tslvs_persistence_templates_invalidated_total',
    'counter',
    'Persistence templates dropped because their real server went away.',
  ).add({}, snap.balancer.template_invalid ?? 0);
}

function dataplane(m: MetricSet, host: ApiHost): void {
  const kind = host.dataplane.kind;
  const { counters, gauges } = host.dataplane.stats();
  const errors = m.family(
    `tslvs_${kind}_errors_total`,
    'counter',
    `Errors of the ${kind} data plane, by kind.`,
  );
  for (const [name, value] of Object.entries(counters)) {
    if (PROXY_ERROR_KINDS.has(name)) errors.add({ kind: name }, value);
  }
  for (const [name, value] of Object.entries(counters)) {
    if (PROXY_ERROR_KINDS.has(name)) continue;
    m.family(
      `tslvs_${kind}_${sanitize(name)}_total`,
      'counter',
      `${kind} data plane: ${name.replace(/_/g, ' ')}.`,
    ).add({}, value);
  }
  for (const [name, value] of Object.entries(gauges)) {
    m.family(
      `tslvs_${kind}_${sanitize(name)}`,
      'gauge',
      `${kind} data plane: ${name.replace(/_/g, ' ')} now.`,
    ).add({}, value);
  }
}

/** The whole `/metrics` text. */
export async function collectMetrics(host: ApiHost): Promise<string> {
  const snap = await host.host.snapshot();
  const m = new MetricSet();
  m.family('tslvs_build_info', 'gauge', 'Always 1; the version is a label.').add({ version: VERSION }, 1);
  m.family('tslvs_start_time_seconds', 'gauge', 'When the daemon started (Unix time).').add(
    {},
    Math.floor(host.startedAt / 1000),
  );
  traffic(m, snap);
  health(m, host);
  engine(m, snap);
  dataplane(m, host);
  m.family(
    'tslvs_config_reloads_total',
    'counter',
    'Configuration changes applied (reloads and API changes).',
  ).add({}, host.director.counters.reloads);
  m.family('tslvs_config_reload_failures_total', 'counter', 'Configuration changes refused.').add(
    {},
    host.director.counters.reloadFailures,
  );
  for (const f of haMetrics(host.ha)) {
    const fam = m.family(f.name, f.type, f.help);
    for (const sample of f.samples) fam.add(sample.labels, sample.value);
  }
  return m.render();
}
