import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import { createTcpChecker } from '../../src/health/tcp.js';
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

test('tcp: up against a listening server, and the connection is closed', async () => {
  const serverSockets: Socket[] = [];
  const server = createServer((s) => serverSockets.push(s));
  const port = await listen(server);
  try {
    const baseline = activeResources();
    const r = await createTcpChecker({ ...BASE, kind: 'tcp' }).check(loopback(port), signal());
    assert.equal(r.ok, true, r.reason);
    assert.equal(r.reason, 'connected');
    assert.ok(r.durationMs >= 0);
    await assertNoLeak(baseline, ['TCPSocketWrap', 'Timeout']);
    // the server saw the connection and then its end: the checker closed it
    assert.equal(serverSockets.length, 1);
    await waitFor(() => serverSockets[0]!.closed, 'the server side of the check connection to close');
  } finally {
    for (const s of serverSockets) s.destroy(); // so a leaking checker fails the test instead of hanging it
    await closeServer(server);
  }
});

test('tcp: the port override is used instead of the RS port', async () => {
  const server = createServer((s) => s.destroy());
  const port = await listen(server);
  try {
    const spec = { ...BASE, kind: 'tcp' as const, port };
    const r = await createTcpChecker(spec).check(loopback(9), signal());
    assert.equal(r.ok, true, r.reason);
  } finally {
    await closeServer(server);
  }
});

test('tcp: down against a closed port, reason names ECONNREFUSED', async () => {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  const baseline = activeResources();
  const r = await createTcpChecker({ ...BASE, kind: 'tcp' }).check(loopback(port), signal());
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'connect ECONNREFUSED');
  assert.match(r.detail ?? '', new RegExp(`127.0.0.1:${port}`));
  await assertNoLeak(baseline, ['TCPSocketWrap', 'Timeout']);
});

test('tcp: IPv6 loopback', async (t) => {
  const server = createServer((s) => s.destroy());
  try {
    await listen(server, '::1');
  } catch (err) {
    t.skip(`no IPv6 loopback here: ${(err as Error).message}`);
    return;
  }
  try {
    const r = await createTcpChecker({ ...BASE, kind: 'tcp' }).check(
      loopback(portOf6(server), '::1'),
      signal(),
    );
    assert.equal(r.ok, true, r.reason);
  } finally {
    await closeServer(server);
  }
});

function portOf6(server: ReturnType<typeof createServer>): number {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('not listening');
  return a.port;
}

/**
 * A connect that never completes: a listener whose accept queue is full drops new SYNs (Linux
 * `tcp_conn_request`: sk_acceptq_is_full -> drop). The listener lives in a child whose event loop is
 * blocked, so nothing ever accepts; we fill its queue (backlog 1) until a connect stays pending.
 */
test('tcp: connect timeout against a listener with a full accept queue', async (t) => {
  if (process.platform !== 'linux') {
    t.skip('relies on Linux dropping SYNs when the accept queue is full');
    return;
  }
  const script = `
    const s = require('net').createServer();
    s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      process.stdout.write(s.address().port + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000);
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', () => reject(new Error('listener child exited early')));
    });
    let full = false;
    for (let i = 0; i < 16 && !full; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      fillers.push(s);
      full = !(await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 500);
        s.once('connect', () => {
          clearTimeout(timer);
          resolve(true);
        });
      }));
    }
    assert.ok(full, 'the accept queue never filled up, cannot provoke a connect timeout');
    const baseline = activeResources();
    const r = await createTcpChecker({ ...BASE, kind: 'tcp', timeoutMs: 300 }).check(
      loopback(port),
      signal(),
    );
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'timeout after 300ms');
    assert.ok(r.durationMs >= 290, `took ${r.durationMs}ms`);
    await assertNoLeak(baseline, ['TCPSocketWrap', 'Timeout']);
  } finally {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
  }
});

test('tcp: an aborted signal ends the check at once with reason aborted', async () => {
  const ac = new AbortController();
  ac.abort();
  const r = await createTcpChecker({ ...BASE, kind: 'tcp' }).check(loopback(9), ac.signal);
  assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'aborted' });
});
