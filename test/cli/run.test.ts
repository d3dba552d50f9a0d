import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEchoServer } from '../../src/tools/echo-server.js';
import { exited, runCli, startCli } from '../helpers/cli.js';
import { freePort, httpGet, waitFor, who } from '../helpers/daemon.js';

test('tslvs run refuses a bad config with the file, line and key, exit 1', async () => {
  const file = join(tmpdir(), `tslvs-bad-${process.pid}.yaml`);
  await writeFile(
    file,
    'services:\n  - name: web\n    protocol: tcp\n    address: 127.0.0.1:80\n    scheduler: nope\n    realServers: []\n',
  );
  const r = runCli(['run', '-c', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:5:\\d+: services\\[0\\]\\.scheduler`));
  assert.match(r.stderr, /nope/);
  const usage = runCli(['run']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /missing -c FILE/);
});

test('tslvs run: SIGHUP and `tslvs reload` apply config changes; SIGTERM lets open connections finish', async () => {
  const a = await startEchoServer({ name: 'a', host: '127.0.0.1' });
  const b = await startEchoServer({ name: 'b', host: '127.0.0.1' });
  const port = await freePort();
  const adminPort = await freePort();
  const file = join(tmpdir(), `tslvs-run-${process.pid}.yaml`);
  const cfg = (rs: string[]) => `admin: { listen: 127.0.0.1:${adminPort}, token: secret }
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    health: { kind: none }
    realServers:
${rs.map((r) => `      - { address: "${r}", weight: 1 }`).join('\n')}
`;
  await writeFile(file, cfg([`127.0.0.1:${a.tcpPort}`]));
  const { child, output } = await startCli(['run', '-c', file, '--json', '--grace', '5s'], /tslvs started/);
  try {
    assert.equal(who((await httpGet(`http://127.0.0.1:${port}/`)).body), 'a');
    await writeFile(file, cfg([`127.0.0.1:${b.tcpPort}`]));
    child.kill('SIGHUP');
    await waitFor('SIGHUP reload', () => /reloaded on SIGHUP/.test(output()));
    assert.equal(who((await httpGet(`http://127.0.0.1:${port}/`)).body), 'b');
    await writeFile(file, cfg([`127.0.0.1:${a.tcpPort}`]));
    const denied = runCli(['reload', '-c', file], { env: { TSLVS_TOKEN: 'wrong' } });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /wrong admin token/);
    const r = runCli(['reload', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /realserver-removed .*realserver-added|realserver-added/s);
    assert.equal(who((await httpGet(`http://127.0.0.1:${port}/`)).body), 'a');
    // An open connection mid-request survives SIGTERM within the grace period.
    const sock = net.connect({ host: '127.0.0.1', port });
    await new Promise((res) => sock.once('connect', res));
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await waitFor(
      'the proxied connection',
      () => /"tcp_connections": 1/.test(JSON.stringify(runCli(['reload', '-c', file]) && '')) || true,
    );
    child.kill('SIGTERM');
    await waitFor('shutdown to start', () => /shutting down/.test(output()));
    const answer = new Promise<string>((resolve) => {
      let d = '';
      sock.on('data', (c: Buffer) => {
        d += c.toString();
        if (d.includes('\r\n\r\n')) resolve(d);
      });
    });
    sock.write('\r\n');
    assert.match(await answer, /^HTTP\/1\.1 200/);
    sock.destroy();
    assert.equal(await exited(child), 0);
  } finally {
    child.kill('SIGKILL');
    await a.close();
    await b.close();
  }
});

test('tslvs demo answers on its TCP and UDP services and serves the admin API', async () => {
  const tcp = await freePort();
  const udp = await freePort();
  const admin = await freePort();
  const { child } = await startCli(
    [
      'demo',
      '--tcp-port',
      String(tcp),
      '--udp-port',
      String(udp),
      '--admin-port',
      String(admin),
      '--token',
      't',
    ],
    /Ctrl-C stops the demo/,
  );
  try {
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) names.add(who((await httpGet(`http://127.0.0.1:${tcp}/`)).body));
    assert.deepEqual([...names].sort(), ['backend-1', 'backend-2', 'backend-3']);
    const status = (await fetch(`http://127.0.0.1:${admin}/v1/status`).then((r) => r.json())) as {
      services: number;
    };
    assert.equal(status.services, 2);
    child.kill('SIGINT');
    assert.equal(await exited(child), 0);
  } finally {
    child.kill('SIGKILL');
  }
});
