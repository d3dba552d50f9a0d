import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MetricSet } from '../../../src/control/metrics/exposition.js';
import { type EchoServer, startEchoServer } from '../../../src/tools/echo-server.js';
import { parsePrometheusText } from '../../helpers/prom-text.js';
import { api, httpGet, startDaemon, type TestDaemon, waitFor } from '../api/support.js';

describe('/metrics', () => {
  let d: TestDaemon;
  let up: EchoServer;
  before(async () => {
    up = await startEchoServer({ name: 'up', host: '127.0.0.1' });
    d = await startDaemon(`
services:
  - name: web
    address: 127.0.0.1:{P0}
    scheduler: rr
    health: { kind: tcp, interval: 50ms, timeout: 500ms, rise: 1, fall: 1 }
    realServers:
      - { address: 127.0.0.1:${up.tcpPort}, weight: 7 }
      - { address: 127.0.0.1:{P2}, weight: 2, inhibitOnFailure: true }
  - name: dns
    protocol: udp
    address: 127.0.0.1:{P1}
    health: { kind: none }
    realServers:
      - { address: 10.2.0.1:53 }
`);
  });
  after(async () => {
    await d.close();
    await up.close();
  });

  const scrape = async () => {
    const r = await api(d.url, 'GET', '/metrics', { token: null });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheusText(r.text);
  };

  test('parses strictly; names as node_exporter ipvs, prefixed tslvs_; values match the API', async () => {
    for (let i = 0; i < 3; i++) await httpGet(d.ports[0]!);
    const downRs = `127.0.0.1:${d.ports[2]}`;
    await waitFor('the dead server down', async () => {
      const h = (await api(d.url, 'GET', '/v1/health')).json;
      return h.realServers.some(
        (x: { realServer: string; health: { healthy: boolean } }) =>
          x.realServer === downRs && !x.health.healthy,
      );
    });
    const m = await scrape();
    for (const f of m.values()) {
      assert.match(f.name, /^tslvs_/);
      assert.ok(f.help.length > 0, `${f.name} has HELP`);
      assert.ok(f.type === 'counter' || f.type === 'gauge', `${f.name} is typed`);
      if (f.type === 'counter') assert.match(f.name, /_total$/);
    }
    const stats = (await api(d.url, 'GET', '/v1/stats')).json;
    const one = (name: string) => {
      const f = m.get(name);
      assert.ok(f, `${name} is exported`);
      assert.equal(f.samples.length, 1);
      assert.deepEqual(f.samples[0]!.labels, {});
      return f.samples[0]!.value;
    };
    assert.equal(one('tslvs_ipvs_connections_total'), stats.totals.stats.conns);
    assert.ok(one('tslvs_ipvs_connections_total') >= 3);
    assert.equal(one('tslvs_ipvs_incoming_packets_total'), stats.totals.stats.inpkts);
    assert.equal(one('tslvs_ipvs_outgoing_packets_total'), stats.totals.stats.outpkts);
    assert.equal(one('tslvs_ipvs_incoming_bytes_total'), stats.totals.stats.inbytes);
    assert.equal(one('tslvs_ipvs_outgoing_bytes_total'), stats.totals.stats.outbytes);

    const labels = { service: 'web', protocol: 'tcp', vip: '127.0.0.1', port: String(d.ports[0]) };
    const series = (name: string, rs?: string) =>
      m
        .get(name)!
        .samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(rs ? { ...labels, rs } : labels));
    const upRs = `127.0.0.1:${up.tcpPort}`;
    assert.equal(series('tslvs_ipvs_backend_weight', upRs)?.value, 7);
    assert.equal(
      series('tslvs_ipvs_backend_weight', downRs)?.value,
      0,
      'an inhibited dead server has weight 0',
    );
    assert.equal(series('tslvs_backend_up', upRs)?.value, 1);
    assert.equal(series('tslvs_backend_up', downRs)?.value, 0);
    assert.equal(series('tslvs_service_up')?.value, 1);
    assert.ok(series('tslvs_ipvs_backend_connections_active', upRs) !== undefined);
    assert.ok(series('tslvs_ipvs_backend_connections_inactive', upRs) !== undefined);
    const webStats = stats.services.find((s: { name: string }) => s.name === 'web');
    assert.equal(series('tslvs_ipvs_service_connections_total')?.value, webStats.stats.conns);
    const rsStats = webStats.realServers.find((r: { address: string }) => r.address === upRs);
    assert.equal(series('tslvs_ipvs_backend_connections_total', upRs)?.value, rsStats.stats.conns);
    assert.ok((series('tslvs_health_checks_total', downRs)?.value ?? 0) >= 1);

    assert.equal(one('tslvs_conntable_limit'), 1048576);
    assert.equal(typeof one('tslvs_conntable_entries'), 'number');
    const reasons = (name: string, label: string) =>
      m
        .get(name)!
        .samples.map((s) => s.labels[label])
        .sort();
    assert.deepEqual(reasons('tslvs_conntable_drops_total', 'reason'), [
      'evicted_closing',
      'evicted_half_open',
      'table_full',
    ]);
    assert.deepEqual(reasons('tslvs_scheduling_failures_total', 'reason'), [
      'no_dest',
      'no_local_port',
      'table_full',
    ]);
    assert.ok(reasons('tslvs_proxy_errors_total', 'kind').includes('connect_failed'));
  });

  test('a service with no healthy server counts scheduling failures', async () => {
    const before = await scrape();
    const failures = (m: Awaited<ReturnType<typeof scrape>>) =>
      m.get('tslvs_scheduling_failures_total')!.samples.find((s) => s.labels.reason === 'no_dest')!.value;
    const r = await api(d.url, 'PATCH', '/v1/services/web/realservers/127.0.0.1:' + up.tcpPort, {
      body: { weight: 0 },
    });
    assert.equal(r.status, 200);
    await assert.rejects(httpGet(d.ports[0]!));
    const afterScrape = await scrape();
    assert.ok(failures(afterScrape) > failures(before));
  });
});

