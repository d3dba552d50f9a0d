import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RxStatus, VnetFlag, VnetGso } from '../../../src/dataplane/packet/constants.js';
import { interfaceInfo } from '../../../src/dataplane/packet/ifinfo.js';
import { withNetns } from '../../../src/dataplane/packet/netns.js';
import { PacketRing } from '../../../src/dataplane/packet/ring.js';
import { TxProblem, VnetHeader } from '../../../src/dataplane/packet/vnet.js';
import { ErrorCodes } from '../../../src/errors.js';
import { rootSkipReason } from '../../helpers/env.js';
import { ethernetFrame, fmtMac, parseUdpFrame, udpPacket } from '../../helpers/frames.js';
import { createLab, type Lab } from '../../helpers/netns.js';
import { nsToolPath } from '../../helpers/ns-tool.js';
import { capture, sendFrame } from './capture.js';

const skip = rootSkipReason();
const A_IP = '10.71.0.1';
const B_IP = '10.71.0.2';

describe('PacketRing on a veth pair between two namespaces', { skip: skip ?? false }, () => {
  let lab: Lab;
  let nsA: string;
  let nsB: string;
  let macA: string;
  let macB: string;
  const rings: PacketRing[] = [];
  const open = (ns: string, opts: Omit<Parameters<typeof PacketRing.open>[0], 'ifname'> = {}) => {
    const ring = withNetns(ns, () => PacketRing.open({ ifname: 'eth0', ...opts }));
    rings.push(ring);
    return ring;
  };
  const tool = (ns: string, args: string[]) => lab.spawn(ns, [process.execPath, nsToolPath, ...args]);

  before(async () => {
    lab = createLab();
    nsA = await lab.addNs('a');
    nsB = await lab.addNs('b');
    await lab.addVeth(
      { ns: nsA, name: 'eth0', addresses: [`${A_IP}/24`] },
      { ns: nsB, name: 'eth0', addresses: [`${B_IP}/24`] },
    );
    macA = fmtMac(withNetns(nsA, () => interfaceInfo('eth0')).mac);
    macB = fmtMac(withNetns(nsB, () => interfaceInfo('eth0')).mac);
    // Static neighbours: no ARP exchange in the middle of the frame counts.
    await lab.ip(nsA, ['neigh', 'replace', B_IP, 'lladdr', macB, 'dev', 'eth0', 'nud', 'permanent']);
    await lab.ip(nsB, ['neigh', 'replace', A_IP, 'lladdr', macA, 'dev', 'eth0', 'nud', 'permanent']);
  });

  after(async () => {
    for (const r of rings) r.close();
    await lab?.cleanup();
  });

  test('receives UDP datagrams from the peer with exact lengths, contents and checksum offload status', async () => {
    const ring = open(nsA);
    const sizes = [5, 100, 1000, 1472];
    const frames = capture(ring, (f) => parseUdpFrame(f.data)?.dport === 5001, sizes.length);
    for (const size of sizes) {
      const p = tool(nsB, ['udp-send', A_IP, '5001', '1', String(size)]);
      await p.waitForLine(/^sent/);
    }
    const got = await frames;
    got.forEach((f, i) => {
      const size = sizes[i]!;
      const udp = parseUdpFrame(f.data)!;
      assert.equal(f.len, 14 + 20 + 8 + size, `frame ${i} length`);
      assert.equal(f.snaplen, f.len);
      assert.equal(udp.payload.length, size);
      assert.match(udp.payload.toString(), /^seq=0/);
      assert.equal(udp.srcMac, macB);
      assert.equal(udp.dstMac, macA);
      // A locally generated datagram crosses veth as CHECKSUM_PARTIAL (reference §1.7).
      assert.ok(f.status & RxStatus.CSUMNOTREADY, 'CSUMNOTREADY');
      assert.equal(f.vnet!.vnetFlags & VnetFlag.NEEDS_CSUM, VnetFlag.NEEDS_CSUM);
      assert.equal(f.vnet!.csumStart, 34);
      assert.equal(f.vnet!.csumOffset, 6);
    });
  });

  test('frames written to the TX ring reach a UDP socket in the peer namespace', async () => {
    const ring = open(nsA);
    const listener = tool(nsB, ['udp-listen', B_IP, '5002']);
    await listener.waitForLine(/^ready$/);
    const count = 20;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const frame = ethernetFrame(
        macB,
        ring.mac,
        0x0800,
        udpPacket(A_IP, B_IP, 40000 + i, 5002, Buffer.from(`tx-${i}`)),
      );
      assert.ok(sendFrame(ring, frame), `frame ${i} queued`);
      bytes += frame.length;
    }
    assert.equal(ring.txQueued, count);
    assert.equal(ring.txFlush(), count);
    const received = await listener.waitForLines(/^udp /, count);
    assert.equal(received.length, count);
    assert.deepEqual(
      new Set(received.map((l) => l.split(' ')[3])),
      new Set(Array.from({ length: count }, (_, i) => `tx-${i}`)),
    );
    assert.equal(ring.counters.txFrames, count);
    assert.equal(ring.counters.txBytes, bytes, 'send() reports frame bytes without the vnet header');
    assert.equal(ring.counters.txKernelSkipped, 0);
    assert.equal(ring.counters.txInvalid, 0);
  });

  test('a TCP SYN from the peer carries NEEDS_CSUM and the uncomplemented pseudo-header sum', async () => {
    const ring = open(nsA);
    const syn = capture(
      ring,
      (f) => f.data.length >= 54 && f.data[23] === 6 && (f.data[47]! & 0x12) === 0x02,
      1,
    );
    const client = tool(nsB, ['tcp-connect', A_IP, '5003']);
    const [f] = await syn;
    await client.waitForLine(/^(connected|error)/);
    assert.ok(f!.status & RxStatus.CSUMNOTREADY);
    assert.equal(f!.vnet!.vnetFlags, VnetFlag.NEEDS_CSUM);
    assert.equal(f!.vnet!.gsoType, VnetGso.NONE);
    assert.equal(f!.vnet!.csumStart, 34);
    assert.equal(f!.vnet!.csumOffset, 16);
    // The checksum field holds the folded pseudo-header sum (src, dst, proto, L4 length), not complemented.
    const d = f!.data;
    const l4len = d.readUInt16BE(16) - 20;
    let sum = d.readUInt16BE(26) + d.readUInt16BE(28) + d.readUInt16BE(30) + d.readUInt16BE(32) + 6 + l4len;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    assert.equal(d.readUInt16BE(34 + 16), sum);
  });

  test('GSO super-frames from a TCP stream arrive whole with gso_size set', async () => {
    const ring = open(nsA);
    const server = tool(nsA, ['tcp-listen', A_IP, '5004']);
    await server.waitForLine(/^ready$/);
    const big = capture(ring, (f) => f.data[23] === 6 && f.len > 1514, 3, 10_000);
    const sender = tool(nsB, ['tcp-send', A_IP, '5004', String(4 << 20)]);
    const frames = await big;
    await sender.waitForLine(/^sent/);
    for (const f of frames) {
      assert.equal(f.snaplen, f.len, 'not truncated');
      assert.equal(f.data.readUInt16BE(16) + 14, f.len, 'IP total length matches the frame');
      assert.equal(f.vnet!.gsoType & ~VnetGso.ECN, VnetGso.TCPV4);
      assert.ok(f.vnet!.gsoSize > 0 && f.vnet!.gsoSize <= 1460, `gso_size ${f.vnet!.gsoSize}`);
      assert.ok(f.vnet!.hdrLen >= 54);
    }
  });

  test('an oversize frame without GSO is refused and counted, and the ring keeps sending', async () => {
    const ring = open(nsA);
    const listener = tool(nsB, ['udp-listen', B_IP, '5005']);
    await listener.waitForLine(/^ready$/);
    const big = ethernetFrame(macB, ring.mac, 0x0800, udpPacket(A_IP, B_IP, 1, 5005, Buffer.alloc(3000, 1)));
    assert.equal(sendFrame(ring, big), false);
    assert.equal(ring.lastTxProblem, TxProblem.OVERSIZE);
    assert.equal(ring.counters.txInvalid, 1);
    // A GSO header with no segment size is refused the same way.
    const bad = new VnetHeader();
    bad.gsoType = VnetGso.TCPV4;
    assert.equal(
      sendFrame(
        ring,
        ethernetFrame(macB, ring.mac, 0x0800, udpPacket(A_IP, B_IP, 1, 5005, Buffer.from('x'))),
        bad,
      ),
      false,
    );
    assert.equal(ring.counters.txInvalid, 2);
    const ok = ethernetFrame(
      macB,
      ring.mac,
      0x0800,
      udpPacket(A_IP, B_IP, 2, 5005, Buffer.from('after-invalid')),
    );
    assert.ok(sendFrame(ring, ok));
    ring.txFlush();
    await listener.waitForLine(/after-invalid$/);
  });

  test('a frame the kernel rejects (MTU lowered under the ring) is skipped under PACKET_LOSS, not stalling TX', async () => {
    const ring = open(nsA, { vnetHdr: false });
    const listener = tool(nsB, ['udp-listen', B_IP, '5006']);
    await listener.waitForLine(/^ready$/);
    await lab.ip(nsA, ['link', 'set', 'eth0', 'mtu', '1000']);
    try {
      const big = ethernetFrame(
        macB,
        ring.mac,
        0x0800,
        udpPacket(A_IP, B_IP, 1, 5006, Buffer.alloc(1200, 0x62)),
      );
      assert.ok(sendFrame(ring, big), 'the ring still believes MTU 1500');
      for (let i = 0; i < 3; i++) {
        assert.ok(
          sendFrame(
            ring,
            ethernetFrame(macB, ring.mac, 0x0800, udpPacket(A_IP, B_IP, 2, 5006, Buffer.from(`later-${i}`))),
          ),
        );
      }
      assert.equal(ring.txFlush(), 4);
      for (let i = 0; i < 3; i++) await listener.waitForLine(new RegExp(`later-${i}$`));
      assert.equal(ring.counters.txKernelSkipped, 1);
      assert.equal(ring.counters.txFrames, 3);
      assert.equal(ring.mtu, 1000, 'the MTU was re-read');
      assert.equal(ring.txQueued, 0);
    } finally {
      await lab.ip(nsA, ['link', 'set', 'eth0', 'mtu', '1500']);
    }
  });

  test('a full RX ring drops in the kernel; PACKET_STATISTICS and LOSING report it', async () => {
    const ring = open(nsA, {
      rx: { frameSize: 2048, frameCount: 8, blockSize: 16384 },
      tx: { frameSize: 2048, frameCount: 8 },
    });
    assert.equal(ring.rx.frameCount, 8);
    const isOurs = (f: { data: Buffer }) => parseUdpFrame(f.data)?.dport === 5007;
    await tool(nsB, ['udp-send', A_IP, '5007', '30', '64']).waitForLine(/^sent 30$/);
    // Nothing was released: the 8 slots filled and the kernel dropped the other 22.
    const first = await capture(ring, isOurs, 8);
    assert.equal(first.filter((f) => f.status & RxStatus.LOSING).length, 0, 'frames stored before any drop');
    const lost = capture(ring, isOurs, 1);
    await tool(nsB, ['udp-send', A_IP, '5007', '1', '64']).waitForLine(/^sent/);
    assert.ok((await lost)[0]!.status & RxStatus.LOSING, 'LOSING flags frames stored after drops');
    const s = ring.stats();
    assert.equal(s.packets, 31, 'tp_packets counts drops too');
    assert.equal(s.drops, 22);
    const later = capture(ring, isOurs, 1);
    await tool(nsB, ['udp-send', A_IP, '5007', '1', '64']).waitForLine(/^sent/);
    assert.equal((await later)[0]!.status & RxStatus.LOSING, 0, 'reading the statistics clears LOSING');
    assert.deepEqual(ring.stats(), { packets: 32, drops: 22 }, 'stats() accumulates across reads');
  });

  test('VLAN tags are stripped before the tap and reported as tci/tpid', async () => {
    const ring = open(nsA);
    const tx = open(nsB);
    const inner = udpPacket(B_IP, A_IP, 1, 5008, Buffer.from('tagged'));
    const tagged = Buffer.concat([
      Buffer.from(macA.split(':').map((x) => Number.parseInt(x, 16))),
      Buffer.from(macB.split(':').map((x) => Number.parseInt(x, 16))),
      Buffer.from([0x81, 0x00, 0x60, 0x64, 0x08, 0x00]),
      inner,
    ]);
    const got = capture(ring, (f) => (f.status & RxStatus.VLAN_VALID) !== 0, 1);
    assert.ok(sendFrame(tx, tagged));
    tx.txFlush();
    const [f] = await got;
    assert.ok(f!.status & RxStatus.VLAN_TPID_VALID);
    assert.equal(f!.vlanTci, 0x6064, 'PCP 3, VID 100');
    assert.equal(f!.vlanTpid, 0x8100);
    assert.equal(f!.len, tagged.length - 4, 'the tag is not in the data');
    assert.equal(f!.data.readUInt16BE(12), 0x0800);
    assert.equal(parseUdpFrame(f!.data)!.payload.toString(), 'tagged');
  });

  test('a fanout group spreads frames over its members', async () => {
    const [a1, a2] = withNetns(nsA, () =>
      PacketRing.openGroup([
        { ifname: 'eth0', fanout: { group: 4242, mode: 'lb' } },
        { ifname: 'eth0', fanout: { group: 4242, mode: 'lb' } },
      ]),
    ) as [PacketRing, PacketRing];
    rings.push(a1, a2);
    assert.equal(a1.buf, a2.buf, 'a group shares one mapping');
    assert.ok(a2.rxFrameOffset(0) >= a1.rx.bytes + a1.tx.bytes, 'rings sit back to back in it');
    const tx = open(nsB, { qdiscBypass: true });
    const n = 40;
    const counts = [0, 0];
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fanout delivered ${counts}`)), 5000);
      const watchers = [a1, a2].map((r, i) =>
        r.watch(() => {
          for (let slot = r.rxNext(); slot >= 0; slot = r.rxNext()) {
            const off = r.rxDataOffset(slot);
            if (r.rxLen(slot) >= 42 && r.buf.readUInt16BE(off + 36) === 5009) counts[i]!++;
            r.rxRelease(slot);
          }
          if (counts[0]! + counts[1]! >= n) {
            clearTimeout(timer);
            for (const w of watchers) w.close();
            resolve();
          }
        }),
      );
    });
    for (let i = 0; i < n; i++) {
      assert.ok(
        sendFrame(
          tx,
          ethernetFrame(macA, macB, 0x0800, udpPacket(B_IP, A_IP, 2000 + i, 5009, Buffer.from(`fan-${i}`))),
        ),
      );
    }
    assert.equal(tx.txFlush(), n, 'sent through PACKET_QDISC_BYPASS');
    await done;
    assert.equal(counts[0]! + counts[1]!, n);
    assert.ok(counts[0]! > 0 && counts[1]! > 0, `both members got frames: ${counts}`);
  });

  test('interface facts come from ioctls in the thread namespace; non-Ethernet links are refused', () => {
    const lo = withNetns(nsA, () => interfaceInfo('lo'));
    assert.equal(lo.index, 1);
    assert.equal(lo.mtu, 65536);
    assert.ok(lo.up && lo.running);
    assert.equal(lo.operstate, 'up');
    const eth = withNetns(nsA, () => interfaceInfo('eth0'));
    assert.equal(fmtMac(eth.mac), macA);
    assert.throws(() => withNetns(nsA, () => PacketRing.open({ ifname: 'lo' })), {
      code: ErrorCodes.ENVIRONMENT,
    });
    assert.throws(() => PacketRing.open({ ifname: 'bad/name' }), { code: ErrorCodes.INVALID_ARGUMENT });
  });

  test('opening a ring on a missing interface is TSLVS_ERR_ENVIRONMENT', () => {
    assert.throws(
      () => withNetns(nsA, () => PacketRing.open({ ifname: 'nope0' })),
      (err: { code?: string; message: string }) =>
        err.code === ErrorCodes.ENVIRONMENT && /nope0/.test(err.message),
    );
  });
});
