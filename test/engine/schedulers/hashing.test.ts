import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../../src/engine/addr.js';
import { isTslvsError } from '../../../src/errors.js';
import { build, flowKey, type Row } from './harness.js';

// Buckets below come from the kernel formulas worked by hand (and cross-checked with an independent
// script), never from this code: legacy = (key * 2654435761) & 255, so with 256 buckets only the last
// octet (plus port) matters: (octet * 177) mod 256; current = hash_32(key, 8) = (key * 0x61C88647) >> 24.
// List A w2, B w1, C w0 fills the buckets with the cycle A A B C, so bucket i holds 'AABC'[i % 4].
const AABC: Row[] = [
  { name: 'A', weight: 2 },
  { name: 'B', weight: 1 },
  { name: 'C', weight: 0 },
];

const shCases: Array<{
  client: string;
  port?: number;
  legacy: boolean;
  fallback?: boolean;
  usePort?: boolean;
  want: string;
}> = [
  // ipvs.md: 192.168.1.10 -> 10 * 177 mod 256 = 234 -> 234 mod 4 = 2 -> B
  { client: '192.168.1.10', legacy: true, want: 'B' },
  // ipvs.md: 10.1.2.3 -> 19 -> C (weight 0) -> none; with sh-fallback the probe starts at 38 -> B
  { client: '10.1.2.3', legacy: true, want: '-' },
  { client: '10.1.2.3', legacy: true, fallback: true, want: 'B' },
  // current kernels: hash_32 buckets 248 -> A, 2 -> B, 39 -> C (none; fallback probes 78 -> B), 108 -> A
  { client: '192.168.1.10', legacy: false, want: 'A' },
  { client: '10.1.2.3', legacy: false, want: 'B' },
  { client: '10.0.0.1', legacy: false, want: '-' },
  { client: '10.0.0.1', legacy: false, fallback: true, want: 'B' },
  { client: '172.16.5.77', legacy: false, want: 'A' },
  // IPv6 folds to the XOR of its words: 2001:db8::1 -> 0x20010db9 -> current 63 -> C, legacy 233 -> A
  { client: '2001:db8::1', legacy: false, want: '-' },
  { client: '2001:db8::1', legacy: true, want: 'A' },
  // sh-port: key = address + source port. Current 40000..40003 -> 156 A, 254 B, 96 A, 194 B.
  { client: '192.168.1.10', port: 40000, usePort: true, legacy: false, want: 'A' },
  { client: '192.168.1.10', port: 40001, usePort: true, legacy: false, want: 'B' },
  { client: '192.168.1.10', port: 40003, usePort: true, legacy: false, want: 'B' },
  // legacy: (10 + 40000) * 177 mod 256 = 42 -> B; 40001 -> 219 -> C
  { client: '192.168.1.10', port: 40000, usePort: true, legacy: true, want: 'B' },
  { client: '192.168.1.10', port: 40001, usePort: true, legacy: true, want: '-' },
  // without sh-port the port is ignored
  { client: '192.168.1.10', port: 40001, usePort: false, legacy: false, want: 'A' },
];

for (const c of shCases) {
  const what = `${c.client}${c.usePort ? `:${c.port}` : ''} ${c.legacy ? 'legacy' : 'hash_32'}`;
  test(`sh: ${what}${c.fallback ? ' with sh-fallback' : ''} -> ${c.want}`, () => {
    const b = build('sh', AABC, {
      options: { legacyHash: c.legacy, fallback: !!c.fallback, port: !!c.usePort },
    });
    assert.equal(b.pick(flowKey(c.client, c.port ?? 1234)), c.want);
  });
}

test('sh-port only reads the port of TCP, UDP and SCTP', () => {
  const b = build('sh', AABC, { options: { port: true } });
  // ICMP (1): port 0 -> bucket of the bare address (248 -> A) although 40001 alone would give B
  assert.equal(b.pick(flowKey('192.168.1.10', 40001, '192.0.2.1', 1)), 'A');
  assert.equal(b.pick(flowKey('192.168.1.10', 40001, '192.0.2.1', 17)), 'B');
  assert.equal(b.pick(flowKey('192.168.1.10', 40001, '192.0.2.1', 132)), 'B');
});

test('sh: the table is rebuilt on add, delete and weight change', () => {
  const b = build('sh', AABC, { options: { legacyHash: true } });
  const f = flowKey('192.168.1.10'); // bucket 234
  assert.equal(b.pick(f), 'B'); // A A B C: 234 mod 4 = 2
  b.svc.removeDest(b.id.C!);
  assert.equal(b.pick(f), 'A'); // A A B: 234 mod 3 = 0
  const d = b.svc.addDest({ address: parseIp('10.9.9.9'), port: 80, weight: 1 });
  assert.equal(b.name(b.svc.schedule(f, 0)), 'A'); // D A A B: 234 mod 4 = 2 -> A
  b.svc.editDest(b.id.A!, { address: b.table.address(b.id.A!), port: 80, weight: 1 });
  assert.equal(b.svc.schedule(f, 0), d); // D A B: 234 mod 3 = 0 -> D
});

