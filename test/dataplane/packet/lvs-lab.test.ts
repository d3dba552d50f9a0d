/**
 * The packet data plane for real: for each LVS mode a namespace lab (client, director running tslvs in
 * packet mode, real servers, router; Full-NAT adds a real server behind the router) and the checks the
 * issue names: spread by the scheduler, the client address reaching the real server, replies bypassing
 * the director in DR/TUN, 20 MB each way intact with offloads on, UDP, health checks, a malformed-frame
 * storm. Root only.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../helpers/daemon.js';
import { programSkipReason, rootSkipReason } from '../../helpers/env.js';
import { type RunningLab, withRunningLab } from '../../helpers/lab.js';

const skip =
  rootSkipReason() ?? programSkipReason('curl') ?? programSkipReason('tcpdump') ?? programSkipReason('ping');
const MB20 = 20 * 1024 * 1024;

async function get(lab: RunningLab): Promise<{ server: string; client: string; via: string }> {
  const r = await lab.exec('client', [
    'curl',
    '-s',
    '-m',
    '5',
    `http://${lab.state.topology.vip}/?format=json`,
  ]);
  return JSON.parse(r.stdout) as { server: string; client: string; via: string };
}

async function udpAsk(lab: RunningLab, msg: string): Promise<string> {
  const script = `const d=require('node:dgram').createSocket('udp4');const t=setTimeout(()=>{console.log('TIMEOUT');process.exit(0)},3000);
d.on('message',(m)=>{clearTimeout(t);console.log(m.toString());d.close()});d.send(process.argv[1],${lab.state.topology.ports.udp},'${lab.state.topology.vip}');`;
  const r = await lab.exec('client', [process.execPath, '-e', script, msg]);
  return r.stdout.trim();
}

async function checkMode(lab: RunningLab): Promise<void> {
  const t = lab.state.topology;
  const rsNames = t.realServers.map((r) => r.role).sort();
  await waitFor(
    'health checks to find every real server up',
    async () => {
      const h = await lab.api<{ realServers: { health: { healthy: boolean; checks: number } }[] }>(
        '/v1/health',
      );
      return h.realServers.every((r) => r.health.healthy && r.health.checks > 0);
    },
    20_000,
  );

  // Spread by rr over every real server; the real server sees the client (or, in FNAT, the local address
  // as its peer and the client through the PROXY v2 header).
  const seen = new Set<string>();
  for (let i = 0; i < rsNames.length * 2; i++) {
    const r = await get(lab);
    seen.add(r.server);
    assert.equal(
      r.client.split(':')[0],
      '10.10.0.2',
      `${t.mode}: the real server learned the client address`,
    );
    const peer = r.via.split(':')[0];
    if (t.mode === 'fnat') assert.equal(peer, t.localAddresses[0], 'FNAT: the RS talks to the local address');
    else assert.equal(peer, '10.10.0.2', `${t.mode}: the RS talks to the client itself`);
  }
  assert.deepEqual([...seen].sort(), rsNames, `${t.mode}: rr reached every real server`);

  // 20 MB down and up, offloads left on: byte-exact.
  const file = join(tmpdir(), `tslvs-lab-${lab.prefix}.bin`);
  try {
    // Bytes, not frames: GRO merges segments on veth, so frame counts depend on offloads.
    const dirRx0 = await lab.counter('director', 'rx_bytes');
    const cliRx0 = await lab.counter('client', 'rx_bytes');
    await lab.exec('client', ['curl', '-s', '-m', '90', '-o', file, `http://${t.vip}/bytes/${MB20}`], {
      timeoutMs: 100_000,
    });
    const got = readFileSync(file);
    assert.equal(got.length, MB20, `${t.mode}: download size`);
    assert.equal(
      createHash('sha256').update(got).digest('hex'),
      createHash('sha256').update(Buffer.alloc(MB20, 0x61)).digest('hex'),
    );
    const dirRx = (await lab.counter('director', 'rx_bytes')) - dirRx0;
    const cliRx = (await lab.counter('client', 'rx_bytes')) - cliRx0;
    if (t.mode === 'dr' || t.mode === 'tun') {
      assert.ok(
        dirRx < cliRx / 10,
        `${t.mode}: replies bypass the director (director received ${dirRx} bytes, client ${cliRx})`,
      );
    } else {
      assert.ok(
        dirRx >= MB20,
        `${t.mode}: replies come back through the director (director ${dirRx}, client ${cliRx})`,
      );
    }
    const up = randomBytes(MB20);
    writeFileSync(file, up);
    const r = await lab.exec(
      'client',
      ['curl', '-s', '-m', '90', '--data-binary', `@${file}`, `http://${t.vip}/`],
      { timeoutMs: 100_000 },
    );
    assert.match(
      r.stdout,
      new RegExp(`received ${MB20} bytes sha256 ${createHash('sha256').update(up).digest('hex')}`),
      `${t.mode}: upload intact`,
    );
  } finally {
    rmSync(file, { force: true });
  }

  // The VIP answers ping as a kernel-held VIP would (tslvs replies in user space).
  const ping = await lab.exec('client', ['ping', '-c', '2', '-W', '2', t.vip], { allowFailure: true });
  assert.match(ping.stdout, / 0% packet loss/, `${t.mode}: ping the VIP (${ping.stdout.trim()})`);

  // UDP through the VIP, the reply from the VIP (a connected client socket would not take another source).
  const answer = await udpAsk(lab, 'hello-udp');
  assert.match(answer, /^rs\d 10\.10\.0\.2:\d+ hello-udp$/, `${t.mode}: UDP echo (${answer})`);

  // A killed real server is taken out by the health checks; traffic continues on the others.
  const victim = lab.state.processes.find((p) => p.role === 'rs2' && p.what === 'testserver')!;
  process.kill(victim.pid, 'SIGKILL');
  await waitFor(
    'rs2 to be marked down',
    async () => {
      const h = await lab.api<{
        realServers: { realServer: string; service: string; health: { healthy: boolean } }[];
      }>('/v1/health');
      return h.realServers
        .filter((r) => r.realServer.startsWith('10.10.1.12:'))
        .every((r) => !r.health.healthy);
    },
    20_000,
  );
  for (let i = 0; i < rsNames.length * 2; i++) assert.notEqual((await get(lab)).server, 'rs2');
}

async function storm(lab: RunningLab): Promise<void> {
  const t = lab.state.topology;
  await get(lab); // the client now has the VIP's MAC
  const neigh = await lab.exec('client', ['ip', '-j', 'neigh', 'show', t.vip]);
  const mac = (JSON.parse(neigh.stdout) as { lladdr: string }[])[0]!.lladdr;
  const before = await lab.api<{ dataplaneStats: { counters: Record<string, number> } }>('/v1/status');
  // Malformed and hostile frames at the director, built by scapy (independent of our codecs).
  const py = `
import random, sys
from scapy.all import Ether, IP, TCP, UDP, ICMP, Raw, fuzz, sendp
random.seed(7)
vip, mac = sys.argv[1], sys.argv[2]
frames = []
for i in range(3000):
    k = i % 6
    if k == 0: p = Ether(dst=mac)/Raw(bytes(random.getrandbits(8) for _ in range(random.randint(1, 80))))
    elif k == 1: p = Ether(dst=mac)/fuzz(IP(dst=vip)/TCP(dport=80))
    elif k == 2: p = Ether(dst=mac)/fuzz(IP(dst=vip)/UDP(dport=53))
    elif k == 3: p = Ether(dst=mac)/IP(dst=vip, ihl=random.randint(0, 4))/TCP(dport=80)
    elif k == 4: p = Ether(dst=mac)/IP(dst=vip, flags='MF', frag=random.randint(1, 100))/Raw(b'x'*40)
    else: p = Ether(dst=mac)/IP(dst=vip, len=random.randint(0, 30))/TCP(dport=80, flags='S')
    frames.append(p)
sendp(frames, iface='eth0', verbose=False)
print(len(frames))
`;
  const r = await lab.exec('client', ['/usr/bin/python3', '-c', py, t.vip, mac], { timeoutMs: 60_000 });
  assert.equal(r.stdout.trim(), '3000');
  const after = await lab.api<{ dataplaneStats: { counters: Record<string, number> } }>('/v1/status');
  const drops = (c: Record<string, number>) =>
    Object.entries(c)
      .filter(([k]) => k.startsWith('drop_'))
      .reduce((n, [, v]) => n + v, 0);
  await waitFor(
    'the storm to be counted',
    async () => {
      const now = await lab.api<{ dataplaneStats: { counters: Record<string, number> } }>('/v1/status');
      return drops(now.dataplaneStats.counters) > drops(before.dataplaneStats.counters);
    },
    5000,
  );
  assert.ok(after.dataplaneStats.counters.io_rxFrames! > before.dataplaneStats.counters.io_rxFrames!);
  const ok = await get(lab);
  assert.match(ok.server, /^rs\d$/, 'the director still forwards after the storm');
}

for (const mode of ['dr', 'nat', 'tun', 'fnat'] as const) {
  test(`packet data plane, ${mode}: spread, client address, return path, 20 MB both ways, UDP, health`, {
    skip: skip ?? false,
    timeout: 300_000,
  }, async () => {
    await withRunningLab(mode, async (lab) => {
      await checkMode(lab);
      if (mode === 'nat') await storm(lab);
    });
  });
}
