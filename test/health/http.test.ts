import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { BODY_LIMIT, createHttpChecker, defaultHostHeader } from '../../src/health/http.js';
import type { HttpSpec } from '../../src/health/spec.js';
import {
  activeResources,
  assertNoLeak,
  BASE,
  closeServer,
  listen,
  loopback,
  signal,
  waitFor,
} from './support.js';

interface Seen {
  requests: { method: string; url: string; headers: IncomingHttpHeaders }[];
  sockets: Socket[];
}

async function startServer(): Promise<{ server: Server; port: number; seen: Seen }> {
  const seen: Seen = { requests: [], sockets: [] };
  const server = createServer((req, res) => {
    seen.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    switch (req.url) {
      case '/ok':
        res.end('status: all good');
        return;
      case '/503':
        res.writeHead(503).end('maintenance');
        return;
      case '/204':
        res.writeHead(204).end();
        return;
      case '/big':
        // the marker sits past the 64 KiB the checker reads
        res.end(`${'a'.repeat(BODY_LIMIT)}MARKER`);
        return;
      case '/hang':
        return; // never answers
      default:
        res.writeHead(404).end();
    }
  });
  server.on('connection', (s) => seen.sockets.push(s));
  const port = await listen(server);
  return { server, port, seen };
}

const http = (over: Partial<HttpSpec> = {}): HttpSpec => ({
  ...BASE,
  kind: 'http',
  method: 'GET',
  path: '/ok',
  expectStatus: [200],
  tlsVerify: false,
  ...over,
});

test('http: status accepted, rejected, and from an expected list', async () => {
  const { server, port, seen } = await startServer();
  try {
    const cases: [Partial<HttpSpec>, boolean, string][] = [
      [{ path: '/ok' }, true, 'http status 200'],
      [{ path: '/503' }, false, 'http status 503 not in [200]'],
      [{ path: '/503', expectStatus: [200, 503] }, true, 'http status 503'],
      [{ path: '/204', expectStatus: [200, 204] }, true, 'http status 204'],
      [{ path: '/missing', expectStatus: [200, 204] }, false, 'http status 404 not in [200,204]'],
    ];
    for (const [over, ok, reason] of cases) {
      const r = await createHttpChecker(http(over)).check(loopback(port), signal());
      assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok, reason }, JSON.stringify(over));
    }
    assert.deepEqual(
      seen.requests.map((q) => q.url),
      ['/ok', '/503', '/503', '/204', '/missing'],
    );
  } finally {
    await closeServer(server);
  }
});

test('http: body regex match and mismatch, over the first 64 KiB only', async () => {
  const { server, port } = await startServer();
  try {
    const cases: [Partial<HttpSpec>, boolean, string][] = [
      [{ bodyRegex: 'all good' }, true, 'http status 200, body matched /all good/'],
      [{ bodyRegex: '^status: (ok|fine)$' }, false, 'body did not match /^status: (ok|fine)$/'],
      [{ path: '/big', bodyRegex: '^a+' }, true, 'http status 200, body matched /^a+/'],
      [{ path: '/big', bodyRegex: 'MARKER' }, false, 'body did not match /MARKER/'],
    ];
    for (const [over, ok, reason] of cases) {
      const r = await createHttpChecker(http(over)).check(loopback(port), signal());
      assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok, reason }, JSON.stringify(over));
    }
  } finally {
    await closeServer(server);
  }
});

test('http: Host header defaults to the RS address, can be set, method is sent, no keep-alive', async () => {
  const { server, port, seen } = await startServer();
  try {
    const target = loopback(port);
    assert.equal((await createHttpChecker(http()).check(target, signal())).ok, true);
    assert.equal(
      (await createHttpChecker(http({ host: 'www.example.test', method: 'HEAD' })).check(target, signal()))
        .ok,
      true,
    );
    assert.equal(seen.requests[0]!.headers.host, `127.0.0.1:${port}`);
    assert.equal(seen.requests[1]!.headers.host, 'www.example.test');
    assert.equal(seen.requests[1]!.method, 'HEAD');
    assert.equal(seen.requests[0]!.headers.connection, 'close');
    // a fresh connection per check, and each one is closed afterwards
    assert.equal(seen.sockets.length, 2);
    await waitFor(() => seen.sockets.every((s) => s.closed), 'server-side sockets closed');
  } finally {
    await closeServer(server);
  }
});

test('http: default Host header omits the scheme default port and brackets IPv6', () => {
  assert.equal(defaultHostHeader(http(), loopback(80)), '127.0.0.1');
  assert.equal(defaultHostHeader(http({ kind: 'https' }), loopback(443)), '127.0.0.1');
  assert.equal(defaultHostHeader(http({ kind: 'https' }), loopback(80)), '127.0.0.1:80');
  assert.equal(defaultHostHeader(http(), loopback(8080, '::1')), '[::1]:8080');
  assert.equal(defaultHostHeader(http({ port: 80 }), loopback(8080)), '127.0.0.1');
});

test('http: a server that hangs gives a timeout, and the connection is released', async () => {
  const { server, port, seen } = await startServer();
  try {
    const baseline = activeResources();
    const r = await createHttpChecker(http({ path: '/hang', timeoutMs: 300 })).check(
      loopback(port),
      signal(),
    );
    assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'timeout after 300ms' });
    assert.ok(r.durationMs >= 290, `took ${r.durationMs}ms`);
    await assertNoLeak(baseline, ['TCPSocketWrap', 'Timeout']);
    await waitFor(() => seen.sockets.length === 1 && seen.sockets[0]!.closed, 'server-side socket closed');
  } finally {
    await closeServer(server);
  }
});

test('http: connection refused and a reset mid-request are failures with reasons', async () => {
  const { server, port } = await startServer();
  await closeServer(server);
  const refused = await createHttpChecker(http()).check(loopback(port), signal());
  assert.deepEqual({ ok: refused.ok, reason: refused.reason }, { ok: false, reason: 'connect ECONNREFUSED' });

  const rude = createServer((req) => req.socket.destroy());
  const rudePort = await listen(rude);
  try {
    const r = await createHttpChecker(http()).check(loopback(rudePort), signal());
    assert.equal(r.ok, false);
    assert.match(r.reason, /ECONNRESET/);
  } finally {
    await closeServer(rude);
  }
});

test('http: an invalid body regex is rejected when the checker is built', () => {
  assert.throws(
    () => createHttpChecker(http({ bodyRegex: '(' })),
    (e: unknown) => (e as { code?: string }).code === 'TSLVS_ERR_INVALID_ARGUMENT',
  );
});

test('http: an invalid method becomes a failed result, not a throw', async () => {
  const r = await createHttpChecker(http({ method: 'BAD METHOD' })).check(loopback(9), signal());
  assert.equal(r.ok, false);
  assert.match(r.reason, /ERR_INVALID_HTTP_TOKEN/);
});