describe('Prometheus exposition', () => {
  test('label values are escaped and parse back unchanged', () => {
    const m = new MetricSet();
    const tricky = 'a"b\\c\nd';
    m.family('tslvs_test_total', 'counter', 'help with \\ and\nnewline').add(
      { service: tricky, rs: '[::1]:80' },
      3,
    );
    m.family('tslvs_test_gauge', 'gauge', 'g').add({}, Number.NaN);
    const parsed = parsePrometheusText(m.render());
    assert.deepEqual(parsed.get('tslvs_test_total')!.samples[0]!.labels, { service: tricky, rs: '[::1]:80' });
    assert.equal(parsed.get('tslvs_test_total')!.help, 'help with \\ and\nnewline');
    assert.ok(Number.isNaN(parsed.get('tslvs_test_gauge')!.samples[0]!.value));
  });

  test('names, duplicates and counter suffixes are refused', () => {
    const m = new MetricSet();
    assert.throws(() => m.family('bad-name', 'gauge', 'x'));
    assert.throws(() => m.family('tslvs_x', 'counter', 'x'), /_total/);
    const f = m.family('tslvs_ok', 'gauge', 'x');
    f.add({ a: '1' }, 1);
    assert.throws(() => f.add({ a: '1' }, 2), /duplicate/);
    assert.throws(() => f.add({ '0a': '1' }, 2), /label/);
    assert.throws(() => m.family('tslvs_ok', 'gauge', 'again'), /twice/);
  });

  test('the parser is strict', () => {
    const ok = '# HELP a_total x\n# TYPE a_total counter\na_total{l="v"} 1\n';
    assert.equal(parsePrometheusText(ok).get('a_total')!.samples[0]!.value, 1);
    assert.throws(() => parsePrometheusText(ok.slice(0, -1)), /newline/);
    assert.throws(() => parsePrometheusText(`${ok}b 1\na_total{l="w"} 2\n`), /contiguous/);
    assert.throws(() => parsePrometheusText(`${ok}a_total{l="v"} 2\n`), /duplicate/);
    assert.throws(() => parsePrometheusText('a{l="\\x"} 1\n'), /escape/);
    assert.throws(() => parsePrometheusText('a{l=v} 1\n'), /=" after/);
    assert.throws(() => parsePrometheusText('a 1x\n'), /bad value/);
    assert.throws(() => parsePrometheusText('a 1\n# TYPE a gauge\n'), /after samples/);
  });
});
