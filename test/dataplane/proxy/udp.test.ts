import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, test } from 'node:test';
import { type EchoServer, startEchoServer } from '../../../src/tools/echo-server.js';
import { freePort, startDaemon } from '../../helpers/daemon.js';

const backends: EchoServer[] = [];
before(async () => {
  for (let i = 1; i <= 3; i++) backends.push(await startEchoServer({ name: `u${i}`, host: '127.0.0.1' }));
});
after(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

/** A UDP client connected to the VIP: the kernel drops replies from any other source address/port. */
async function client(
  port: number,
): Promise<{ ask(msg: string): Promise<string>; close(): void; local: string }> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.connect(port, '127.0.0.1', () => r()));
  const pending: ((m: string) => void)[] = [];
  s.on('message', (m) => pending.shift()?.(m.toString()));
  const a = s.address();
  return {
    local: `${a.address}:${a.port}`,
    ask: (msg) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no UDP reply to '${msg}'`)), 3000);
        pending.push((m) => {
          clearTimeout(t);
          resolve(m);
        });
        s.send(msg);
      }),
    close: () => s.close(),
  };
}

test('UDP: one session per client address:port, replies come back from the VIP, PROXY v2 per datagram', async () => {
  const port = await freePort();
  const { daemon, admin } = await startDaemon(`
services:
  - name: dns
    protocol: udp
    address: 127.0.0.1:${port}
    scheduler: rr
    proxyProtocol: v2
    realServers:
${backends.map((b) => `      - { address: "127.0.0.1:${b.udpPort}", weight: 1 }`).join('\n')}
`);
  try {
    const clients = [await client(port), await client(port), await client(port)];
    const servers: string[] = [];
    for (const c of clients) {
      const answers = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const reply = await c.ask(`hello ${i}`);
        const [name, seenClient, ...rest] = reply.split(' ');
        assert.equal(seenClient, c.local, 'PROXY v2 DGRAM header carried the client address');
        assert.equal(rest.join(' '), `hello ${i}`);
        answers.add(name!);
      }
      assert.equal(answers.size, 1, 'every datagram of a session reached the same real server');
      servers.push([...answers][0]!);
    }
    assert.equal(new Set(servers).size, 3, 'rr spread three sessions over three real servers');
    const conns = (await fetch(`${admin}/v1/status`).then((r) => r.json())) as { connections: number };
    assert.equal(conns.connections, 3, 'three sessions in the session table');
    for (const c of clients) c.close();
  } finally {
    await daemon.stop(500);
  }
});
