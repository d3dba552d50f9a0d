import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isLoopback } from '../../../src/control/api/server.js';
import { api, startDaemon, type TestDaemon, TOKEN } from './support.js';

const CONFIG = `
services:
  - name: web
    address: 127.0.0.1:{P0}
    scheduler: wrr
    health: { kind: none }
    realServers:
      - { address: 10.1.0.1:80, weight: 3 }
      - { address: 10.1.0.2:80, weight: 1 }
  - name: dns
    protocol: udp
    address: 127.0.0.1:{P1}
    health: { kind: none }
    realServers:
      - { address: 10.2.0.1:53 }
`;

describe('admin API: changes', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon(CONFIG);
  });
  after(() => d.close());

  const engineDests = async (key: string) => {
    const snap = await d.daemon.host.snapshot();
    return snap.services
      .find((s) => s.key === key)
      ?.dests.map((x) => `${x.address}:${x.port}/${x.weight}`)
      .sort();
  };

  test('changes need the token: 401 without, 403 with a wrong one; reads are open', async () => {
    const body = { weight: 9 };
    const none = await api(d.url, 'PATCH', '/v1/services/web/realservers/10.1.0.1:80', { body, token: null });
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, 'TSLVS_ERR_UNAUTHORIZED');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await api(d.url, 'PATCH', '/v1/services/web/realservers/10.1.0.1:80', {
      body,
      token: 'nope',
    });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.json.error.code, 'TSLVS_ERR_FORBIDDEN');
    const read = await api(d.url, 'GET', '/v1/services/web', { token: null });
    assert.equal(read.status, 200);
    assert.equal(
      read.json.realServers.find((r: { address: string }) => r.address === '10.1.0.1:80').weight,
      3,
    );
  });

  test('a daemon without a token refuses every change with 403', async () => {
    const ro = await startDaemon(CONFIG, { token: null });
    try {
      const r = await api(ro.url, 'DELETE', '/v1/services/web', { token: TOKEN });
      assert.equal(r.status, 403);
      assert.equal(r.json.error.code, 'TSLVS_ERR_FORBIDDEN');
      assert.equal((await api(ro.url, 'GET', '/v1/services/web')).status, 200);
    } finally {
      await ro.close();
    }
  });

  test('edit a weight; the same edit again changes nothing', async () => {
    const first = await api(d.url, 'PATCH', '/v1/services/web/realservers/10.1.0.2:80', {
      body: { weight: 5 },
    });
    assert.equal(first.status, 200);
    assert.equal(first.json.applied, true);
    assert.deepEqual(
      first.json.changes.map((c: { kind: string; fields: string[] }) => [c.kind, c.fields]),
      [['realserver-changed', ['weight']]],
    );
    assert.deepEqual(first.json.changes[0].before, { weight: 1 });
    assert.deepEqual(first.json.changes[0].after, { weight: 5 });
    assert.deepEqual(await engineDests('tcp/127.0.0.1:' + d.ports[0]), ['10.1.0.1:80/3', '10.1.0.2:80/5']);
    const again = await api(d.url, 'PATCH', '/v1/services/web/realservers/10.1.0.2:80', {
      body: { weight: 5 },
    });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json.changes, []);
    assert.equal(again.json.operations, 0);
  });

  test('validation errors are JSON with a stable code and name the field', async () => {
    const bad = await api(d.url, 'PATCH', '/v1/services/web/realservers/10.1.0.1:80', {
      body: { weight: 70000 },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.error.code, 'TSLVS_ERR_CONFIG');
    assert.equal(bad.json.error.details.issues[0].field, 'weight');
    assert.match(bad.json.error.details.issues[0].message, /<= 65535/);
    const unknown = await api(d.url, 'PATCH', '/v1/services/web', { body: { schedular: 'rr' } });
    assert.equal(unknown.status, 422);
    assert.match(unknown.json.error.details.issues[0].message, /did you mean 'scheduler'/);
    const notJson = await api(d.url, 'POST', '/v1/services', {
      body: '{"name": ',
      contentType: 'application/json',
    });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.error.code, 'TSLVS_ERR_MALFORMED');
    const identity = await api(d.url, 'PATCH', '/v1/services/web', { body: { address: '127.0.0.1:1' } });
    assert.equal(identity.status, 400);
    assert.equal(identity.json.error.code, 'TSLVS_ERR_INVALID_ARGUMENT');
    const missing = await api(d.url, 'GET', '/v1/services/nosuch');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'TSLVS_ERR_SERVICE_NOT_FOUND');
    const noRs = await api(d.url, 'DELETE', '/v1/services/web/realservers/10.9.9.9:80');
    assert.equal(noRs.status, 404);
    assert.equal(noRs.json.error.code, 'TSLVS_ERR_DEST_NOT_FOUND');
    const route = await api(d.url, 'GET', '/v1/nothing');
    assert.equal(route.status, 404);
    assert.equal(route.json.error.code, 'TSLVS_ERR_NOT_FOUND');
    const method = await api(d.url, 'PUT', '/v1/status');
    assert.equal(method.status, 405);
    assert.equal(method.headers.get('allow'), 'GET');
  });

  test('a dry run shows the diff and changes nothing', async () => {
    const before = await api(d.url, 'GET', '/v1/config');
    const engineBefore = await engineDests(`tcp/127.0.0.1:${d.ports[0]}`);
    const r = await api(d.url, 'POST', '/v1/services/web/realservers?dryRun=1', {
      body: { address: '10.1.0.3:80', weight: 2 },
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.applied, false);
    assert.equal(r.json.dryRun, true);
    assert.equal(r.json.changes[0].kind, 'realserver-added');
    assert.equal(r.json.changes[0].after.weight, 2);
    assert.ok(r.json.operations > 0);
    assert.deepEqual((await api(d.url, 'GET', '/v1/config')).json, before.json);
    assert.deepEqual(await engineDests(`tcp/127.0.0.1:${d.ports[0]}`), engineBefore);
  });

  test('add, conflict, replace, drain and delete a real server', async () => {
    const key = `tcp/127.0.0.1:${d.ports[0]}`;
    const add = await api(d.url, 'POST', '/v1/services/web/realservers', {
      body: { address: '10.1.0.4:80', weight: 4 },
    });
    assert.equal(add.status, 201);
    assert.equal(add.headers.get('location'), '/v1/services/web/realservers/10.1.0.4%3A80');
    const dup = await api(d.url, 'POST', '/v1/services/web/realservers', {
      body: { address: '10.1.0.4:80' },
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.code, 'TSLVS_ERR_DEST_EXISTS');
    const drain = await api(
      d.url,
      'POST',
      `/v1/services/${encodeURIComponent(key)}/realservers/10.1.0.4:80/drain`,
    );
    assert.equal(drain.status, 200);
    assert.equal(drain.json.previousWeight, 4);
    const rs = await api(d.url, 'GET', '/v1/services/web/realservers/10.1.0.4:80');
    assert.equal(rs.json.weight, 0);
    assert.equal(rs.json.configuredWeight, 0);
    const put = await api(d.url, 'PUT', '/v1/services/web/realservers/10.1.0.4:80', {
      body: { weight: 6, maxConnections: 100 },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(put.json.changes[0].fields.sort(), ['maxConnections', 'weight']);
    const putAgain = await api(d.url, 'PUT', '/v1/services/web/realservers/10.1.0.4:80', {
      body: { weight: 6, maxConnections: 100 },
    });
    assert.deepEqual(putAgain.json.changes, []);
    const del = await api(d.url, 'DELETE', '/v1/services/web/realservers/10.1.0.4:80');
    assert.equal(del.json.changes[0].kind, 'realserver-removed');
    assert.ok(!(await engineDests(key))!.some((x) => x.startsWith('10.1.0.4')));
  });

  test('services by name and by key; PUT creates then replaces; PATCH null resets to the default', async () => {
    const created = await api(
      d.url,
      'PUT',
      `/v1/services/${encodeURIComponent(`tcp:127.0.0.1:${d.ports[2]}`)}`,
      {
        body: {
          name: 'api',
          scheduler: { name: 'sh', flags: ['sh-port'] },
          persistence: { timeout: 600 },
          health: { kind: 'none' },
          realServers: [{ address: '10.3.0.1:8080' }],
        },
      },
    );
    assert.equal(created.status, 201, created.text);
    const view = (await api(d.url, 'GET', '/v1/services/api')).json;
    assert.deepEqual(view.scheduler, { name: 'sh', flags: ['sh-port'] });
    assert.deepEqual(view.persistence, { timeoutSeconds: 600, prefixLength: 32 });
    const reset = await api(d.url, 'PATCH', '/v1/services/api', {
      body: { persistence: null, scheduler: { flags: null } },
    });
    assert.equal(reset.status, 200, reset.text);
    const after = (await api(d.url, 'GET', `/v1/services/tcp:127.0.0.1:${d.ports[2]}`)).json;
    assert.equal(after.persistence, null);
    assert.deepEqual(after.scheduler, { name: 'sh', flags: [] });
    const conflict = await api(d.url, 'POST', '/v1/services', {
      body: { name: 'api2', address: `127.0.0.1:${d.ports[2]}`, realServers: [] },
    });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.error.code, 'TSLVS_ERR_SERVICE_EXISTS');
    assert.equal((await api(d.url, 'DELETE', '/v1/services/api')).status, 200);
    assert.equal((await api(d.url, 'GET', '/v1/services/api')).status, 404);
  });

  test('a batch is all or nothing: a failing action leaves everything as it was', async () => {
    const before = (await api(d.url, 'GET', '/v1/config?format=raw')).json;
    const r = await api(d.url, 'POST', '/v1/batch', {
      body: {
        actions: [
          { op: 'editRealServer', service: 'web', realServer: '10.1.0.1:80', changes: { weight: 42 } },
          { op: 'addRealServer', service: 'dns', body: { address: '10.2.0.2:53' } },
          { op: 'deleteRealServer', service: 'dns', realServer: '10.2.0.99:53' },
        ],
      },
    });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.details.action, 2);
    assert.deepEqual((await api(d.url, 'GET', '/v1/config?format=raw')).json, before);
    assert.deepEqual(await engineDests(`tcp/127.0.0.1:${d.ports[0]}`), ['10.1.0.1:80/3', '10.1.0.2:80/5']);
    const invalid = await api(d.url, 'POST', '/v1/batch', {
      body: {
        actions: [
          { op: 'editRealServer', service: 'web', realServer: '10.1.0.1:80', changes: { weight: 42 } },
          { op: 'setTimeouts', tcp: 10, udp: 'x' },
        ],
      },
    });
    assert.equal(invalid.status, 400);
    assert.deepEqual((await api(d.url, 'GET', '/v1/config?format=raw')).json, before);
  });

  test('POST /v1/config applies a whole config as a diff; a listener that cannot open rolls it all back', async () => {
    const current = (await api(d.url, 'GET', '/v1/config?format=raw')).json.config;
    const busy = d.ports[3]!;
    const blocker = await import('node:net').then(
      (net) =>
        new Promise<import('node:net').Server>((resolve) => {
          const s = net.createServer();
          s.listen(busy, '127.0.0.1', () => resolve(s));
        }),
    );
    try {
      const next = {
        ...current,
        admin: { token: TOKEN },
        services: [
          ...current.services.map((s: { name: string }) =>
            s.name === 'web' ? { ...s, scheduler: 'rr' } : s,
          ),
          { name: 'blocked', address: `127.0.0.1:${busy}`, health: { kind: 'none' }, realServers: [] },
        ],
      };
      const dry = await api(d.url, 'POST', '/v1/config?dryRun=1', { body: next });
      assert.equal(dry.status, 200);
      assert.deepEqual(dry.json.changes.map((c: { kind: string }) => c.kind).sort(), [
        'service-added',
        'service-changed',
      ]);
      const r = await api(d.url, 'POST', '/v1/config', { body: next });
      assert.equal(r.status, 500);
      assert.equal(r.json.error.code, 'TSLVS_ERR_ENVIRONMENT');
      const snap = await d.daemon.host.snapshot();
      assert.equal(snap.services.find((s) => s.name === 'web')?.scheduler, 'wrr');
      assert.ok(!snap.services.some((s) => s.name === 'blocked'));
      assert.equal((await api(d.url, 'GET', '/v1/services/blocked')).status, 404);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('concurrent changes never lose each other (they run in the director queue)', async () => {
    const adds = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api(d.url, 'POST', '/v1/services/dns/realservers', {
          body: { address: `10.8.0.${i + 1}:53`, weight: i },
        }),
      ),
    );
    assert.deepEqual(
      adds.map((r) => r.status),
      adds.map(() => 201),
    );
    const view = (await api(d.url, 'GET', '/v1/services/dns')).json;
    for (let i = 0; i < 20; i++) {
      const rs = view.realServers.find((r: { address: string }) => r.address === `10.8.0.${i + 1}:53`);
      assert.equal(rs?.configuredWeight, i);
    }
    const del = await api(d.url, 'POST', '/v1/batch', {
      body: {
        actions: Array.from({ length: 20 }, (_, i) => ({
          op: 'deleteRealServer',
          service: 'dns',
          realServer: `10.8.0.${i + 1}:53`,
        })),
      },
    });
    assert.equal(del.status, 200);
    assert.equal(del.json.changes.length, 20);
  });

  test('reads from outside loopback need the token', () => {
    assert.equal(isLoopback('127.0.0.1'), true);
    assert.equal(isLoopback('127.9.8.7'), true);
    assert.equal(isLoopback('::1'), true);
    assert.equal(isLoopback('::ffff:127.0.0.1'), true);
    assert.equal(isLoopback('10.0.0.1'), false);
    assert.equal(isLoopback('::ffff:10.0.0.1'), false);
    assert.equal(isLoopback(undefined), false);
  });

  test('timeouts: PUT like ipvsadm --set, 0 leaves one unchanged', async () => {
    const r = await api(d.url, 'PUT', '/v1/timeouts', { body: { tcp: 600, tcpFin: 0, udp: 45 } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((await api(d.url, 'GET', '/v1/timeouts')).json, { tcp: 600, tcpFin: 120, udp: 45 });
    const snap = await d.daemon.host.snapshot();
    assert.deepEqual(snap.conntable.timeouts, { tcpMs: 600_000, tcpFinMs: 120_000, udpMs: 45_000 });
    const bad = await api(d.url, 'PUT', '/v1/timeouts', { body: { tcp: -1 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.details.field, 'body.tcp');
  });
});
