import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type EchoServer, startEchoServer } from '../../../src/tools/echo-server.js';
import { runCliAsync } from '../../helpers/cli.js';
import { freePort, httpGet, startDaemon, who } from '../../helpers/daemon.js';

const backends: EchoServer[] = [];
before(async () => {
  for (let i = 1; i <= 3; i++) backends.push(await startEchoServer({ name: `s${i}`, host: '127.0.0.1' }));
});
after(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

test('POST /v1/simulate predicts the real server the next connection gets, without touching the engine', async () => {
  const port = await freePort();
  const { daemon, admin } = await startDaemon(`
admin: { listen: 127.0.0.1:9090, token: t }
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    scheduler: wlc
    health: { kind: none }
    realServers:
${backends.map((b, i) => `      - { address: "127.0.0.1:${b.tcpPort}", weight: ${i + 1} }`).join('\n')}
`);
  try {
    const ask = async (client: string, packets?: unknown) => {
      const r = await fetch(`${admin}/v1/simulate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ service: 'web', client, packets }),
      });
      return {
        status: r.status,
        body: (await r.json()) as { realServer: string; forwarding: string; steps: { state: string }[] },
      };
    };
    const predicted = await ask('127.0.0.1:40000');
    assert.equal(predicted.status, 200);
    const before = (await fetch(`${admin}/v1/status`).then((r) => r.json())) as { connections: number };
    assert.equal(before.connections, 0, 'the simulation created no session in the running engine');
    const actual = who((await httpGet(`http://127.0.0.1:${port}/`)).body);
    const rsPort = Number(predicted.body.realServer.split(':')[1]);
    assert.equal(
      actual,
      `s${backends.findIndex((b) => b.tcpPort === rsPort) + 1}`,
      'simulation and reality agree',
    );
    const flow = await ask('127.0.0.1:40001', [
      { dir: 'in', flags: 'S' },
      { dir: 'out', flags: 'SA' },
      { dir: 'in', flags: 'A' },
    ]);
    assert.deepEqual(
      flow.body.steps.map((s) => s.state),
      ['SYN_RECV', 'SYN_RECV', 'ESTABLISHED'],
    );
    assert.equal(flow.body.forwarding, 'proxy');
    assert.equal((await ask('nonsense')).status, 400);
    const cli = await runCliAsync([
      'simulate',
      '--service',
      'web',
      '--client',
      '127.0.0.1:40002',
      '--packets',
      'in:S,in:A',
      '--server',
      admin,
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /real server: 127\.0\.0\.1:\d+ +forwarding: proxy/);
    assert.match(cli.stdout, /in A +-> ESTABLISHED/);
  } finally {
    await daemon.stop(500);
  }
});
