/**
 * `dataplane.xdp` on a real interface, through the daemon: by default (`auto`: on veth generic, and said
 * so; auto-mode.test.ts has the driver hook first elsewhere) the fast path is
 * attached to the packet interface for as long as the daemon runs and taken away when it stops; a mode
 * the interface refuses (here: native while another program holds it) stops the start with a message
 * naming the fast path and the reason, and native mode on a virtual device is warned about; `auto`
 * refused the same way starts anyway, warns, and says so in the `xdp_attached` gauge. With GRO on, the
 * generic hook keeps to UDP and DR and says so, also when GRO is turned on or off while it runs. Root only.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliPath } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/daemon.js';
import { rootSkipReason } from '../../helpers/env.js';
import { withLab } from '../../helpers/netns.js';
import { directorAndPeer, packetConfig } from '../../helpers/packet-director.js';

const skip = rootSkipReason();

/** `xdp` null: the key left out (the default). */
const config = (xdp: string | null, port: number) =>
  packetConfig({ port, ...(xdp === null ? {} : { dataplane: `xdp: ${xdp}` }) });

/** Holds a generic XDP_PASS program on eth0 of the namespace it runs in until killed. */
const HOLDER = (dist: string) => `
const { Bpf, ProgType, XdpFlags } = await import('${dist}/src/dataplane/xdp/bpf.js');
const { Program } = await import('${dist}/src/dataplane/xdp/asm.js');
const { interfaceInfo } = await import('${dist}/src/dataplane/packet/ifinfo.js');
const b = new Bpf();
const p = b.progLoad(ProgType.XDP, new Program().mov(0, 2).exit().bytes(), 'test_holder');
b.attachXdp(p, interfaceInfo('eth0').index, XdpFlags.SKB_MODE, 'eth0');
console.log('holding');
setInterval(() => {}, 1000);`;

test('dataplane.xdp: attached by default while the daemon runs, gone after; a refused mode stops the start, a refused auto does not', {
  skip: skip ?? false,
  timeout: 60_000,
}, async () => {
  await withLab(async (lab) => {
    const { d } = await directorAndPeer(lab);
    const file = join(tmpdir(), `tslvs-xdp-${lab.prefix}.yaml`);
    const xdpProgram = async () => (await lab.exec(d, ['ip', '-d', 'link', 'show', 'eth0'])).stdout;
    // The daemon's /metrics on `port` (inside the namespace) shows the xdp_attached gauge at `value`.
    const gaugeIs = (port: number, value: number) =>
      waitFor(
        `the xdp_attached gauge at ${value}`,
        async () => {
          const m = await lab.exec(d, ['curl', '-sf', `http://127.0.0.1:${port}/metrics`], {
            allowFailure: true,
          });
          return new RegExp(`^tslvs_packet_xdp_attached ${value}$`, 'm').test(m.stdout);
        },
        10_000,
      );

    writeFileSync(file, config(null, 9191));
    const daemon = lab.spawn(d, [process.execPath, cliPath, 'run', '-c', file]);
    // auto on veth: the generic hook, without trying the driver's (a veth peer drops what native redirects).
    await daemon.waitForLine(/XDP fast path on eth0: generic \(dataplane\.xdp: auto\)(?!;)/, 20_000);
    await waitFor(
      'the fast path on eth0',
      async () => /xdpgeneric[\s\S]*tslvs_fastpath/.test(await xdpProgram()),
      20_000,
    );
    await daemon.stop();
    await waitFor('the fast path to leave eth0', async () => !/xdp/.test(await xdpProgram()), 10_000);

    // GRO on: the generic hook would see TCP aggregates, so it keeps to UDP, says so, and still counts as
    // attached.
    await lab.exec(d, ['ethtool', '-K', 'eth0', 'gro', 'on']);
    writeFileSync(file, config(null, 9194));
    const udpOnly = lab.spawn(d, [process.execPath, cliPath, 'run', '-c', file]);
    await udpOnly.waitForLine(
      /XDP fast path \(generic\) offloads UDP and DR only: GRO or LRO is on for eth0/,
      20_000,
    );
    await gaugeIs(9194, 1);
    // Turned off, then on again, while the daemon runs: the fast path follows within seconds and says so.
    await lab.exec(d, ['ethtool', '-K', 'eth0', 'gro', 'off']);
    await udpOnly.waitForLine(/GRO and LRO are off on eth0 now/, 15_000);
    await lab.exec(d, ['ethtool', '-K', 'eth0', 'gro', 'on']);
    await udpOnly.waitForLines(
      /XDP fast path \(generic\) offloads UDP and DR only: GRO or LRO is on for eth0/,
      2,
      15_000,
    );
    await udpOnly.stop();
    await lab.exec(d, ['ethtool', '-K', 'eth0', 'gro', 'off']);

    const dist = join(cliPath, '..', '..', '..');
    const holder = lab.spawn(d, [process.execPath, '--input-type=module', '-e', HOLDER(dist)]);
    await holder.waitForLine(/^holding$/, 10_000);
    writeFileSync(file, config('native', 9192));
    const r = await lab.exec(d, [process.execPath, cliPath, 'run', '-c', file], {
      allowFailure: true,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /XDP fast path \(native\) unavailable: bpf\(BPF_LINK_CREATE, XDP\) failed on eth0: EEXIST/,
    );
    // Native mode on veth: the caveat is said before anything is attached.
    assert.match(r.stdout + r.stderr, /xdp native on the virtual device eth0: on veth/);

    writeFileSync(file, config('auto', 9193));
    const fallback = lab.spawn(d, [process.execPath, cliPath, 'run', '-c', file]);
    await fallback.waitForLine(
      /XDP fast path \(generic\) unavailable: .*EBUSY.*\(dataplane.xdp: auto\); the pipeline forwards every packet/,
      20_000,
    );
    // Still the holder's program on eth0, and the daemon up, saying the fast path is not attached.
    assert.match(await xdpProgram(), /test_holder/);
    await gaugeIs(9193, 0);
    await fallback.stop();
    await holder.stop();
  });
});
