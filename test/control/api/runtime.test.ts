import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type EchoServer, startEchoServer } from '../../../src/tools/echo-server.js';
import { api, connect, httpGet, startDaemon, type TestDaemon, waitFor } from './support.js';

describe('admin API: sessions, stats, zero, health', () => {
  let d: TestDaemon;
  let a: EchoServer;
  let b: EchoServer;
  let bHealthy = true;
  const sockets: net.Socket[] = [];

  before(async () => {
    a = await startEchoServer({ name: 'a', host: '127.0.0.1' });
    b = await startEchoServer({ name: 'b', host: '127.0.0.1', healthy: () => bHealthy });
    d = await startDaemon(`
services:
  - name: web
    address: 127.0.0.1:{P0}
    scheduler: rr
    health: { kind: http, path: /healthz, interval: 50ms, timeout: 500ms, rise: 1, fall: 1 }
    realServers:
      - { address: 127.0.0.1:${a.tcpPort} }
      - { address: 127.0.0.1:${b.tcpPort}, inhibitOnFailure: true }
`);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await d.close();
    await a.close();
    await b.close();
  });

  test('the session table: pages, filters by service, client and real server', async () => {
    const vip = d.ports[0]!;
    for (let i = 0; i < 3; i++) sockets.push(await connect(vip));
    const all = await waitFor('3 sessions', async () => {
      const r = await api(d.url, 'GET', '/v1/connections?service=web');
      return r.json.total >= 3 ? r.json : undefined;
    });
    assert.equal(all.total, 3);
    for (const c of all.items) {
      assert.equal(c.protocol, 'tcp');
      assert.equal(c.virtual, `127.0.0.1:${vip}`);
      assert.equal(c.service, 'web');
      assert.ok(c.expiresMs > 0);
    }
    const page1 = (await api(d.url, 'GET', '/v1/connections?limit=2')).json;
    const page2 = (await api(d.url, 'GET', '/v1/connections?limit=2&offset=2')).json;
    assert.equal(page1.items.length, 2);
    assert.equal(page2.items.length, 1);
    assert.equal(new Set([...page1.items, ...page2.items].map((c: { client: string }) => c.client)).size, 3);
    const mine = `127.0.0.1:${sockets[0]!.localPort}`;
    const byClient = (await api(d.url, 'GET', `/v1/connections?client=${mine}`)).json;
    assert.deepEqual(
      byClient.items.map((c: { client: string }) => c.client),
      [mine],
    );
    const rs = byClient.items[0].realServer;
    const byRs = (await api(d.url, 'GET', `/v1/connections?rs=${rs}`)).json;
    assert.ok(byRs.total >= 1 && byRs.items.every((c: { realServer: string }) => c.realServer === rs));
    const other = (await api(d.url, 'GET', '/v1/connections?rs=10.9.9.9:1')).json;
    assert.equal(other.total, 0);
    assert.equal((await api(d.url, 'GET', '/v1/connections?limit=100000')).status, 400);
    assert.equal((await api(d.url, 'GET', '/v1/connections?service=nosuch')).status, 404);
    assert.equal((await api(d.url, 'GET', '/v1/connections?client=not-an-ip')).status, 400);
  });

  test('stats per service and real server; zero resets them', async () => {
    for (let i = 0; i < 4; i++) assert.match(await httpGet(d.ports[0]!), /^[ab] /);
    const stats = await waitFor('counted connections', async () => {
      const r = (await api(d.url, 'GET', '/v1/stats')).json;
      return r.services[0].stats.conns >= 7 ? r : undefined;
    });
    const web = stats.services[0];
    assert.equal(
      web.realServers.reduce((n: number, x: { stats: { conns: number } }) => n + x.stats.conns, 0),
      web.stats.conns,
    );
    assert.ok(web.stats.inbytes > 0 && web.stats.outbytes > 0);
    assert.deepEqual(stats.totals.stats, web.stats);
    assert.equal(stats.conntable.capacity, 1048576);
    const z = await api(d.url, 'POST', '/v1/zero?service=web');
    assert.deepEqual(z.json, { zeroed: `tcp/127.0.0.1:${d.ports[0]}` });
    const zeroed = (await api(d.url, 'GET', '/v1/stats')).json;
    assert.equal(zeroed.services[0].stats.conns, 0);
    assert.equal((await api(d.url, 'POST', '/v1/zero', { token: null })).status, 401);
  });

  test('health: the last check result and its reason; an inhibited server drops to weight 0', async () => {
    const rsB = `127.0.0.1:${b.tcpPort}`;
    bHealthy = false;
    const down = await waitFor('b down', async () => {
      const h = (await api(d.url, 'GET', '/v1/health')).json;
      const e = h.realServers.find((x: { realServer: string }) => x.realServer === rsB);
      return e && !e.health.healthy ? h : undefined;
    });
    const e = down.realServers.find((x: { realServer: string }) => x.realServer === rsB);
    assert.equal(e.health.state, 'down');
    assert.equal(e.health.lastCheck.ok, false);
    assert.match(e.health.lastCheck.reason, /503/);
    assert.deepEqual(down.services[0], {
      name: 'web',
      key: `tcp/127.0.0.1:${d.ports[0]}`,
      up: true,
      healthy: 1,
      total: 2,
      quorum: 1,
    });
    const view = (await api(d.url, 'GET', `/v1/services/web/realservers/${rsB}`)).json;
    assert.equal(view.weight, 0);
    assert.equal(view.configuredWeight, 1);
    assert.equal(view.listed, true);
    bHealthy = true;
    await waitFor('b up again', async () => {
      const v = (await api(d.url, 'GET', `/v1/services/web/realservers/${rsB}`)).json;
      return v.health.healthy && v.weight === 1;
    });
  });
});
