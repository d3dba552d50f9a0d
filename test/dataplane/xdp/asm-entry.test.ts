/**
 * The pure parts of the XDP fast path, without a kernel: instruction encodings (checked against the
 * instruction-set document's layouts), label resolution, and the entry builder's refusals and deltas.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TS_OPTIONS, writeTcpFrame } from '../../../bench/pipeline/frames.js';
import { FP, Program, Size } from '../../../src/dataplane/xdp/asm.js';
import { applyDelta } from '../../../src/dataplane/xdp/entry-bytes.js';
import { DEC_TTL, KEY, REWRITE, VAL } from '../../../src/dataplane/xdp/fastpath-prog.js';
import { NotOffloadable, offloadEntry } from '../../../src/dataplane/xdp/offload-entry.js';
import { toHex } from '../../engine/pipeline/harness.js';

test('eBPF encodings: opcode, registers, offset and immediate as the kernel reads them', () => {
  const p = new Program()
    .mov(0, 2) // BPF_ALU64|BPF_MOV|BPF_K = 0xb7
    .load(Size.W, 2, 1, 16) // BPF_LDX|BPF_MEM|BPF_W = 0x61, src 1 dst 2
    .store(Size.H, FP, -4, 3) // BPF_STX|BPF_MEM|BPF_H = 0x6b
    .toBe(4, 16) // BPF_ALU|BPF_END|BPF_TO_BE = 0xdc
    .loadMapFd(1, 7) // 0x18 with src = BPF_PSEUDO_MAP_FD, then a zero slot
    .atomicAdd(Size.DW, 7, 40, 1) // BPF_STX|BPF_ATOMIC|BPF_DW = 0xdb, imm BPF_ADD
    .call(23) // 0x85
    .exit(); // 0x95
  assert.equal(
    toHex(p.bytes()),
    [
      'b700000002000000',
      '6112100000000000',
      '6b3afcff00000000',
      'dc04000010000000',
      '1811000007000000',
      '0000000000000000',
      'db17280000000000',
      '8500000017000000',
      '9500000000000000',
    ].join(''),
  );
});

test('eBPF jumps resolve to their labels, forwards and backwards; an unknown label is an error', () => {
  const p = new Program().label('top').jmp('jeq', 1, 0, 'out').goto('top').label('out').exit();
  const b = p.bytes();
  // jeq r1, 0, +1 (0x15); ja -2 (0x05); exit
  assert.equal(toHex(b), '1501010000000000' + '0500feff00000000' + '9500000000000000');
  assert.throws(() => new Program().goto('nowhere').bytes(), /undefined label nowhere/);
  assert.throws(() => new Program().label('a').label('a'), /defined twice/);
});

test('the checksum update is RFC 1624 eqn. 3, with a zero UDP result sent as 0xFFFF', () => {
  // RFC 1624 §4 example: HC = 0xDD2F, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000... as eqn. 3 gives it.
  assert.equal(applyDelta(0xdd2f, (~0x5555 & 0xffff) + 0x3285, false), 0x0000);
  assert.equal(applyDelta(0xdd2f, (~0x5555 & 0xffff) + 0x3285, true), 0xffff);
  assert.equal(applyDelta(0x1234, 0, false), 0x1234);
});

const D0 = 0x0200_0000_0d00;
const GW = 0x0200_0000_0ffe;

function frame(o: { ttl?: number; flags?: number; payload?: number; src?: number } = {}): Uint8Array {
  const f = new Uint8Array(256);
  const len = writeTcpFrame(f, 0, {
    srcMac: GW,
    dstMac: D0,
    src: o.src ?? 0xc0000201,
    dst: 0xc6336414,
    sport: 40000,
    dport: 80,
    seq: 1,
    ack: 1,
    flags: o.flags ?? 0x10,
    payload: o.payload ?? 20,
    options: TS_OPTIONS,
  });
  if (o.ttl !== undefined) f[22] = o.ttl;
  return f.slice(0, len);
}

test('offloadEntry: a DR-like output (MACs, TTL - 1) gives a MAC-only entry with the TTL delta', () => {
  const inp = frame();
  const out = inp.slice();
  out.set([2, 0, 0, 0, 0x0a, 2, 2, 0, 0, 0, 0x0d, 0], 0);
  out[22] = inp[22]! - 1;
  const hc = applyDelta((inp[24]! << 8) | inp[25]!, 0xfeff, false);
  out[24] = hc >>> 8;
  out[25] = hc & 0xff;
  const key = new Uint8Array(KEY.LEN);
  const value = new Uint8Array(VAL.LEN);
  assert.equal(offloadEntry(inp, 0, inp.length, out, 0, out.length, 9, 1500, 0, key, value), 0);
  assert.equal(value[VAL.FLAGS], DEC_TTL);
  assert.equal(value[VAL.FLAGS]! & REWRITE, 0);
  assert.equal(
    toHex(key),
    toHex(Uint8Array.of(0xc0, 0, 2, 1, 0xc6, 0x33, 0x64, 0x14, 0x9c, 0x40, 0, 80, 6, 0, 0, 0)),
  );
  assert.equal(value[VAL.IFINDEX], 9);
  assert.equal(toHex(value.subarray(VAL.DMAC, VAL.DMAC + 12)), toHex(out.subarray(0, 12)));
});

test('offloadEntry refuses what the program would not reproduce', () => {
  const key = new Uint8Array(KEY.LEN);
  const value = new Uint8Array(VAL.LEN);
  const entry = (inp: Uint8Array, out: Uint8Array) =>
    offloadEntry(inp, 0, inp.length, out, 0, out.length, 1, 1500, 0, key, value);
  const base = frame();
  const changed = (i: number, v: number) => {
    const o = base.slice();
    o[i] = v;
    return o;
  };
  assert.equal(entry(frame({ flags: 0x02 }), frame({ flags: 0x02 })), NotOffloadable.TCP_CONTROL);
  assert.equal(entry(frame({ flags: 0x11 }), frame({ flags: 0x11 })), NotOffloadable.TCP_CONTROL);
  assert.equal(entry(base, frame({ payload: 28 })), NotOffloadable.LENGTH_CHANGED, 'TOA / PROXY insertion');
  assert.equal(entry(base, changed(40, base[40]! ^ 1)), NotOffloadable.HEADER_CHANGED, 'sequence translated');
  assert.equal(entry(base, changed(15, 0x10)), NotOffloadable.HEADER_CHANGED, 'TOS changed');
  assert.equal(entry(base, changed(base.length - 1, 0)), NotOffloadable.PAYLOAD_CHANGED);
  assert.equal(entry(base, changed(22, base[22]! - 2)), NotOffloadable.TTL_CHANGED);
  assert.equal(entry(base, changed(25, base[25]! ^ 1)), NotOffloadable.CHECKSUM_MISMATCH);
  assert.equal(entry(changed(14, 0x46), changed(14, 0x46)), NotOffloadable.IP_OPTIONS_OR_FRAGMENT);
  assert.equal(entry(changed(23, 47), changed(23, 47)), NotOffloadable.NOT_TCP_OR_UDP);
  const cut = base.subarray(0, base.length - 1);
  assert.equal(entry(cut, cut), NotOffloadable.LENGTH_CHANGED, 'IP total length beyond the frame');
  assert.equal(entry(base.subarray(0, 40), base.subarray(0, 40)), NotOffloadable.NOT_IPV4, 'no room for L4');
  assert.equal(entry(changed(12, 0x86), changed(12, 0x86)), NotOffloadable.NOT_IPV4);
  // Forwarded unchanged (TTL kept: decrementTtl off): an entry that rewrites nothing.
  assert.equal(entry(base, base), 0);
  assert.equal(value[VAL.FLAGS], 0);
});
