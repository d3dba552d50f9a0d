import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { type EchoServer, startEchoServer } from '../../../src/tools/echo-server.js';
import { freePort, httpGet, startDaemon, waitFor, who } from '../../helpers/daemon.js';

const backends: EchoServer[] = [];

before(async () => {
  for (let i = 1; i <= 3; i++) backends.push(await startEchoServer({ name: `rs${i}`, host: '127.0.0.1' }));
});
after(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

function rsList(weights: number[], extra = ''): string {
  return weights
    .map((w, i) => `      - { address: "127.0.0.1:${backends[i]!.tcpPort}", weight: ${w}${extra} }`)
    .join('\n');
}

test('wrr distribution across real servers follows the weights exactly per cycle', async () => {
  const port = await freePort();
  const { daemon } = await startDaemon(`
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    scheduler: wrr
    health: { kind: none }
    realServers:
${rsList([3, 2, 1])}
`);
  try {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      const r = await httpGet(`http://127.0.0.1:${port}/`);
      assert.equal(r.status, 200);
      counts[who(r.body)] = (counts[who(r.body)] ?? 0) + 1;
    }
    assert.deepEqual(counts, { rs1: 30, rs2: 20, rs3: 10 });
  } finally {
    await daemon.stop(1000);
  }
});

test('persistence holds a client on its real server; other clients are spread', async () => {
  const port = await freePort();
  const { daemon } = await startDaemon(`
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    scheduler: rr
    persistence: { timeout: 60s, netmask: 255.255.255.255 }
    health: { kind: none }
    realServers:
${rsList([1, 1, 1])}
`);
  try {
    const seen = new Map<string, Set<string>>();
    for (const client of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      const s = new Set<string>();
      for (let i = 0; i < 6; i++) s.add(who((await httpGet(`http://127.0.0.1:${port}/`, client)).body));
      seen.set(client, s);
    }
    for (const [client, s] of seen) assert.equal(s.size, 1, `${client} stayed on one real server`);
    const distinct = new Set([...seen.values()].map((s) => [...s][0]));
    assert.equal(distinct.size, 3, 'three clients went to three real servers (rr on new clients)');
  } finally {
    await daemon.stop(1000);
  }
});

test('PROXY v1 and v2 headers carry the real client address to the real server', async () => {
  for (const version of ['v1', 'v2']) {
    const port = await freePort();
    const { daemon } = await startDaemon(`
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    proxyProtocol: ${version}
    health: { kind: none }
    realServers:
${rsList([1])}
`);
    try {
      const r = await new Promise<{ body: string; local: string }>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.7' }, () => {
          s.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
        });
        let data = '';
        s.setEncoding('utf8');
        s.on('data', (c: string) => {
          data += c;
        });
        s.on('end', () =>
          resolve({ body: data.split('\r\n\r\n')[1] ?? '', local: `${s.localAddress}:${s.localPort}` }),
        );
        s.on('error', reject);
      });
      assert.equal(r.body.trim(), `rs1 ${r.local}`, `${version}: the RS saw the client, not the director`);
    } finally {
      await daemon.stop(1000);
    }
  }
});

test('half-close: the client ends its side and still reads the whole answer', async () => {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    let n = 0;
    s.on('data', (c: Buffer) => {
      n += c.length;
    });
    s.on('end', () => s.end(`got ${n} bytes`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const rsPort = (server.address() as net.AddressInfo).port;
  const port = await freePort();
  const { daemon } = await startDaemon(`
services:
  - name: halfclose
    protocol: tcp
    address: 127.0.0.1:${port}
    health: { kind: none }
    realServers:
      - { address: "127.0.0.1:${rsPort}", weight: 1 }
`);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => {
        s.write(Buffer.alloc(100_000, 1));
        s.end();
      });
      let data = '';
      s.on('data', (c: Buffer) => {
        data += c.toString();
      });
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    assert.equal(answer, 'got 100000 bytes');
  } finally {
    await daemon.stop(1000);
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('a killed real server is taken out after the fall threshold and comes back after rise', async () => {
  const victim = await startEchoServer({ name: 'victim', host: '127.0.0.1' });
  const victimPort = victim.tcpPort;
  const port = await freePort();
  const { daemon, admin } = await startDaemon(`
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    scheduler: rr
    health: { kind: tcp, interval: 100ms, timeout: 100ms, rise: 2, fall: 2 }
    realServers:
      - { address: "127.0.0.1:${backends[0]!.tcpPort}", weight: 1 }
      - { address: "127.0.0.1:${victimPort}", weight: 1 }
`);
  const healthy = async () => {
    const r = (await fetch(`${admin}/v1/health`).then((x) => x.json())) as {
      realServers: { realServer: string; health: { healthy: boolean } }[];
    };
    return r.realServers.find((d) => d.realServer === `127.0.0.1:${victimPort}`)!.health.healthy;
  };

  let restarted: EchoServer | null = null;
  try {
    await victim.close();
    await waitFor('the victim to be marked down', async () => !(await healthy()));
    for (let i = 0; i < 10; i++) assert.equal(who((await httpGet(`http://127.0.0.1:${port}/`)).body), 'rs1');
    restarted = await startEchoServer({ name: 'victim', host: '127.0.0.1', tcpPort: victimPort });
    await waitFor('the victim to come back', healthy);
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add(who((await httpGet(`http://127.0.0.1:${port}/`)).body));
    assert.deepEqual([...names].sort(), ['rs1', 'victim']);
  } finally {
    await daemon.stop(1000);
    await restarted?.close();
  }
});

test('below quorum the sorry server answers; without one, connections are refused', async () => {
  const sorry = await startEchoServer({ name: 'sorry', host: '127.0.0.1' });
  const a = await startEchoServer({ name: 'a', host: '127.0.0.1' });
  const port = await freePort();
  const { daemon, admin } = await startDaemon(`
services:
  - name: web
    protocol: tcp
    address: 127.0.0.1:${port}
    quorum: 2
    sorryServer: 127.0.0.1:${sorry.tcpPort}
    health: { kind: tcp, interval: 100ms, timeout: 100ms, rise: 1, fall: 1 }
    realServers:
      - { address: "127.0.0.1:${a.tcpPort}", weight: 1 }
      - { address: "127.0.0.1:${backends[1]!.tcpPort}", weight: 1 }
`);
  try {
    assert.notEqual(who((await httpGet(`http://127.0.0.1:${port}/`)).body), 'sorry');
    await a.close();
    await waitFor('the service to drop below quorum', async () => {
      const r = (await fetch(`${admin}/v1/services`).then((x) => x.json())) as {
        services: { up: boolean }[];
      };
      return !r.services[0]!.up;
    });
    assert.equal(
      who((await httpGet(`http://127.0.0.1:${port}/`)).body),
      'sorry',
      'one healthy RS < quorum 2',
    );
  } finally {
    await daemon.stop(1000);
    await sorry.close();
  }
});
