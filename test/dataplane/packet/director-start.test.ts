/**
 * Starting the packet data plane: it refuses wrong interfaces and kernel settings with a message that says
 * what to change, and once up it announces its VIPs (gratuitous ARP; an unsolicited NA for IPv6). Root only.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliPath } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/daemon.js';
import { programSkipReason, rootSkipReason } from '../../helpers/env.js';
import { type Lab, withLab } from '../../helpers/netns.js';
import { directorAndPeer, packetConfig } from '../../helpers/packet-director.js';

const skip = rootSkipReason() ?? programSkipReason('tcpdump');

const config = (iface: string) => packetConfig({ iface });

/** tcpdump on eth0 of `ns`, listening, for the first frame matching `filter`. */
async function captureOne(lab: Lab, ns: string, filter: string) {
  const dump = lab.spawn(ns, ['tcpdump', '-i', 'eth0', '-n', '-l', '-c', '1', filter]);
  await waitFor('tcpdump to listen', () => /listening on/.test(dump.stderr()));
  return dump;
}

test('the packet data plane refuses a bad interface or kernel setting, and announces its VIP when up', {
  skip: skip ?? false,
  timeout: 120_000,
}, async () => {
  await withLab(async (lab) => {
    const { d, p } = await directorAndPeer(lab);
    const file = join(tmpdir(), `tslvs-start-${lab.prefix}.yaml`);
    const start = async (cfg: string) => {
      writeFileSync(file, cfg);
      return lab.exec(d, [process.execPath, cliPath, 'run', '-c', file, '--json'], {
        allowFailure: true,
        timeoutMs: 20_000,
      });
    };

    let r = await start(config('nope0'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /interface 'nope0' does not exist/);

    await lab.ip(d, ['addr', 'add', '10.99.0.100/32', 'dev', 'eth0']);
    r = await start(config('eth0'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the kernel owns 10\.99\.0\.100 \(on eth0\)/);
    await lab.ip(d, ['addr', 'del', '10.99.0.100/32', 'dev', 'eth0']);

    await lab.sysctl(d, 'net.ipv4.conf.eth0.forwarding', 1);
    r = await start(config('eth0'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /net\.ipv4\.conf\.eth0\.forwarding is 1/);
    await lab.sysctl(d, 'net.ipv4.conf.eth0.forwarding', 0);

    // Up: a gratuitous ARP for the VIP (sender address = target address = VIP) reaches the segment.
    const dump = await captureOne(lab, p, 'arp and arp[14:4] = 0x0a630064 and arp[24:4] = 0x0a630064');
    writeFileSync(file, config('eth0'));
    const director = lab.spawn(d, [process.execPath, cliPath, 'run', '-c', file, '--json']);
    await director.waitForLine(/tslvs started/, 20_000);
    const line = await dump.waitForLine(/ARP/, 10_000);
    assert.match(line, /10\.99\.0\.100/);
    // It answers ARP for the VIP itself: the peer resolves it to the director's MAC.
    await lab.exec(p, ['ping', '-c', '1', '-W', '1', '10.99.0.100'], { allowFailure: true });
    const neigh = await lab.ip(p, ['-j', 'neigh', 'show', '10.99.0.100']);
    const dmac = JSON.parse((await lab.ip(d, ['-j', 'link', 'show', 'eth0'])).stdout)[0].address as string;
    assert.equal((JSON.parse(neigh.stdout) as { lladdr?: string }[])[0]?.lladdr, dmac);
    await director.stop();
  });
});

test('an IPv6 VIP is announced with an unsolicited neighbour advertisement and answers ping -6', {
  skip: skip ?? false,
  timeout: 120_000,
}, async () => {
  await withLab(async (lab) => {
    const d = await lab.addNs('d', { ipv6: true });
    const p = await lab.addNs('p', { ipv6: true });
    // Static addresses, usable at once: no duplicate address detection on the new links.
    for (const ns of [d, p]) await lab.sysctl(ns, 'net.ipv6.conf.default.accept_dad', 0);
    await lab.addVeth(
      { ns: d, name: 'eth0', addresses: ['fd99::1/64'] },
      { ns: p, name: 'eth0', addresses: ['fd99::2/64'] },
    );
    const file = join(tmpdir(), `tslvs-start6-${lab.prefix}.yaml`);
    writeFileSync(
      file,
      `admin: { listen: 127.0.0.1:9090, token: t }
dataplane: { kind: packet, interface: eth0 }
services:
  - name: web6
    protocol: tcp
    address: "[fd99::100]:80"
    forwarding: dr
    health: { kind: none }
    realServers: [{ address: "[fd99::11]:80", weight: 1 }]
`,
    );
    // ICMPv6 type 136 (NA) whose target (bytes 8-23 of the message) is fd99::100.
    const dump = await captureOne(
      lab,
      p,
      'icmp6 and ip6[40] == 136 and ip6[48:4] == 0xfd990000 and ip6[60:4] == 0x00000100',
    );
    const director = lab.spawn(d, [process.execPath, cliPath, 'run', '-c', file, '--json']);
    await director.waitForLine(/tslvs started/, 20_000);
    const line = await dump.waitForLine(/advertisement/, 10_000);
    assert.match(line, /tgt is fd99::100/);
    const ping = await lab.exec(p, ['ping', '-6', '-c', '1', '-W', '2', 'fd99::100'], { allowFailure: true });
    assert.match(ping.stdout, / 0% packet loss/, ping.stdout);
    await director.stop();
  });
});
