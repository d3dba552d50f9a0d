import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, type Row } from './harness.js';

interface Case {
  description: string;
  rows: Row[];
  order: 'list' | 'added';
  attach?: 'before' | 'after';
  expected: string;
}

// Expected sequences derived by hand from ip_vs_rr.c / ip_vs_wrr.c as ipvs.md §1 describes them.
const cases: Array<Case & { scheduler: 'rr' | 'wrr' }> = [
  {
    scheduler: 'rr',
    description: 'rr cycles in list order',
    rows: [
      { name: 'A', weight: 1 },
      { name: 'B', weight: 5 },
      { name: 'C', weight: 2 },
    ],
    order: 'list',
    expected: 'A B C A B C',
  },
  {
    scheduler: 'rr',
    description: 'rr: dests added A, B, C are listed C, B, A',
    rows: [
      { name: 'A', weight: 1 },
      { name: 'B', weight: 1 },
      { name: 'C', weight: 1 },
    ],
    order: 'added',
    expected: 'C B A C B A',
  },
  {
    scheduler: 'rr',
    description: 'rr skips weight 0 and overloaded dests',
    rows: [
      { name: 'A', weight: 1 },
      { name: 'B', weight: 0 },
      { name: 'C', weight: 1, overloaded: true },
      { name: 'D', weight: 1 },
    ],
    order: 'list',
    expected: 'A D A D',
  },
  // ipvs.md's examples start the cycle at cw = mw, i.e. the scheduler initialised on the full list.
  {
    scheduler: 'wrr',
    description: 'wrr A4 B3 C2 in list order, scheduler set on the full list (ipvs.md)',
    rows: [
      { name: 'A', weight: 4 },
      { name: 'B', weight: 3 },
      { name: 'C', weight: 2 },
    ],
    order: 'list',
    attach: 'after',
    expected: 'A A B A B C A B C A A B A B C A B C',
  },
  {
    scheduler: 'wrr',
    description: 'wrr A4 B3 C2 added in that order: list C B A (ipvs.md)',
    rows: [
      { name: 'A', weight: 4 },
      { name: 'B', weight: 3 },
      { name: 'C', weight: 2 },
    ],
    order: 'added',
    attach: 'after',
    expected: 'A B A C B A C B A',
  },
  {
    scheduler: 'wrr',
    description: 'wrr A4 B2 C6: di = 2, mw = 5 (ipvs.md)',
    rows: [
      { name: 'A', weight: 4 },
      { name: 'B', weight: 2 },
      { name: 'C', weight: 6 },
    ],
    order: 'list',
    attach: 'after',
    expected: 'C A C A B C C A C A B C',
  },
  // Dests added one by one (ipvsadm -A, then -a per dest): each add runs ip_vs_wrr_dest_changed, so the
  // first cycle starts at the cw left by the first add, and only the phase differs.
  {
    scheduler: 'wrr',
    description: 'wrr A4 B3 C2 added C, B, A: C alone gives di 2, mw = cw = 1, kept by later adds',
    rows: [
      { name: 'A', weight: 4 },
      { name: 'B', weight: 3 },
      { name: 'C', weight: 2 },
    ],
    order: 'list',
    expected: 'A B C A A B A B C A B C A A B A B C',
  },
  {
    scheduler: 'wrr',
    description: 'wrr A4 B2 C6 added C, B, A: cw = 1 survives the rounding (1 / 2) * 2 + 1',
    rows: [
      { name: 'A', weight: 4 },
      { name: 'B', weight: 2 },
      { name: 'C', weight: 6 },
    ],
    order: 'list',
    expected: 'A B C C A C A B C C A C',
  },
  {
    scheduler: 'wrr',
    description: 'wrr never picks weight 0; overloaded dests are skipped',
    rows: [
      { name: 'A', weight: 2 },
      { name: 'Z', weight: 0 },
      { name: 'O', weight: 9, overloaded: true },
      { name: 'B', weight: 1 },
    ],
    order: 'list',
    attach: 'after',
    // mw = 9 (weights of overloaded dests still count): cw 9..3 find nothing, cw 2: A, cw 1: A B.
    expected: 'A A B A A B',
  },
];

for (const c of cases) {
  test(c.description, () => {
    const b = build(c.scheduler, c.rows, { order: c.order, attach: c.attach ?? 'before' });
    const want = c.expected.split(' ');
    assert.deepEqual(b.picks(want.length), want);
  });
}

for (const s of ['rr', 'wrr'] as const) {
  test(`${s}: empty list, all quiesced or all overloaded -> no dest`, () => {
    assert.equal(build(s, []).pick(), '-');
    assert.deepEqual(
      build(s, [
        { name: 'A', weight: 0 },
        { name: 'B', weight: 0 },
      ]).picks(3),
      ['-', '-', '-'],
    );
    const b = build(s, [
      { name: 'A', weight: 3, overloaded: true },
      { name: 'B', weight: 1, overloaded: true },
    ]);
    assert.deepEqual(b.picks(3), ['-', '-', '-']);
    b.set('B', { overloaded: false });
    assert.deepEqual(b.picks(2), ['B', 'B']);
  });
}

