/**
 * The XDP fast path in the namespace lab (`lab up --xdp`: dataplane.xdp generic on the director), in DR,
 * NAT, TUN and Full-NAT:
 * - a download and an upload are byte-exact while the director's pipeline sees only the connections'
 *   control segments and the program forwards the rest (the lab's Full-NAT services send a PROXY v2
 *   header: after the first segment the program shifts sequence numbers as the pipeline does, and the
 *   upload's checksum at the real server proves the stream);
 * - the map entries go when the connections close;
 * - a keep-alive connection the program alone keeps busy outlives a 2 s TCP timeout (the fast path
 *   re-arms its session from the map's counters; without that the pipeline expires it, drops the rest);
 * - DR and NAT run dual-stack and repeat the download over IPv6.
 * NAT, TUN and Full-NAT hosts send with checksum offload off: XDP cannot rewrite the partial checksums
 * veth hands over (the fast path refuses those sessions).
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

const skip = rootSkipReason() ?? programSkipReason('curl') ?? programSkipReason('ethtool');
const MB8 = 8 * 1024 * 1024;

type Counters = Record<string, number>;

async function counters(lab: RunningLab): Promise<Counters> {
  const s = await lab.api<{ dataplaneStats: { counters: Counters } }>('/v1/status');
  return s.dataplaneStats.counters;
}

const delta = (a: Counters, b: Counters, k: string) => (b[k] ?? 0) - (a[k] ?? 0);

/** argv: VIP, count, gap in ms. Prints {ok, sockets}: requests answered, connections used. */
const KEEPALIVE = `const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const [vip, n, gap] = process.argv.slice(1);
const ports = new Set();
const once = () => new Promise((resolve, reject) => {
  const req = http.get({ host: vip, path: '/?format=json', agent, timeout: 3000 }, (res) => {
    res.resume();
    res.on('end', () => { ports.add(req.socket.localPort); resolve(); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', reject);
});
(async () => {
  let ok = 0;
  for (let i = 0; i < Number(n); i++) {
    try { await once(); ok++; } catch (e) { console.log('request', i, 'failed:', e.message); }
    await new Promise((r) => setTimeout(r, Number(gap)));
  }
  agent.destroy();
  console.log(JSON.stringify({ ok, sockets: ports.size }));
})();`;

for (const mode of ['dr', 'nat', 'tun', 'fnat'] as const) {
  test(`XDP fast path, ${mode}: transfers through the program, entries follow the sessions`, {
    skip: skip ?? false,
    timeout: 180_000,
  }, async () => {
    await withRunningLab(
      mode,
      async (lab) => {
        const t = lab.state.topology;
        await waitFor(
          'health checks to find every real server up',
          async () => {
            const h = await lab.api<{ realServers: { health: { healthy: boolean } }[] }>('/v1/health');
            return h.realServers.every((r) => r.health.healthy);
          },
          20_000,
        );
        if (mode !== 'dr') {
          for (const role of ['client', ...t.realServers.map((r) => r.role)])
            await lab.exec(role, ['ethtool', '-K', 'eth0', 'tx', 'off']);
        }
        const before = await counters(lab);
        const file = join(tmpdir(), `tslvs-xdp-${lab.prefix}.bin`);
        try {
          await lab.exec('client', ['curl', '-s', '-m', '60', '-o', file, `http://${t.vip}/bytes/${MB8}`], {
            timeoutMs: 70_000,
          });
          const got = readFileSync(file);
          assert.equal(got.length, MB8, 'download size');
          assert.ok(
            got.every((b) => b === 0x61),
            'download content',
          );
          const up = randomBytes(MB8 / 2);
          writeFileSync(file, up);
          const r = await lab.exec('client', [
            'curl',
            '-s',
            '-m',
            '60',
            '--data-binary',
            `@${file}`,
            '-H',
            'content-type: application/octet-stream',
            `http://${t.vip}/`,
          ]);
          const sha = createHash('sha256').update(up).digest('hex');
          assert.match(r.stdout, new RegExp(`received ${MB8 / 2} bytes sha256 ${sha}`));
          if (t.vip6) {
            // The same over IPv6 (the program's second map).
            const c6 = await counters(lab);
            await lab.exec(
              'client',
              ['curl', '-s', '-m', '60', '-o', file, `http://[${t.vip6}]/bytes/${MB8}`],
              {
                timeoutMs: 70_000,
              },
            );
            const got6 = readFileSync(file);
            assert.equal(got6.length, MB8, 'IPv6 download size');
            assert.ok(
              got6.every((b) => b === 0x61),
              'IPv6 download content',
            );
            await waitFor(
              'the IPv6 session offloaded and counted',
              async () => {
                const c = await counters(lab);
                const pipeline = delta(c6, c, 'forwarded_in') + delta(c6, c, 'forwarded_out');
                // (DR: only the client's acknowledgments pass the director, a few hundred.)
                return (
                  delta(c6, c, 'xdp_installed') >= 1 && delta(c6, c, 'xdp_forwarded_packets') > 9 * pipeline
                );
              },
              10_000,
            );
          }
        } finally {
          rmSync(file, { force: true });
        }
        // One keep-alive connection, a request every 400 ms for about 5 s, under a 2 s TCP timeout: after
        // the handshake only the program sees its packets, so it lives only if the fast path re-arms it.
        await lab.api('/v1/timeouts', { method: 'PUT', body: { tcp: 2 } });
        const ka = await lab.exec('client', [process.execPath, '-e', KEEPALIVE, t.vip, '12', '400'], {
          timeoutMs: 30_000,
        });
        assert.deepEqual(JSON.parse(ka.stdout.trim().split('\n').at(-1)!), { ok: 12, sockets: 1 }, ka.stdout);
        // (The worker publishes its counters once a second.)
        let after: Counters = before;
        await waitFor(
          'the closed connections to leave the map',
          async () => {
            after = await counters(lab);
            const installed = delta(before, after, 'xdp_installed');
            const settled = installed >= 3;
            return settled && delta(before, after, 'xdp_removed') >= installed;
          },
          10_000,
        );
        const viaXdp = delta(before, after, 'xdp_forwarded_packets');
        const viaPipeline = delta(before, after, 'forwarded_in') + delta(before, after, 'forwarded_out');
        assert.ok(
          viaXdp > 9 * viaPipeline,
          `${mode}: the program forwarded ${viaXdp} packets, the pipeline ${viaPipeline}`,
        );
        // The sessions the program kept busy were not expired under it: the pipeline saw no packet of an
        // unknown connection.
        assert.equal(delta(before, after, 'drop_not_syn_no_session'), 0, 'no segment lost its session');
        // New connections still go through the pipeline first.
        const again = await lab.exec('client', ['curl', '-s', '-m', '5', `http://${t.vip}/?format=json`]);
        assert.match(again.stdout, /"server":"rs\d"/);
      },
      { xdp: 'generic', ipv6: mode === 'dr' || mode === 'nat' },
    );
  });
}
