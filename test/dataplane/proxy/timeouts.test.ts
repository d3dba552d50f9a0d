import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type { Daemon } from '../../../src/control/daemon.js';
import { type EchoServer, startEchoServer } from '../../../src/tools/echo-server.js';
import { freePort, httpGet, startDaemon, waitFor, who } from '../../helpers/daemon.js';

let rs: EchoServer;

before(async () => {
  rs = await startEchoServer({ name: 'rs-ok', host: '127.0.0.1' });
});
after(async () => {
  await rs.close();
});

function counter(daemon: { dataplane: { stats(): { counters: Record<string, number> } } }, name: string) {
  return daemon.dataplane.stats().counters[name] ?? 0;
}

/** One TCP service `web` on 127.0.0.1:`port` (rr) over `realServers` ports; `extra` adds service keys. */
function webService(port: number, realServers: number[], extra = 'health: { kind: none }'): string {
  const rs = realServers.map((p) => `      - { address: "127.0.0.1:${p}" }`).join('\n');
  return `
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    scheduler: rr
${extra
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
    realServers:
${rs}
`;
}

/** A client connection through the proxy, recording what it receives and whether it was closed. */
async function openClient(port: number) {
  const s = net.connect(port, '127.0.0.1');
  let closed = false;
  let got = '';
  s.on('close', () => {
    closed = true;
  });
  s.on('error', () => undefined);
  s.on('data', (d: Buffer) => {
    got += d.toString();
  });
  await new Promise<void>((r, j) => s.once('connect', r).once('error', j));
  return {
    s,
    isClosed: () => closed,
    got: () => got,
    clear: () => {
      got = '';
    },
  };
}

test('a refused connect is retried on another real server: every request is answered', async () => {
  const port = await freePort();
  const dead = await freePort(); // nothing listens there: connect is refused
  const { daemon } = await startDaemon(webService(port, [dead, rs.tcpPort]));
  try {
    for (let i = 0; i < 6; i++) {
      const r = await httpGet(`http://127.0.0.1:${port}/`);
      assert.equal(who(r.body), 'rs-ok');
    }
    assert.equal(counter(daemon, 'connect_failed'), 3, 'rr picked the dead server every other time');
    assert.equal(counter(daemon, 'connect_retried'), 3);
  } finally {
    await daemon.stop(1000);
  }
});

/**
 * A real server whose accept queue is full: a listener with backlog 0 that never accepts, its one queue
 * slot taken, so the kernel drops further SYNs and connect() hangs. Python, because Node accepts at once.
 */
async function blackhole(): Promise<{ port: number; proc: ChildProcess; filler: net.Socket }> {
  const proc = spawn(
    'python3',
    [
      '-c',
      'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('error', reject);
    proc.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  // Fill the queue (a backlog of 0 still queues one connection), then check that a second one hangs.
  const filler = net.connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => filler.once('connect', r).once('error', j));
  return { port, proc, filler };
}

function hasPython(): boolean {
  return spawn('python3', ['-c', '0']).pid !== undefined;
}

test('a connect that times out is retried on another real server', {
  skip: !hasPython() && 'python3 missing',
}, async () => {
  const hole = await blackhole();
  const port = await freePort();
  const { daemon } = await startDaemon(
    webService(port, [hole.port, rs.tcpPort], 'connectTimeout: 300ms\nhealth: { kind: none }'),
  );
  try {
    // rr sends one of two new connections to the black hole: that one is answered after the timeout.
    const took: number[] = [];
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      const r = await httpGet(`http://127.0.0.1:${port}/`);
      assert.equal(who(r.body), 'rs-ok');
      took.push(Date.now() - started);
    }
    assert.ok(Math.max(...took) >= 290, `one answer came after the connect timeout: ${took}`);
    assert.equal(counter(daemon, 'connect_timeout'), 1);
    assert.equal(counter(daemon, 'connect_retried'), 1);
  } finally {
    await daemon.stop(1000);
    hole.filler.destroy();
    hole.proc.kill();
  }
});

test('idle timeout closes a silent connection and spares a busy one', async () => {
  const port = await freePort();
  const { daemon } = await startDaemon(
    webService(port, [rs.tcpPort], 'idleTimeout: 1s\nhealth: { kind: none }'),
  );
  try {
    const silent = await openClient(port);
    const busy = await openClient(port);
    const openedAt = Date.now();
    // Keep `busy` talking (bounded: 25 writes) until the silent one is closed by the idle timeout.
    for (let i = 0; i < 25 && !silent.isClosed(); i++) {
      busy.s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor('the silent connection to be closed', silent.isClosed, 3000);
    assert.ok(Date.now() - openedAt >= 980, 'not closed before the idle timeout');
    assert.equal(busy.isClosed(), false, 'the busy connection is still open');
    assert.equal(counter(daemon, 'idle_timeouts'), 1);
    await waitFor('the busy connection to time out once silent', busy.isClosed, 3000);
    assert.equal(counter(daemon, 'idle_timeouts'), 2);
  } finally {
    await daemon.stop(1000);
  }
});

for (const expire of [true, false]) {
  test(`a real server failing its health check: established connections ${expire ? 'closed (expireOnFailure)' : 'kept'}`, async () => {
    let healthy = true;
    const sick = await startEchoServer({ name: 'rs-sick', host: '127.0.0.1', healthy: () => healthy });
    const port = await freePort();
    const { daemon } = await startDaemon(
      webService(
        port,
        [sick.tcpPort],
        `expireOnFailure: ${expire}\nhealth: { kind: http, path: /healthz, interval: 100ms, timeout: 500ms, rise: 1, fall: 1 }`,
      ),
    );
    try {
      const c = await openClient(port);
      c.s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor('the first answer', () => c.got().includes('rs-sick'));
      healthy = false;
      await waitFor('the real server to be taken out', () => isDown(daemon));
      if (expire) {
        await waitFor('the established connection to be closed', c.isClosed, 3000);
        assert.ok(counter(daemon, 'expired') >= 1);
      } else {
        c.clear();
        c.s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        await waitFor('an answer on the established connection', () => c.got().includes('rs-sick'), 3000);
        assert.equal(c.isClosed(), false);
        c.s.destroy();
      }
    } finally {
      await daemon.stop(1000);
      await sick.close();
    }
  });
}

function isDown(daemon: Daemon): boolean {
  return daemon.director.health.all().every((e) => e.status.state === 'down');
}

for (const payload of ['hello', '']) {
  test(`a client that sends FIN (after ${payload.length} bytes) while the real server is being dialled: the FIN reaches it`, async () => {
    // The real server answers only once the client's side has ended (it reads to EOF first).
    const got: string[] = [];
    const rsEof = net.createServer((s) => {
      let data = '';
      s.on('data', (d: Buffer) => {
        data += d.toString();
      });
      s.on('end', () => {
        got.push(data);
        s.end(`eof after ${data.length} bytes`);
      });
    });
    await new Promise<void>((r) => rsEof.listen(0, '127.0.0.1', r));
    const port = await freePort();
    const { daemon } = await startDaemon(webService(port, [(rsEof.address() as net.AddressInfo).port]));
    try {
      const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      // Write and end at once: both arrive while the proxy is still connecting to the real server.
      s.end(payload);
      let answer = '';
      s.on('data', (d: Buffer) => {
        answer += d.toString();
      });
      await new Promise<void>((r, j) => s.once('end', r).once('error', j));
      assert.equal(answer, `eof after ${payload.length} bytes`);
      assert.deepEqual(got, [payload]);
      s.destroy();
    } finally {
      await daemon.stop(1000);
      rsEof.close();
    }
  });
}