test('sh: an overloaded home dest means no dest, unless sh-fallback', () => {
  const plain = build('sh', AABC);
  const fb = build('sh', AABC, { options: { fallback: true } });
  const f = flowKey('192.168.1.10'); // hash_32 bucket 248 -> A; fallback probes 240, 241, 242... -> A A B
  for (const b of [plain, fb]) b.set('A', { overloaded: true });
  assert.equal(plain.pick(f), '-');
  assert.equal(fb.pick(f), 'B');
});

test('sh: a weight-0 dest still takes one bucket per cycle, so it shifts the others', () => {
  // Legacy hash: the 256 last octets map one-to-one onto the 256 buckets (177 is odd), so counting
  // picks over them counts buckets: A3 B0 C1 -> cycle A A A B C (5) -> A 154, B 51 (never picked), C 51.
  const b = build(
    'sh',
    [
      { name: 'A', weight: 3 },
      { name: 'B', weight: 0 },
      { name: 'C', weight: 1 },
    ],
    {
      options: { legacyHash: true },
    },
  );
  const seen: Record<string, number> = {};
  const f = flowKey('10.0.0.0');
  for (let octet = 0; octet < 256; octet++) {
    f.saddr[0] = (0x0a000000 | octet) >>> 0;
    const p = b.pick(f);
    seen[p] = (seen[p] ?? 0) + 1;
  }
  assert.deepEqual(seen, { A: 154, '-': 51, C: 51 });
});

test('sh: table size from shTableBits (4 bits: 16 buckets), range checked', () => {
  // 192.168.1.10: hash_32(key, 4) = 15 -> 'AABC'[3] = C -> none; legacy: key * 2654435761 & 15 = 10 -> B
  assert.equal(build('sh', AABC, { options: { shTableBits: 4 } }).pick(flowKey('192.168.1.10')), '-');
  assert.equal(
    build('sh', AABC, { options: { shTableBits: 4, legacyHash: true } }).pick(flowKey('192.168.1.10')),
    'B',
  );
  for (const bad of [3, 21, 8.5]) {
    assert.throws(
      () => build('sh', AABC, { options: { shTableBits: bad } }),
      (e) => isTslvsError(e, 'TSLVS_ERR_SCHEDULER'),
    );
  }
});

test('sh: empty list -> no dest', () => {
  assert.equal(build('sh', []).pick(), '-');
  assert.equal(build('sh', [], { options: { fallback: true } }).pick(), '-');
});

test('dh: 256 buckets round-robin over the list, weights ignored, keyed by destination address', () => {
  const rows: Row[] = [
    { name: 'A', weight: 1 },
    { name: 'B', weight: 5 },
    { name: 'C', weight: 1 },
  ];
  const cur = build('dh', rows);
  const old = build('dh', rows, { options: { legacyHash: true } });
  const to = (dst: string, src = '203.0.113.9') => flowKey(src, 1234, dst);
  // current: hash_32 buckets 2, 248, 39 -> mod 3 -> C, C, A; legacy: buckets 19, 234 -> B, A
  assert.equal(cur.pick(to('10.1.2.3')), 'C');
  assert.equal(cur.pick(to('192.168.1.10')), 'C');
  assert.equal(cur.pick(to('10.0.0.1')), 'A');
  assert.equal(old.pick(to('10.1.2.3')), 'B');
  assert.equal(old.pick(to('192.168.1.10')), 'A');
  // the client address plays no part
  assert.equal(cur.pick(to('10.1.2.3', '198.51.100.200')), 'C');
});

test('dh: no fallback: a quiesced or overloaded bucket owner means no dest; delete rebuilds', () => {
  const b = build(
    'dh',
    [
      { name: 'A', weight: 1 },
      { name: 'B', weight: 0 },
      { name: 'C', weight: 1 },
    ],
    {
      options: { legacyHash: true },
    },
  );
  const f = flowKey('203.0.113.9', 1234, '10.1.2.3'); // bucket 19 -> 19 mod 3 = 1 -> B (weight 0)
  assert.equal(b.pick(f), '-');
  b.svc.removeDest(b.id.B!);
  assert.equal(b.pick(f), 'C'); // A C: 19 mod 2 = 1
  b.set('C', { overloaded: true });
  assert.equal(b.pick(f), '-');
  assert.equal(build('dh', []).pick(f), '-');
});
