import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../../src/engine/addr.js';
import { isTslvsError } from '../../../src/errors.js';
import { type Built, build, flowKey, type Row } from './harness.js';

// ipvs.md §1 mh: A 10.0.0.1:80 w1, B 10.0.0.2:80 w1, C 10.0.0.3:80 w2, list A, B, C, M = 4093.
const ROWS: Row[] = [
  { name: 'A', addr: '10.0.0.1', weight: 1 },
  { name: 'B', addr: '10.0.0.2', weight: 1 },
  { name: 'C', addr: '10.0.0.3', weight: 2 },
];
const CLIENTS = Array.from({ length: 8 }, (_, i) => flowKey(`192.168.1.${10 + i}`, 40000));
const picks = (b: Built, flows = CLIENTS) => flows.map((f) => b.pick(f)).join(' ');
const edit = (b: Built, name: string, weight: number) =>
  b.svc.editDest(b.id[name]!, { address: b.table.address(b.id[name]!), port: 80, weight });

// Expected picks for clients 192.168.1.10 .. .17 from an independent implementation of ip_vs_mh.c
// (validated against the ipvs.md vectors), never from this code.
test('mh: picks for M = 4093 (ipvs.md: 192.168.1.10 -> A)', () => {
  const b = build('mh', ROWS, { options: { mhTableSize: 4093 } });
  assert.equal(b.pick(CLIENTS[0]), 'A');
  assert.equal(picks(b), 'A C C C C A A B');
});

test('mh: quiescing keeps the table; lookups on the quiesced dest fail, mh-fallback probes on', () => {
  const plain = build('mh', ROWS, { options: { mhTableSize: 4093 } });
  const fb = build('mh', ROWS, { options: { mhTableSize: 4093, fallback: true } });
  for (const b of [plain, fb]) edit(b, 'A', 0);
  assert.equal(picks(plain), '- C C C C - - B');
  assert.equal(picks(fb), 'C C C C C C B B');
  // overload acts like quiescing
  const ov = build('mh', ROWS, { options: { mhTableSize: 4093 } });
  ov.set('A', { overloaded: true });
  assert.equal(picks(ov), '- C C C C - - B');
});

test('mh: the table is rebuilt after edit, delete and add', () => {
  const b = build('mh', ROWS, { options: { mhTableSize: 4093, fallback: true } });
  edit(b, 'A', 0); // last_weight stays 1
  edit(b, 'C', 1);
  assert.equal(picks(b), 'C B C C B C B B');
  b.svc.removeDest(b.id.B!);
  assert.equal(picks(b), 'C C C C C C C C');
  const d = b.svc.addDest({ address: parseIp('10.0.0.4'), port: 80, weight: 3 }); // list D, A, C
  assert.equal(picks(b).replaceAll(b.name(d), 'D'), 'D D C D D D D D');
});

test('mh-port hashes the client port in; other protocols hash port 0', () => {
  const b = build('mh', ROWS, { options: { mhTableSize: 4093, port: true } });
  assert.equal(
    picks(
      b,
      CLIENTS.map((f) => flowKey(`192.168.1.${f.saddr[0]! & 255}`, 40000)),
    ),
    'C C C C A C C C',
  );
  assert.equal(
    picks(
      b,
      CLIENTS.map((f) => flowKey(`192.168.1.${f.saddr[0]! & 255}`, 40001)),
    ),
    'C C C A C C C B',
  );
  const icmp = CLIENTS.map((f) => flowKey(`192.168.1.${f.saddr[0]! & 255}`, 40001, '192.0.2.1', 1));
  assert.equal(picks(b, icmp), 'A C C C C A A B');
});

test('mh: IPv6 clients hash the XOR of their four words', () => {
  // 2001:db8::1 folds to 0x20010db9 -> B (independent computation)
  assert.equal(build('mh', ROWS, { options: { mhTableSize: 4093 } }).pick(flowKey('2001:db8::1')), 'B');
});

test('mh: all quiesced -> no dest even with fallback; empty list -> no dest', () => {
  const b = build('mh', ROWS, { options: { mhTableSize: 4093, fallback: true } });
  for (const n of ['A', 'B', 'C']) edit(b, n, 0);
  assert.equal(picks(b), '- - - - - - - -');
  assert.equal(build('mh', []).pick(), '-');
  assert.equal(build('mh', [], { options: { fallback: true } }).pick(), '-');
  // a dest added with weight 0 never had a weight: no slots at all
  assert.equal(build('mh', [{ name: 'Z', weight: 0 }], { options: { fallback: true } }).pick(), '-');
});

test('mh: quiescing one dest leaves every other client where it was', () => {
  const b = build('mh', ROWS, { options: { mhTableSize: 4093 } });
  const flows = Array.from({ length: 500 }, (_, i) => flowKey(`172.16.${i >> 8}.${i & 255}`));
  const before = flows.map((f) => b.pick(f));
  edit(b, 'B', 0);
  flows.forEach((f, i) => {
    assert.equal(b.pick(f), before[i] === 'B' ? '-' : before[i]);
  });
});

test('mh: the table size must be a prime', () => {
  for (const bad of [4096, 65536, 1, 0, -7, 1.5]) {
    assert.throws(
      () => build('mh', ROWS, { options: { mhTableSize: bad } }),
      (e) => isTslvsError(e, 'TSLVS_ERR_SCHEDULER'),
      String(bad),
    );
  }
  assert.equal(build('mh', ROWS).svc.schedulerOptions.mhTableSize, 65537);
});
