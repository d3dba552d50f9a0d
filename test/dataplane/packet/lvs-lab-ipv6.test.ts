/**
 * IPv6 through the packet data plane, for real: a dual-stack lab (`tslvs lab up --ipv6`) per mode, and
 * over the IPv6 VIP the checks of the IPv4 lab test that depend on the address family: spread by the
 * scheduler, the client address reaching the real server (Full-NAT: the IPv6 local address as the peer,
 * the client through PROXY v2), the return path (DR/TUN: around the director; NAT/FNAT: through it), a
 * 20 MB download with offloads on, a 4 MB upload (TUN: IPv6-in-IPv6 decapsulated in user space, path MTU
 * learnt from the director), UDP, ping, and neighbour discovery answered for the VIP. Root only.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { waitFor } from '../../helpers/daemon.js';
import { programSkipReason, rootSkipReason } from '../../helpers/env.js';
import { type RunningLab, withRunningLab } from '../../helpers/lab.js';

const skip = rootSkipReason() ?? programSkipReason('curl') ?? programSkipReason('ping');
const MB20 = 20 * 1024 * 1024;

async function get6(lab: RunningLab): Promise<{ server: string; client: string; via: string }> {
  const vip6 = lab.state.topology.vip6!;
  const r = await lab.exec('client', ['curl', '-s', '-m', '5', `http://[${vip6}]/?format=json`]);
  return JSON.parse(r.stdout) as { server: string; client: string; via: string };
}

async function udpAsk6(lab: RunningLab, msg: string): Promise<string> {
  const t = lab.state.topology;
  const script = `const d=require('node:dgram').createSocket('udp6');const t=setTimeout(()=>{console.log('TIMEOUT');process.exit(0)},3000);
d.on('message',(m)=>{clearTimeout(t);console.log(m.toString());d.close()});d.send(process.argv[1],${t.ports.udp},'${t.vip6}');`;
  const r = await lab.exec('client', [process.execPath, '-e', script, msg]);
  return r.stdout.trim();
}

async function checkIpv6(lab: RunningLab): Promise<void> {
  const t = lab.state.topology;
  const client6 = '[fd10::2]';
  await waitFor(
    'health checks to find every IPv6 real server up',
    async () => {
      const h = await lab.api<{ realServers: { realServer: string; health: { healthy: boolean } }[] }>(
        '/v1/health',
      );
      const six = h.realServers.filter((r) => r.realServer.startsWith('['));
      return six.length === t.realServers.length * 2 && six.every((r) => r.health.healthy);
    },
    20_000,
  );

  const seen = new Set<string>();
  for (let i = 0; i < t.realServers.length * 2; i++) {
    const r = await get6(lab);
    seen.add(r.server);
    assert.equal(r.client.replace(/:\d+$/, ''), client6, `${t.mode}: the real server learned the client`);
    const peer = r.via.replace(/:\d+$/, '');
    const local6 = t.localAddresses.find((a) => a.includes(':'));
    if (t.mode === 'fnat') assert.equal(peer, `[${local6}]`, 'FNAT: the RS talks to the IPv6 local address');
    else assert.equal(peer, client6, `${t.mode}: the RS talks to the client itself`);
  }
  assert.deepEqual(
    [...seen].sort(),
    t.realServers.map((r) => r.role).sort(),
    `${t.mode}: rr reached every real server over IPv6`,
  );

  // The client resolved the VIP through neighbour discovery, answered by tslvs with the director's MAC.
  const neigh = await lab.exec('client', ['ip', '-j', '-6', 'neigh', 'show', t.vip6!]);
  const dirMac = await lab.exec('director', ['cat', '/sys/class/net/eth0/address']);
  const entries = JSON.parse(neigh.stdout) as { lladdr?: string }[];
  assert.equal(
    entries[0]?.lladdr,
    dirMac.stdout.trim(),
    `${t.mode}: the VIP's neighbour entry is the director`,
  );

  const dirRx0 = await lab.counter('director', 'rx_bytes');
  const cliRx0 = await lab.counter('client', 'rx_bytes');
  const r = await lab.exec(
    'client',
    [
      'curl',
      '-s',
      '-m',
      '90',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      `http://[${t.vip6}]/bytes/${MB20}`,
    ],
    { timeoutMs: 100_000 },
  );
  assert.equal(Number(r.stdout), MB20, `${t.mode}: 20 MB over IPv6`);
  const dirRx = (await lab.counter('director', 'rx_bytes')) - dirRx0;
  const cliRx = (await lab.counter('client', 'rx_bytes')) - cliRx0;
  if (t.mode === 'dr' || t.mode === 'tun') {
    assert.ok(
      dirRx < cliRx / 10,
      `${t.mode}: replies bypass the director (director ${dirRx} bytes, client ${cliRx})`,
    );
  } else {
    assert.ok(dirRx >= MB20, `${t.mode}: replies come back through the director (director ${dirRx})`);
  }

  // Upload: full-size segments towards the real server (TUN: 40 bytes of outer header do not fit the MTU,
  // so the client learns a smaller path MTU from the director's Packet Too Big).
  const up = randomBytes(4 * 1024 * 1024);
  const file = join(tmpdir(), `tslvs-lab6-${lab.prefix}.bin`);
  writeFileSync(file, up);
  try {
    const posted = await lab.exec(
      'client',
      ['curl', '-s', '-m', '60', '--data-binary', `@${file}`, `http://[${t.vip6}]/`],
      { timeoutMs: 70_000 },
    );
    const digest = createHash('sha256').update(up).digest('hex');
    assert.match(
      posted.stdout,
      new RegExp(`received ${up.length} bytes sha256 ${digest}`),
      `${t.mode}: upload`,
    );
  } finally {
    rmSync(file, { force: true });
  }

  const answer = await udpAsk6(lab, 'hello-udp6');
  assert.match(answer, /^rs\d \[fd10::2\]:\d+ hello-udp6$/, `${t.mode}: UDP over IPv6 (${answer})`);

  // The VIP answers ping (tslvs replies in user space: the director's kernel does not own the VIP).
  const ping = await lab.exec('client', ['ping', '-6', '-c', '2', '-W', '2', t.vip6!], {
    allowFailure: true,
  });
  assert.match(ping.stdout, / 0% packet loss/, `${t.mode}: ping -6 the VIP (${ping.stdout.trim()})`);

  // IPv4 still works in the same lab.
  const v4 = await lab.exec('client', ['curl', '-s', '-m', '5', `http://${t.vip}/`]);
  assert.match(v4.stdout, /^rs\d 10\.10\.0\.2:\d+/, `${t.mode}: IPv4 alongside IPv6`);
}

for (const mode of ['dr', 'nat', 'tun', 'fnat'] as const) {
  test(`packet data plane over IPv6, ${mode}: spread, client address, ND, return path, 20 MB, UDP`, {
    skip: skip ?? false,
    timeout: 240_000,
  }, async () => {
    await withRunningLab(mode, checkIpv6, { ipv6: true });
  });
}

test('the lab refuses --ipv6 with --ha in nat mode, saying why', { skip: skip ?? false }, async () => {
  await assert.rejects(
    withRunningLab('nat', async () => undefined, { ipv6: true, ha: true }),
    /--ipv6 with --ha is not available in nat mode/,
  );
});