test('rr: deleting the dest under the pointer moves the pointer to its predecessor', () => {
  const b = build('rr', [
    { name: 'A', weight: 1 },
    { name: 'B', weight: 1 },
    { name: 'C', weight: 1 },
  ]);
  assert.deepEqual(b.picks(2), ['A', 'B']);
  b.svc.removeDest(b.id.B!);
  assert.deepEqual(b.picks(3), ['C', 'A', 'C']);
});

test('rr: deleting a dest before the pointer keeps the pointer on its dest', () => {
  const b = build('rr', [
    { name: 'A', weight: 1 },
    { name: 'B', weight: 1 },
    { name: 'C', weight: 1 },
  ]);
  assert.deepEqual(b.picks(2), ['A', 'B']);
  b.svc.removeDest(b.id.A!);
  assert.deepEqual(b.picks(3), ['C', 'B', 'C']);
});

test('rr: deleting the head while the pointer is on it restarts from the new head', () => {
  const b = build('rr', [
    { name: 'A', weight: 1 },
    { name: 'B', weight: 1 },
    { name: 'C', weight: 1 },
  ]);
  assert.deepEqual(b.picks(1), ['A']);
  b.svc.removeDest(b.id.A!);
  assert.deepEqual(b.picks(3), ['B', 'C', 'B']);
});

test('rr: a dest added at the head does not move the pointer off its dest', () => {
  const b = build('rr', [
    { name: 'A', weight: 1 },
    { name: 'B', weight: 1 },
  ]);
  assert.deepEqual(b.picks(1), ['A']);
  b.svc.addDest({ address: b.table.address(b.id.A!), port: 81, weight: 1 }); // listed first: N, A, B
  assert.deepEqual(
    b.picks(3).map((x) => (x.startsWith('#') ? 'N' : x)),
    ['B', 'N', 'A'],
  );
});

test('wrr: a weight change resets to the head and keeps cw (di = 1)', () => {
  const b = build(
    'wrr',
    [
      { name: 'A', weight: 4 },
      { name: 'B', weight: 3 },
      { name: 'C', weight: 2 },
    ],
    {
      attach: 'after',
    },
  );
  assert.deepEqual(b.picks(4), ['A', 'A', 'B', 'A']); // now cw = 2, cl = A
  b.svc.editDest(b.id.C!, { address: b.table.address(b.id.C!), port: 80, weight: 4 });
  // cl = head, di = 1, mw = 4, cw stays 2: cw 2: A B C, cw 1: A B C, cw 4: A C, cw 3: A B C
  assert.deepEqual(b.picks(11), 'A B C A B C A C A B C'.split(' '));
});

test('wrr: a change making di > 1 rounds cw to (cw / di) * di + 1', () => {
  const b = build(
    'wrr',
    [
      { name: 'A', weight: 6 },
      { name: 'B', weight: 3 },
    ],
    { attach: 'after' },
  );
  assert.deepEqual(b.picks(1), ['A']); // di = 3, mw = 4, cw = 4
  b.svc.editDest(b.id.B!, { address: b.table.address(b.id.B!), port: 80, weight: 4 });
  // di = 2, mw = 5, cw = (4 / 2) * 2 + 1 = 5: cw 5: A, cw 3: A B, cw 1: A B, then again
  assert.deepEqual(b.picks(10), 'A A B A B A A B A B'.split(' '));
});

test('wrr: a cw above the new mw drops to mw', () => {
  const b = build(
    'wrr',
    [
      { name: 'A', weight: 10 },
      { name: 'B', weight: 1 },
    ],
    { attach: 'after' },
  );
  assert.deepEqual(b.picks(1), ['A']); // cw = 10
  b.svc.editDest(b.id.A!, { address: b.table.address(b.id.A!), port: 80, weight: 2 });
  // mw = 2 < cw: cw = 2: A, cw 1: A B
  assert.deepEqual(b.picks(6), 'A A B A A B'.split(' '));
});

test('wrr: a dest added mid-cycle joins from the head', () => {
  const b = build(
    'wrr',
    [
      { name: 'A', weight: 2 },
      { name: 'B', weight: 1 },
    ],
    { attach: 'after' },
  );
  assert.deepEqual(b.picks(2), ['A', 'A']); // cw = 1 after the second pick, cl = A
  b.svc.addDest({ address: b.table.address(b.id.A!), port: 81, weight: 2 }); // list: N(2), A, B
  // cl = head, mw = 2, cw stays 1: N A B, then cw 2: N A, cw 1: N A B
  assert.deepEqual(
    b.picks(8).map((x) => (x.startsWith('#') ? 'N' : x)),
    'N A B N A N A B'.split(' '),
  );
});

test('wrr: the one usable dest is found whatever the position and cw (last-pass rule)', () => {
  for (let warm = 0; warm < 7; warm++) {
    const b = build(
      'wrr',
      [
        { name: 'A', weight: 4 },
        { name: 'B', weight: 1 },
        { name: 'C', weight: 2 },
      ],
      {
        attach: 'after',
      },
    );
    b.picks(warm);
    b.set('A', { overloaded: true });
    b.set('C', { overloaded: true });
    assert.deepEqual(b.picks(4), ['B', 'B', 'B', 'B'], `after ${warm} picks`);
    b.set('B', { overloaded: true });
    assert.deepEqual(b.picks(2), ['-', '-'], `all overloaded after ${warm} picks`);
    b.set('C', { overloaded: false });
    assert.deepEqual(b.picks(2), ['C', 'C']);
  }
});
