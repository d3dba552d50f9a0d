import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PacketType } from '../../../src/dataplane/packet/constants.js';
import { interfaceInfo } from '../../../src/dataplane/packet/ifinfo.js';
import { withNetns } from '../../../src/dataplane/packet/netns.js';
import { PacketRing } from '../../../src/dataplane/packet/ring.js';
import { PacketWorker } from '../../../src/dataplane/packet/worker.js';
import { ErrorCodes } from '../../../src/errors.js';
import { rootSkipReason } from '../../helpers/env.js';
import { ethernetFrame, fmtMac, parseUdpFrame, udpPacket } from '../../helpers/frames.js';
import { createLab, type Lab } from '../../helpers/netns.js';
import { capture, sendFrame } from './capture.js';

const skip = rootSkipReason();
const testHandler = fileURLToPath(new URL('./fixtures/test-handler.js', import.meta.url));

describe('PacketWorker', { skip: skip ?? false }, () => {
  let lab: Lab;
  let nsA: string;
  let nsB: string;
  let nsC: string;
  let macA: string;
  let macB: string;
  let macC: string;
  let ringB: PacketRing;
  let ringC: PacketRing;
  const workers: PacketWorker[] = [];
  const start = async (opts: Parameters<typeof PacketWorker.start>[0]) => {
    const w = await PacketWorker.start(opts);
    workers.push(w);
    return w;
  };

  before(async () => {
    lab = createLab();
    nsA = await lab.addNs('a');
    nsB = await lab.addNs('b');
    nsC = await lab.addNs('c');
    await lab.addVeth({ ns: nsA, name: 'eth0' }, { ns: nsB, name: 'eth0' });
    await lab.addVeth({ ns: nsA, name: 'eth1' }, { ns: nsC, name: 'eth0' });
    macA = fmtMac(withNetns(nsA, () => interfaceInfo('eth0')).mac);
    macB = fmtMac(withNetns(nsB, () => interfaceInfo('eth0')).mac);
    macC = fmtMac(withNetns(nsC, () => interfaceInfo('eth0')).mac);
    const small = { rx: { frameSize: 2048, frameCount: 512 }, tx: { frameSize: 2048, frameCount: 512 } };
    ringB = withNetns(nsB, () => PacketRing.open({ ifname: 'eth0', ...small }));
    ringC = withNetns(nsC, () => PacketRing.open({ ifname: 'eth0', ...small }));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    ringB?.close();
    ringC?.close();
    await lab?.cleanup();
  });

  /** Sends `count` UDP frames from B to A's MAC, tagged `tag-<i>`, flushing every 64. */
  const sendFromB = (tag: string, count: number) => {
    for (let i = 0; i < count; i++) {
      const frame = ethernetFrame(
        macA,
        macB,
        0x0800,
        udpPacket('10.72.0.2', '10.72.0.1', 1000 + (i % 64), 7, Buffer.from(`${tag}-${i}`)),
      );
      assert.ok(sendFrame(ringB, frame));
      if (i % 64 === 63) ringB.txFlush();
    }
    ringB.txFlush();
  };
  const tagged = (tag: string, src: string) => (f: { data: Buffer }) => {
    const u = parseUdpFrame(f.data);
    return u !== null && u.srcMac === src && u.payload.toString().startsWith(`${tag}-`);
  };
  const settled = async (w: PacketWorker, key: 'rxFrames' | 'txFrames' | 'controlMessages', n: number) => {
    const deadline = Date.now() + 5000;
    while (w.snapshot()[key] < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };

  test('reflect: every datagram comes back with MACs swapped; counters match; stop() ends the thread', async () => {
    // Rings larger than the burst: B sends all 300 before the worker may get a CPU (two CPUs, tests in
    // parallel), and a 256-frame RX ring then dropped the rest (seen once: 256 of 300 back).
    const w = await start({
      rings: [
        {
          ifname: 'eth0',
          rx: { frameSize: 2048, frameCount: 512 },
          tx: { frameSize: 2048, frameCount: 512 },
        },
      ],
      handler: 'reflect',
      netns: nsA,
    });
    assert.equal(w.rings[0]!.mac, macA);
    assert.ok(existsSync(`/proc/self/task/${w.tid}`), 'the worker thread exists while running');
    const n = 300;
    const back = capture(ringB, tagged('r', macA), n);
    sendFromB('r', n);
    const frames = await back;
    assert.equal(frames.length, n);
    for (const f of frames) assert.equal(parseUdpFrame(f.data)!.dstMac, macB);
    await settled(w, 'txFrames', n);
    const c = w.snapshot();
    assert.equal(c.rxFrames, n);
    assert.equal(c.txFrames, n);
    assert.equal(c.handlerDrops, 0);
    assert.equal(c.handlerErrors, 0);
    assert.equal(c.txInvalid, 0);
    assert.ok(c.rxBytes >= n * 60);
    const stopped = await w.stop();
    assert.equal(stopped.graceful, true, 'left its loop by itself');
    assert.equal(w.running, false);
    assert.equal(existsSync(`/proc/self/task/${w.tid}`), false, 'the worker thread is gone');
    assert.equal(stopped.counters.rxFrames, n);
  });

  test('control messages reach the handler; drops and handler errors are counted, not fatal', async () => {
    const w = await start({
      rings: [{ ifname: 'eth0', rx: { frameSize: 2048 }, tx: { frameSize: 2048 } }],
      handler: testHandler,
      netns: nsA,
    });
    assert.deepEqual(await w.control({ mode: 'drop' }), { mode: 'drop', seen: 0 });
    sendFromB('d', 50);
    await settled(w, 'rxFrames', 50);
    assert.equal(w.snapshot().handlerDrops, 50);
    await w.control({ mode: 'throw' });
    sendFromB('t', 20);
    await settled(w, 'rxFrames', 70);
    assert.equal(w.snapshot().handlerErrors, 20);
    assert.deepEqual(await w.control({ mode: 'reflect' }), { mode: 'reflect', seen: 70 });
    const back = capture(ringB, tagged('ok', macA), 10);
    sendFromB('ok', 10);
    assert.equal((await back).length, 10);
    // Counters are published between batches: wait for the publication, not for a fixed time.
    await settled(w, 'controlMessages', 3);
    assert.equal(w.snapshot().controlMessages, 3);
    assert.equal((await w.stop()).graceful, true);
  });

  test('forward-to: frames from B leave A on the second interface unchanged', async () => {
    const w = await start({
      rings: [
        { ifname: 'eth0', rx: { frameSize: 2048 }, tx: { frameSize: 2048 } },
        { ifname: 'eth1', rx: { frameSize: 2048 }, tx: { frameSize: 2048 } },
      ],
      handler: 'forward-to',
      netns: nsA,
    });
    const n = 200;
    const out = capture(ringC, tagged('f', macB), n);
    sendFromB('f', n);
    const frames = await out;
    assert.equal(frames.length, n);
    assert.equal(parseUdpFrame(frames[0]!.data)!.dstMac, macA, 'unchanged: still addressed to A');
    await settled(w, 'txFrames', n);
    assert.equal(w.snapshot().txFrames, n);
    assert.notEqual(macC, macA);
    assert.equal(frames[0]!.pktType, PacketType.OTHERHOST, 'C sees a frame addressed to someone else');
    assert.equal((await w.stop()).graceful, true);
  });

  test('start() reports bad configurations with stable codes', async () => {
    await assert.rejects(
      PacketWorker.start({ rings: [{ ifname: 'nope0' }], handler: 'reflect', netns: nsA }),
      {
        code: ErrorCodes.ENVIRONMENT,
      },
    );
    await assert.rejects(
      PacketWorker.start({ rings: [{ ifname: 'eth0' }], handler: 'forward-to', netns: nsA }),
      {
        code: ErrorCodes.INVALID_ARGUMENT,
      },
    );
    await assert.rejects(PacketWorker.start({ rings: [{ ifname: 'eth0' }], handler: 'relative/path.js' }), {
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    await assert.rejects(
      PacketWorker.start({ rings: [{ ifname: 'eth0' }], handler: '/nonexistent/handler.js', netns: nsA }),
      {
        code: ErrorCodes.INVALID_ARGUMENT,
      },
    );
    await assert.rejects(
      PacketWorker.start({ rings: [{ ifname: 'eth0' }], handler: 'reflect', netns: 'tl-no-such-ns' }),
      {
        code: ErrorCodes.ENVIRONMENT,
      },
    );
  });
});
