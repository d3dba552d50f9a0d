/**
 * setTcp4Tuple (one checksum update per header for a whole address/port rewrite) must write exactly the
 * bytes of setAddr + setPort field by field: same checksums bit for bit, edge values (0x0000 / 0xFFFF
 * checksums, fields that do not change, a port going 0xFFFF -> 0) included.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { L4Sum, setAddr, setPort, setTcp4Tuple } from '../../../src/engine/forward/rewrite.js';
import { rd32 } from '../../../src/engine/pipeline/words.js';
import { seededRandom } from '../helpers.js';

const L3 = 6;
const L4 = L3 + 20;

test('setTcp4Tuple equals setAddr + setPort field by field', () => {
  const rnd = seededRandom(11);
  const word = () => Math.floor(rnd() * 0x1_0000_0000) | 0;
  const port = () => [0, 0xffff, 1, Math.floor(rnd() * 0x10000)][Math.floor(rnd() * 4)]!;
  for (let i = 0; i < 20000; i++) {
    const a = new Uint8Array(L4 + 40);
    for (let k = 0; k < a.length; k++) a[k] = Math.floor(rnd() * 256);
    const edge = Math.floor(rnd() * 4);
    if (edge === 1) a[L3 + 10] = a[L3 + 11] = a[L4 + 16] = a[L4 + 17] = 0;
    if (edge === 2) a[L3 + 10] = a[L3 + 11] = a[L4 + 16] = a[L4 + 17] = 0xff;
    const b = a.slice();
    const keep = Math.floor(rnd() * 16); // which of the four fields stay as they are
    const src = keep & 1 ? rd32(a, L3 + 12) : word();
    const dst = keep & 2 ? rd32(a, L3 + 16) : word();
    const sp = keep & 4 ? (a[L4]! << 8) | a[L4 + 1]! : port();
    const dp = keep & 8 ? (a[L4 + 2]! << 8) | a[L4 + 3]! : port();
    setTcp4Tuple(a, L3, L4, src, dst, sp, dp);
    const at = L4 + 16;
    setAddr(b, L3, 4, false, Int32Array.of(src), 0, at, L4Sum.TCP, false);
    setAddr(b, L3, 4, true, Int32Array.of(dst), 0, at, L4Sum.TCP, false);
    setPort(b, L4, sp, at, L4Sum.TCP, false);
    setPort(b, L4 + 2, dp, at, L4Sum.TCP, false);
    assert.deepEqual(a, b, `case ${i}`);
  }
});
