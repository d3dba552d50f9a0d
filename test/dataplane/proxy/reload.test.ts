import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { type EchoServer, startEchoServer } from '../../../src/tools/echo-server.js';
import { freePort, httpGet, startDaemon, who } from '../../helpers/daemon.js';

const backends: EchoServer[] = [];
before(async () => {
  for (let i = 1; i <= 3; i++) backends.push(await startEchoServer({ name: `rs${i}`, host: '127.0.0.1' }));
});
after(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

function config(port: number, servers: Array<[index: number, weight: number]>): string {
  return `
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    scheduler: wrr
    health: { kind: none }
    realServers:
${servers.map(([i, w]) => `      - { address: "127.0.0.1:${backends[i]!.tcpPort}", weight: ${w} }`).join('\n')}
`;
}

/** GET over a keep-alive agent (reuses established connections across reloads). */
function keepAliveGet(agent: http.Agent, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

test('reloads under continuous load lose no connection and no request', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const { daemon, file } = await startDaemon(
    config(port, [
      [0, 1],
      [1, 1],
    ]),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const failures: string[] = [];
  let done = 0;
  let stop = false;
  const worker = async (keepAlive: boolean) => {
    for (let i = 0; i < 150 && !stop; i++) {
      try {
        if (keepAlive) await keepAliveGet(agent, url);
        else if ((await httpGet(url)).status !== 200) failures.push('non-200');
        done++;
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const load = Promise.all([worker(true), worker(true), worker(false), worker(false)]);
  const steps: Array<Array<[number, number]>> = [
    [
      [0, 2],
      [1, 1],
    ],
    [
      [0, 2],
      [1, 1],
      [2, 3],
    ],
    [
      [1, 1],
      [2, 3],
    ],
    [
      [0, 1],
      [1, 1],
      [2, 1],
    ],
  ];
  try {
    for (const step of steps) {
      await writeFile(file, config(port, step));
      const r = await daemon.reload();
      assert.ok(r.applied);
      assert.ok(r.changes.length > 0);
      await new Promise((res) => setImmediate(res));
    }
    await load;
    assert.deepEqual(failures, []);
    assert.equal(done, 600);
    const again = await daemon.reload();
    assert.equal(again.changes.length, 0, 'reloading the same file changes nothing');
  } finally {
    stop = true;
    agent.destroy();
    await daemon.stop(1000);
  }
});

test('drain: weight 0 sends no new connections to a real server and keeps the established ones', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const { daemon, file } = await startDaemon(config(port, [[0, 1]]));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal(who(await keepAliveGet(agent, url)), 'rs1');
    await writeFile(
      file,
      config(port, [
        [0, 0],
        [1, 1],
      ]),
    );
    const r = await daemon.reload();
    assert.deepEqual(
      r.changes.map((c) => c.kind),
      ['realserver-changed', 'realserver-added'],
    );
    for (let i = 0; i < 5; i++)
      assert.equal(who((await httpGet(url)).body), 'rs2', 'new connections avoid the drained RS');
    assert.equal(who(await keepAliveGet(agent, url)), 'rs1', 'the established connection still reaches rs1');
  } finally {
    agent.destroy();
    await daemon.stop(1000);
  }
});
