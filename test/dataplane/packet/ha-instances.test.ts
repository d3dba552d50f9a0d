/**
 * Two VRRP instances in packet mode, for real: the dual-stack `--ha --ipv6` lab runs instance `lab` for
 * the IPv4 VIP and `lab6` (VRRPv3 over IPv6) for the IPv6 VIP on both directors.
 *   1. director2 is restarted with a higher priority for `lab6` only: it takes the IPv6 VIP over (its
 *      unsolicited neighbour advertisement moves the client's entry) while `director` keeps the IPv4 VIP
 *      — each director answers ARP/ND for exactly the VIPs of the instances it is master of;
 *   2. director2 is killed during a download through the IPv6 VIP: `director` takes `lab6` back with the
 *      session director2 synced to it (each director sends the sessions of the instances it holds), and
 *      the download completes.
 * Root only.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { labStartDirector } from '../../../src/tools/lab/control.js';
import { readLabState } from '../../../src/tools/lab/lab.js';
import { waitFor } from '../../helpers/daemon.js';
import { programSkipReason, rootSkipReason } from '../../helpers/env.js';
import { type RunningLab, withRunningLab } from '../../helpers/lab.js';

const skip = rootSkipReason() ?? programSkipReason('curl');

interface HaView {
  instances: { name: string; state: string }[];
}

async function states(lab: RunningLab, director: string): Promise<Record<string, string>> {
  const v = await lab.api<HaView>('/v1/ha', { director });
  return Object.fromEntries(v.instances.map((i) => [i.name, i.state.toLowerCase()]));
}

async function macOf(lab: RunningLab, role: string): Promise<string> {
  return (await lab.exec(role, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
}

/** The client's neighbour entry for `addr` (null when it has none). */
async function clientNeighbour(lab: RunningLab, addr: string): Promise<string | null> {
  const r = await lab.exec('client', ['ip', '-j', 'neigh', 'show', addr]);
  return (JSON.parse(r.stdout) as { lladdr?: string }[])[0]?.lladdr ?? null;
}

async function answers(lab: RunningLab, url: string): Promise<string> {
  const r = await lab.exec('client', ['curl', '-s', '-m', '3', url], { allowFailure: true });
  return r.stdout.trim();
}

function directorPid(lab: RunningLab, role: string): number {
  return readLabState(lab.prefix)!.processes.findLast((p) => p.role === role && p.what === 'director')!.pid;
}

test('two VRRP instances (IPv4 and IPv6 VIPs) are held independently in packet mode', {
  skip: skip ?? false,
  timeout: 180_000,
}, async () => {
  await withRunningLab(
    'dr',
    async (lab) => {
      const t = lab.state.topology;
      const v4 = `http://${t.vip}/`;
      const v6 = `http://[${t.vip6}]/`;
      const [mac1, mac2] = [await macOf(lab, 'director'), await macOf(lab, 'director2')];
      await waitFor(
        'director master of both instances, director2 backup of both',
        async () => {
          const [a, b] = [await states(lab, 'director'), await states(lab, 'director2')];
          return a.lab === 'master' && a.lab6 === 'master' && b.lab === 'backup' && b.lab6 === 'backup';
        },
        20_000,
      );
      assert.match(await answers(lab, v6), /^rs\d \[fd10::2\]:\d+$/);

      // 1. director2 prefers lab6: restart it with priority 200 there.
      process.kill(directorPid(lab, 'director2'), 'SIGKILL');
      const file = join(lab.state.dir, 'director2.yaml');
      const yaml = readFileSync(file, 'utf8');
      const split = yaml.replace(/(- name: lab6\n(?:\s+\S.*\n)*?\s+priority: )\d+/, '$1200');
      assert.notEqual(split, yaml, 'the lab6 priority was rewritten');
      writeFileSync(file, split);
      await labStartDirector(lab.prefix, 'director2');
      await waitFor(
        'lab6 on director2, lab still on director',
        async () => {
          const [a, b] = [await states(lab, 'director'), await states(lab, 'director2')];
          return a.lab === 'master' && a.lab6 === 'backup' && b.lab === 'backup' && b.lab6 === 'master';
        },
        20_000,
      );
      await waitFor(
        'the unsolicited NA to move the client to director2',
        async () => {
          return (await clientNeighbour(lab, t.vip6!)) === mac2;
        },
        10_000,
      );
      // Fresh resolution: each VIP is answered by its own instance's master, and by no one else.
      await lab.exec('client', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
      assert.match(await answers(lab, v4), /^rs\d 10\.10\.0\.2:\d+$/, 'IPv4 VIP after a fresh ARP');
      assert.match(await answers(lab, v6), /^rs\d \[fd10::2\]:\d+$/, 'IPv6 VIP after a fresh ND');
      assert.equal(await clientNeighbour(lab, t.vip), mac1, 'the IPv4 VIP resolves to director (lab)');
      assert.equal(await clientNeighbour(lab, t.vip6!), mac2, 'the IPv6 VIP resolves to director2 (lab6)');

      // 2. director2 dies in the middle of a download through the IPv6 VIP: director takes lab6 back, with
      // the session director2 synced to it (each director sends the sessions of the instances it holds),
      // so the client's ACKs keep reaching the real server and the transfer completes.
      const size = 12 * 1024 * 1024;
      const http6 = async () =>
        (await lab.api<{ total: number }>('/v1/connections?service=http6&limit=1', { director: 'director' }))
          .total;
      const before = await http6();
      const download = lab.exec(
        'client',
        [
          'curl',
          '-s',
          '-m',
          '60',
          '--limit-rate',
          '1500K',
          '-o',
          '/dev/null',
          '-w',
          '%{size_download}',
          `${v6}bytes/${size}`,
        ],
        { timeoutMs: 70_000, allowFailure: true },
      );
      await waitFor(
        "director to hold a copy of director2's new IPv6 session",
        async () => (await http6()) > before,
        10_000,
      );
      process.kill(directorPid(lab, 'director2'), 'SIGKILL');
      await waitFor(
        'director master of lab6 again',
        async () => (await states(lab, 'director')).lab6 === 'master',
        15_000,
      );
      const got = await download;
      assert.equal(
        got.stdout.trim(),
        String(size),
        `the download survived the failover (${got.stderr.trim()})`,
      );
      assert.equal(await clientNeighbour(lab, t.vip6!), mac1, 'the unsolicited NA moved the client back');
      assert.match(await answers(lab, v4), /^rs\d 10\.10\.0\.2:\d+$/, 'IPv4 VIP after the failover');
      assert.match(await answers(lab, v6), /^rs\d \[fd10::2\]:\d+$/, 'IPv6 VIP after the failover');
    },
    { ha: true, ipv6: true },
  );
});
