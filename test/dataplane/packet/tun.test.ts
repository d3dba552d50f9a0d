import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { withNetns } from '../../../src/dataplane/packet/netns.js';
import { TunDevice } from '../../../src/dataplane/packet/tun.js';
import { ErrorCodes } from '../../../src/errors.js';
import { rootSkipReason } from '../../helpers/env.js';
import { icmpEcho, udpPacket } from '../../helpers/frames.js';
import { createLab, type Lab } from '../../helpers/netns.js';
import { nsToolPath } from '../../helpers/ns-tool.js';

const skip = rootSkipReason();

/** Resolves with the first packet read from the TUN that `match` accepts. */
function readMatching(tun: TunDevice, match: (p: Buffer) => boolean, timeoutMs = 5000): Promise<Buffer> {
  const buf = Buffer.alloc(2048);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`no matching packet on ${tun.name}`));
    }, timeoutMs);
    const watcher = tun.watch(() => {
      for (let n = tun.read(buf); n >= 0; n = tun.read(buf)) {
        const p = Buffer.from(buf.subarray(0, n));
        if (match(p)) {
          clearTimeout(timer);
          watcher.close();
          resolve(p);
          return;
        }
      }
    });
  });
}

describe('TunDevice', { skip: skip ?? false }, () => {
  let lab: Lab;
  let ns: string;
  let tun: TunDevice;

  before(async () => {
    lab = createLab();
    ns = await lab.addNs('t');
    tun = withNetns(ns, () => TunDevice.open({ name: 'tltun%d' }));
    await lab.ip(ns, ['addr', 'add', '10.75.0.1/24', 'dev', tun.name]);
    await lab.ip(ns, ['link', 'set', tun.name, 'up']);
  });

  after(async () => {
    tun?.close();
    await lab?.cleanup();
  });

  test('the kernel resolves the name template', () => {
    assert.match(tun.name, /^tltun\d+$/);
  });

  test('an ICMP echo request written into the TUN is answered back through it', async () => {
    const reply = readMatching(tun, (p) => p[9] === 1 && p[20] === 0 && p.readUInt16BE(24) === 0x7e57);
    assert.equal(
      tun.write(icmpEcho('10.75.0.2', '10.75.0.1', 0x7e57, 1, Buffer.from('ping-through-tun')), 44),
      true,
    );
    const p = await reply;
    assert.equal(p.subarray(12, 16).join('.'), '10.75.0.1');
    assert.equal(p.subarray(16, 20).join('.'), '10.75.0.2');
    assert.equal(p.subarray(28).toString(), 'ping-through-tun');
    assert.equal(tun.counters.writePackets, 1);
  });

  test('a UDP datagram written into the TUN reaches a socket in the namespace', async () => {
    const listener = lab.spawn(ns, [process.execPath, nsToolPath, 'udp-listen', '10.75.0.1', '7100']);
    await listener.waitForLine(/^ready$/);
    const pkt = udpPacket('10.75.0.2', '10.75.0.1', 4444, 7100, Buffer.from('via-tun'));
    assert.ok(tun.write(pkt, pkt.length));
    assert.equal(await listener.waitForLine(/^udp /), 'udp 10.75.0.2 4444 via-tun');
  });

  test('a malformed packet is refused by the kernel and counted, not thrown', () => {
    const before = tun.counters.writeErrors;
    assert.equal(tun.write(Buffer.from([0x00, 1, 2, 3]), 4), false, 'neither IPv4 nor IPv6');
    assert.equal(tun.counters.writeErrors, before + 1);
  });

  test('an invalid name is TSLVS_ERR_INVALID_ARGUMENT', () => {
    assert.throws(() => TunDevice.open({ name: 'a/b' }), { code: ErrorCodes.INVALID_ARGUMENT });
    assert.throws(() => TunDevice.open({ name: 'x'.repeat(16) }), { code: ErrorCodes.INVALID_ARGUMENT });
  });
});
