import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type IpipDecap, startIpipDecap } from '../../../src/dataplane/packet/ipip-decap.js';
import { ErrorCodes } from '../../../src/errors.js';
import { rootSkipReason } from '../../helpers/env.js';
import { ipv4Packet, udpPacket } from '../../helpers/frames.js';
import { createLab, type Lab } from '../../helpers/netns.js';
import { nsToolPath } from '../../helpers/ns-tool.js';
import { sendRawIpv4 } from './raw-ip.js';

const skip = rootSkipReason();
const DIRECTOR = '10.74.0.1';
const RS = '10.74.0.2';
const RS_OTHER = '10.74.0.3';
const STRANGER = '10.74.0.5';
const VIP = '10.74.9.9';
const CLIENT = '203.0.113.7';

/** Outer IPv4 (protocol 4) around `inner`. */
const ipip = (src: string, dst: string, inner: Buffer, tos = 0) =>
  ipv4Packet({ src, dst, protocol: 4, payload: inner, tos });
const innerUdp = (text: string) => udpPacket(CLIENT, VIP, 40000, 7000, Buffer.from(text));

describe('userspace IPIP decapsulation for a TUN-mode real server', { skip: skip ?? false }, () => {
  let lab: Lab;
  let nsDir: string;
  let nsRs: string;
  let decap: IpipDecap;

  before(async () => {
    lab = createLab();
    nsDir = await lab.addNs('dir');
    nsRs = await lab.addNs('rs');
    await lab.addVeth(
      { ns: nsDir, name: 'eth0', addresses: [`${DIRECTOR}/24`, `${STRANGER}/24`] },
      { ns: nsRs, name: 'eth0', addresses: [`${RS}/24`, `${RS_OTHER}/24`] },
    );
    await lab.ip(nsRs, ['addr', 'add', `${VIP}/32`, 'dev', 'lo']);
    await lab.ip(nsRs, ['route', 'add', 'default', 'via', DIRECTOR]);
    decap = startIpipDecap({
      netns: nsRs,
      tunName: 'ipipd0',
      localAddresses: [RS],
      allowedSources: [DIRECTOR],
    });
    await lab.sysctl(nsRs, 'net.ipv4.conf.all.rp_filter', 0);
    await lab.sysctl(nsRs, 'net.ipv4.conf.ipipd0.rp_filter', 0);
    await lab.ip(nsRs, ['link', 'set', 'ipipd0', 'up']);
  });

  after(async () => {
    decap?.close();
    await lab?.cleanup();
  });

  test('well-formed IPIP reaches the VIP server; malformed, foreign and misdirected packets are counted and dropped', async () => {
    const server = lab.spawn(nsRs, [process.execPath, nsToolPath, 'udp-listen', VIP, '7000']);
    await server.waitForLine(/^ready$/);

    const badChecksum = innerUdp('bad-checksum');
    badChecksum.writeUInt16BE(badChecksum.readUInt16BE(10) ^ 0x0101, 10);
    const truncated = innerUdp('truncated');
    truncated.writeUInt16BE(truncated.length + 40, 2);
    const notIpv4 = Buffer.from(innerUdp('not-ipv4'));
    notIpv4[0] = 0x15;
    const notEct = innerUdp('not-ect-under-ce');
    const good = ['good-0', 'good-1', 'good-2', 'good-3'];
    const ect = ipv4Packet({
      src: CLIENT,
      dst: VIP,
      protocol: 17,
      tos: 0x02,
      payload: innerUdp('good-ect').subarray(20),
    });

    // Bad ones first: once the last good datagram is delivered, everything before it has been handled.
    sendRawIpv4(nsDir, [
      ipip(DIRECTOR, RS, badChecksum),
      ipip(DIRECTOR, RS, truncated),
      ipip(DIRECTOR, RS, notIpv4),
      ipip(DIRECTOR, RS_OTHER, innerUdp('not-local')),
      ipip(STRANGER, RS, innerUdp('stranger')),
      ipip(DIRECTOR, RS, notEct, 0x03),
      ipip(DIRECTOR, RS, ect, 0x03),
      ...good.map((t) => ipip(DIRECTOR, RS, innerUdp(t))),
    ]);
    const lines = await server.waitForLines(/^udp /, 5);
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(1).join(' ')),
      [`${CLIENT} 40000 good-ect`, ...good.map((t) => `${CLIENT} 40000 ${t}`)],
    );
    const s = decap.stats();
    assert.equal(s.received, 11);
    assert.equal(s.delivered, 5);
    assert.equal(s.malformed, 3);
    assert.equal(s.notLocal, 1);
    assert.equal(s.sourceRejected, 1);
    assert.equal(s.ecnDropped, 1);
    assert.equal(s.tunDropped, 0);
    assert.equal(server.lines.filter((l) => /bad|trunc|not-|stranger/.test(l)).length, 0);
  });

  test('configuration errors have stable codes', () => {
    assert.throws(() => startIpipDecap({ tunName: 'x0', localAddresses: [] }), {
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    assert.throws(() => startIpipDecap({ tunName: 'x0', localAddresses: ['not-an-address'] }), {
      code: ErrorCodes.ADDRESS,
    });
    assert.throws(() => startIpipDecap({ tunName: 'x0', localAddresses: ['10.0.0.300'] }), {
      code: ErrorCodes.ADDRESS,
    });
  });
});
