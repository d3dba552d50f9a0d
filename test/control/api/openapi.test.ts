import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildRouter } from '../../../src/control/api/routes.js';
import { validate } from '../../helpers/json-schema.js';
import { api, startDaemon, type TestDaemon } from './support.js';

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { responses: Record<string, { content?: Record<string, { schema: object }> }>; security: unknown[] }
    >
  >;
  components: { schemas: Record<string, object> };
};

describe('OpenAPI document', () => {
  let d: TestDaemon;
  let doc: Doc;
  before(async () => {
    d = await startDaemon(`
services:
  - name: web
    address: 127.0.0.1:{P0}
    scheduler: { name: mh, flags: [mh-port] }
    persistence: { timeout: 10m, netmask: 255.255.255.0 }
    health: { kind: none }
    realServers:
      - { address: 10.1.0.1:80, weight: 3, maxConnections: 10 }
`);
    doc = (await api(d.url, 'GET', '/v1/openapi.json', { token: null })).json;
  });
  after(() => d.close());

  test('is OpenAPI 3.1 and documents exactly the served routes', () => {
    assert.equal(doc.openapi, '3.1.0');
    const router = buildRouter(d.daemon);
    const served = router.routes.map((r) => `${r.method} ${r.path}`).sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    assert.deepEqual(documented, served);
    for (const [p, ops] of Object.entries(doc.paths)) {
      const concrete = p.replace(/\{(\w+)\}/g, 'x');
      for (const m of Object.keys(ops)) {
        const found = router.match(m.toUpperCase(), concrete);
        assert.ok(found && 'route' in found && found.route.path === p, `${m} ${p} is not served`);
      }
    }
    for (const r of router.routes) {
      const op = doc.paths[r.path]![r.method.toLowerCase()]!;
      assert.equal(
        op.security.length > 0,
        r.mutates,
        `${r.method} ${r.path}: security matches the token rule`,
      );
    }
  });

  /** The schema documented for (method, path template, status). */
  const schemaOf = (method: string, path: string, status: number): object => {
    const res = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
    assert.ok(res, `${method} ${path} does not document status ${status}`);
    return res.content!['application/json']!.schema;
  };

  const check = async (method: string, template: string, url: string, body?: unknown) => {
    const r = await api(d.url, method, url, body === undefined ? {} : { body });
    const errors = validate(
      schemaOf(method, template, r.status) as Record<string, unknown>,
      r.json,
      doc as unknown as Record<string, unknown>,
    );
    assert.deepEqual(errors, [], `${method} ${url} (${r.status}) does not match its schema`);
    return r;
  };

  test('real answers match their documented schemas', async () => {
    await check('GET', '/v1/status', '/v1/status');
    await check('GET', '/v1/services', '/v1/services');
    await check('GET', '/v1/services/{service}', '/v1/services/web');
    await check('GET', '/v1/services/{service}/realservers', '/v1/services/web/realservers');
    await check(
      'GET',
      '/v1/services/{service}/realservers/{realServer}',
      '/v1/services/web/realservers/10.1.0.1:80',
    );
    await check('GET', '/v1/connections', '/v1/connections?limit=5');
    await check('GET', '/v1/timeouts', '/v1/timeouts');
    await check('GET', '/v1/stats', '/v1/stats');
    await check('GET', '/v1/health', '/v1/health');
    await check('GET', '/v1/config', '/v1/config');
    await check('PATCH', '/v1/services/{service}', '/v1/services/web?dryRun=1', { scheduler: 'rr' });
    await check('POST', '/v1/services/{service}/realservers', '/v1/services/web/realservers', {
      address: '10.1.0.2:80',
    });
    await check(
      'POST',
      '/v1/services/{service}/realservers/{realServer}/drain',
      '/v1/services/web/realservers/10.1.0.2:80/drain',
    );
    await check('POST', '/v1/zero', '/v1/zero');
    const missing = await check('GET', '/v1/services/{service}', '/v1/services/nosuch');
    assert.equal(missing.status, 404);
    const invalid = await check('PATCH', '/v1/services/{service}', '/v1/services/web', { quorum: 0 });
    assert.equal(invalid.status, 422);
  });

  test('the checker catches an answer that does not match', async () => {
    const view = (await api(d.url, 'GET', '/v1/services/web')).json;
    const root = doc as unknown as Record<string, unknown>;
    const schema = schemaOf('GET', '/v1/services/{service}', 200) as Record<string, unknown>;
    assert.deepEqual(validate(schema, view, root), []);
    assert.notDeepEqual(validate(schema, { ...view, up: 'yes' }, root), []);
    assert.notDeepEqual(validate(schema, { ...view, extra: 1 }, root), []);
    const { key: _k, ...noKey } = view;
    assert.notDeepEqual(validate(schema, noKey, root), []);
  });
});
