import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  defaultBlockSize,
  frameOffsets,
  GSO_FRAME_SIZE,
  resolveGeometry,
  tpacketReq,
} from '../../../src/dataplane/packet/ring-geometry.js';
import { ErrorCodes } from '../../../src/errors.js';

test('the default geometry holds a 64 KiB GSO frame behind the vnet header', () => {
  const g = resolveGeometry();
  assert.equal(g.frameSize, GSO_FRAME_SIZE);
  // mac offset with VNET_HDR is 76; the largest IPv4 GSO frame is 65535 + 14 bytes.
  assert.ok(g.frameSize >= 76 + 65535 + 14);
  assert.equal(g.frameSize % 16, 0);
  assert.equal(g.blockSize % 4096, 0);
  assert.ok(g.frameCount >= 256);
  assert.equal(g.frameCount, g.blockCount * Math.floor(g.blockSize / g.frameSize));
  assert.equal(g.bytes, g.blockSize * g.blockCount);
});

test('frame offsets follow floor(i/fpb)*block + (i mod fpb)*frame (reference example: frame 130 at 266240)', () => {
  const g = resolveGeometry({ frameSize: 2048, blockSize: 65536, frameCount: 256 });
  assert.equal(g.frameCount, 256);
  const off = frameOffsets(g);
  assert.equal(off[130], 4 * 65536 + 2 * 2048);
  assert.equal(off[130], 266240);
  // A base (the TX ring follows the RX ring in the mapping) shifts every offset.
  assert.equal(frameOffsets(g, 1000)[0], 1000);
});

test('frames that do not tile a block leave the tail of each block unused', () => {
  const g = resolveGeometry({ frameSize: 65632, blockSize: 262144, frameCount: 7 });
  assert.equal(g.frameCount, 9, 'rounded up to whole blocks of 3 frames');
  const off = frameOffsets(g);
  assert.equal(off[3], 262144);
  assert.equal(off[5], 262144 + 2 * 65632);
});

test('default blocks are powers of two holding about 16 frames', () => {
  assert.equal(defaultBlockSize(2048), 32768);
  assert.equal(defaultBlockSize(65632), 2 << 20);
  assert.equal(defaultBlockSize(256), 4096);
});

test('invalid geometries are TSLVS_ERR_INVALID_ARGUMENT naming the ring', () => {
  const bad = [
    { frameSize: 2050 },
    { frameSize: 64 },
    { frameSize: 2048, blockSize: 5000 },
    { frameSize: 8192, blockSize: 4096 },
    { frameCount: 0 },
    { frameCount: 1.5 },
    { frameSize: 65632, frameCount: 1 << 20 },
  ];
  for (const opts of bad) {
    assert.throws(
      () => resolveGeometry(opts, 'eth9 RX ring'),
      (err: { code?: string; message: string }) =>
        err.code === ErrorCodes.INVALID_ARGUMENT && err.message.includes('eth9 RX ring'),
      JSON.stringify(opts),
    );
  }
});

test('tpacket_req carries block size, block count, frame size, frame count', () => {
  const g = resolveGeometry({ frameSize: 2048, blockSize: 65536, frameCount: 64 });
  const req = tpacketReq(g);
  assert.deepEqual(
    [req.readUInt32LE(0), req.readUInt32LE(4), req.readUInt32LE(8), req.readUInt32LE(12)],
    [65536, 2, 2048, 64],
  );
});
