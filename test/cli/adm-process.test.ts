import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EchoServer, startEchoServer } from '../../src/tools/echo-server.js';
import { api, connect, startDaemon, type TestDaemon, TOKEN, waitFor } from '../control/api/support.js';
import { repoRoot } from '../helpers/paths.js';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function run(
  args: string[],
  opts: { stdin?: string; token?: string } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.TSLVS_TOKEN;
    if (opts.token) env.TSLVS_TOKEN = opts.token;
    const child = spawn(process.execPath, [CLI, 'adm', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

describe('tslvs adm as a process', () => {
  let d: TestDaemon;
  let backend: EchoServer;
  const sockets: net.Socket[] = [];
  before(async () => {
    backend = await startEchoServer({ name: 'b', host: '127.0.0.1' });
    d = await startDaemon(`
services:
  - name: web
    address: 127.0.0.1:{P0}
    scheduler: rr
    health: { kind: none }
    realServers:
      - { address: 127.0.0.1:${backend.tcpPort} }
`);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await d.close();
    await backend.close();
  });

  test('usage errors exit 2 with the message on stderr', async () => {
    const r = await run(['--server', d.url, '-A', '-t', '10.0.0.1:80', '-w', '1']);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.equal(r.err, "Illegal 'weight' option with the 'add-service' command\n");
    const unknown = await run(['--server', d.url, '--bogus']);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.err, '--bogus: unknown option\n');
    const order = await run(['-n', '-L']);
    assert.equal(order.code, 2);
    assert.equal(order.err, "Try `tslvs adm -h' or 'tslvs adm --help' for more information.\n");
    const help = await run(['-h']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^tslvs adm .*\nUsage:\n {2}tslvs adm -A\|E virtual-service/);
  });

  test('changes and restores through the real command; sessions listed with -c', async () => {
    const vip = `127.0.0.1:${d.ports[1]}`;
    const add = await run(['--server', d.url, '-A', '-t', vip, '-s', 'wrr'], { token: TOKEN });
    assert.deepEqual(add, { code: 0, out: '', err: '' });
    const restore = await run(['--server', d.url, '-R'], {
      token: TOKEN,
      stdin: `-a -t ${vip} -r 10.7.0.1:80 -m -w 2\n-a -t ${vip} -r 10.7.0.2:80 -m -w 3\n`,
    });
    assert.deepEqual(restore, { code: 0, out: '', err: '' });
    const save = await run(['--server', d.url, '-S', '-n']);
    assert.equal(save.code, 0);
    assert.match(
      save.out,
      new RegExp(
        `^-A -t ${vip} -s wrr\n-a -t ${vip} -r 10\\.7\\.0\\.1:80 -m -w 2\n-a -t ${vip} -r 10\\.7\\.0\\.2:80 -m -w 3\n`,
        'm',
      ),
    );
    for (let i = 0; i < 2; i++) sockets.push(await connect(d.ports[0]!));
    await waitFor(
      'sessions',
      async () => (await api(d.url, 'GET', '/v1/connections')).json.total >= 2 || undefined,
    );
    const conns = await run(['--server', d.url, '-L', '-n', '-c']);
    assert.equal(conns.code, 0);
    const lines = conns.out.split('\n').filter((l) => l !== '');
    assert.equal(lines[0], 'IPVS connection entries');
    assert.equal(lines.length, 4);
    for (const l of lines.slice(2)) {
      assert.match(
        l,
        new RegExp(
          `^TCP \\d\\d:\\d\\d  ESTABLISHED 127\\.0\\.0\\.1:\\d+ +127\\.0\\.0\\.1:${d.ports[0]} +127\\.0\\.0\\.1:${backend.tcpPort}$`,
        ),
      );
    }
  });
});
