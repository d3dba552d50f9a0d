import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VnetFlag, VnetGso } from '../../../src/dataplane/packet/constants.js';
import {
  readVnet,
  TxProblem,
  txFrameProblem,
  VnetHeader,
  writeVnet,
} from '../../../src/dataplane/packet/vnet.js';

const vnet = (fields: Partial<VnetHeader>) => Object.assign(new VnetHeader(), fields);

test('a vnet header round-trips through its 10 little-endian bytes', () => {
  const buf = new Uint8Array(12);
  writeVnet(
    buf,
    2,
    vnet({ vnetFlags: 1, gsoType: 1, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16 }),
  );
  assert.deepEqual([...buf.subarray(2)], [1, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0]);
  const back = readVnet(buf, 2, new VnetHeader());
  assert.deepEqual(
    { ...back },
    { vnetFlags: 1, gsoType: 1, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16 },
  );
  writeVnet(buf, 2, null);
  assert.deepEqual([...buf.subarray(2)], new Array(10).fill(0));
});

test('grow() moves the checksum start and header length by an encapsulation header', () => {
  const v = vnet({
    vnetFlags: VnetFlag.NEEDS_CSUM,
    gsoType: VnetGso.TCPV4,
    hdrLen: 66,
    gsoSize: 1448,
    csumStart: 34,
    csumOffset: 16,
  });
  v.grow(20);
  assert.equal(v.csumStart, 54);
  assert.equal(v.hdrLen, 86);
  assert.equal(vnet({}).grow(20).csumStart, 0, 'nothing to move without NEEDS_CSUM');
});

test('txFrameProblem mirrors the kernel TX checks', () => {
  const mtu = 1500;
  const cap = 2006;
  assert.equal(txFrameProblem(60, mtu, cap, 0x0800, null), TxProblem.NONE);
  assert.equal(txFrameProblem(13, mtu, cap, 0x0800, null), TxProblem.TOO_SHORT);
  assert.equal(txFrameProblem(1514, mtu, cap, 0x0800, null), TxProblem.NONE);
  assert.equal(txFrameProblem(1515, mtu, cap, 0x0800, null), TxProblem.OVERSIZE);
  assert.equal(
    txFrameProblem(1518, mtu, cap, 0x8100, null),
    TxProblem.NONE,
    '802.1Q frames may carry 4 more bytes',
  );
  assert.equal(txFrameProblem(3000, mtu, cap, 0x0800, null), TxProblem.TOO_LONG_FOR_SLOT);
  const gso = vnet({
    vnetFlags: VnetFlag.NEEDS_CSUM,
    gsoType: VnetGso.TCPV4,
    hdrLen: 66,
    gsoSize: 1448,
    csumStart: 34,
    csumOffset: 16,
  });
  assert.equal(txFrameProblem(1900, mtu, cap, 0x0800, gso), TxProblem.NONE, 'GSO frames are not MTU-bound');
  assert.equal(txFrameProblem(1900, mtu, cap, 0x0800, vnet({ ...gso, gsoSize: 0 })), TxProblem.BAD_GSO);
  assert.equal(txFrameProblem(1900, mtu, cap, 0x0800, vnet({ ...gso, gsoType: 9 })), TxProblem.BAD_GSO);
  assert.equal(txFrameProblem(1900, mtu, cap, 0x0800, vnet({ ...gso, csumOffset: 6 })), TxProblem.BAD_GSO);
  assert.equal(txFrameProblem(1900, mtu, cap, 0x0800, vnet({ ...gso, vnetFlags: 0 })), TxProblem.BAD_GSO);
  const partial = vnet({ vnetFlags: VnetFlag.NEEDS_CSUM, csumStart: 34, csumOffset: 6 });
  assert.equal(txFrameProblem(60, mtu, cap, 0x0800, partial), TxProblem.NONE);
  assert.equal(
    txFrameProblem(40, mtu, cap, 0x0800, partial),
    TxProblem.BAD_CSUM,
    'checksum field beyond the frame',
  );
  assert.equal(txFrameProblem(60, mtu, cap, 0x0800, vnet({ hdrLen: 61 })), TxProblem.BAD_CSUM);
  assert.equal(txFrameProblem(1515, mtu, cap, 0x0800, partial), TxProblem.OVERSIZE, 'no GSO: MTU applies');
});
