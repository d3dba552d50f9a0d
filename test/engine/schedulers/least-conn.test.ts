import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SchedulerName } from '../../../src/engine/schedulers/names.js';
import { build, type Row, testEnv } from './harness.js';

interface Case {
  scheduler: SchedulerName;
  description: string;
  /** Head first. */
  rows: Row[];
  expected: string;
}

// Expected picks worked out from the kernel rules (ipvs.md §0-§1): overhead = (active << 8) + inactive.
const cases: Case[] = [
  {
    scheduler: 'lc',
    description: 'lc: ties on overhead go to the earliest (ipvs.md: 256, 256, 300 -> A)',
    rows: [
      { name: 'A', weight: 1, active: 1, inact: 0 },
      { name: 'B', weight: 1, active: 0, inact: 256 },
      { name: 'C', weight: 1, active: 0, inact: 300 },
    ],
    expected: 'A',
  },
  {
    scheduler: 'lc',
    description: 'lc: weight only gates; quiesced and overloaded dests are skipped',
    rows: [
      { name: 'Q', weight: 0 },
      { name: 'O', weight: 1, overloaded: true },
      { name: 'A', weight: 1, active: 2 },
      { name: 'B', weight: 100, active: 3 },
    ],
    expected: 'A',
  },
  {
    scheduler: 'wlc',
    description: 'wlc: 778/1, 1282/2, 2048/3 -> B (ipvs.md)',
    rows: [
      { name: 'A', weight: 1, active: 3, inact: 10 },
      { name: 'B', weight: 2, active: 5, inact: 2 },
      { name: 'C', weight: 3, active: 8, inact: 0 },
    ],
    expected: 'B',
  },
  {
    scheduler: 'wlc',
    description: 'wlc: equal ratios keep the earlier dest',
    rows: [
      { name: 'A', weight: 1, active: 1 },
      { name: 'B', weight: 2, active: 2 },
    ],
    expected: 'A',
  },
  {
    scheduler: 'wlc',
    description: 'wlc: a weight-0 dest never wins, even idle, nor starts as least',
    rows: [
      { name: 'Z', weight: 0 },
      { name: 'A', weight: 1, active: 5 },
      { name: 'Y', weight: 0 },
      { name: 'B', weight: 1, active: 2 },
    ],
    expected: 'B',
  },
  {
    scheduler: 'wlc',
    description: 'wlc: 64-bit products beyond 2^53 compare exactly (differ by 1, equal as doubles)',
    rows: [
      // 1073741823 * 2147483645 - 1073741822 * 2147483647 = 1 > 0 -> switch to B
      { name: 'A', weight: 2147483647, active: 4194303, inact: 255 },
      { name: 'B', weight: 2147483645, active: 4194303, inact: 254 },
    ],
    expected: 'B',
  },
  {
    scheduler: 'wlc',
    description: 'wlc: ... and the mirror case (difference -1) keeps A',
    rows: [
      { name: 'A', weight: 2147483645, active: 4194303, inact: 254 },
      { name: 'B', weight: 2147483647, active: 4194303, inact: 255 },
    ],
    expected: 'A',
  },
  {
    scheduler: 'sed',
    description: 'sed: (active + 1) / weight: 1/1, 2/2, 4/5 -> C (ipvs.md)',
    rows: [
      { name: 'A', weight: 1, active: 0, inact: 50 },
      { name: 'B', weight: 2, active: 1 },
      { name: 'C', weight: 5, active: 3 },
    ],
    expected: 'C',
  },
  {
    scheduler: 'nq',
    description: 'nq: the first idle dest wins at once (ipvs.md)',
    rows: [
      { name: 'A', weight: 1, active: 0, inact: 50 },
      { name: 'B', weight: 2, active: 1 },
      { name: 'C', weight: 5, active: 3 },
    ],
    expected: 'A',
  },
  {
    scheduler: 'nq',
    description: 'nq: no idle dest -> sed rule',
    rows: [
      { name: 'A', weight: 1, active: 1 },
      { name: 'B', weight: 2, active: 1 },
      { name: 'C', weight: 5, active: 3 },
    ],
    expected: 'C',
  },
  {
    scheduler: 'nq',
    description: 'nq: an idle dest that is quiesced or overloaded does not count',
    rows: [
      { name: 'Q', weight: 0 },
      { name: 'O', weight: 3, overloaded: true },
      { name: 'A', weight: 1, active: 2 },
      { name: 'B', weight: 1, active: 1 },
    ],
    expected: 'B',
  },
  {
    scheduler: 'fo',
    description: 'fo: highest weight, first of equals',
    rows: [
      { name: 'A', weight: 1 },
      { name: 'B', weight: 3, active: 100 },
      { name: 'C', weight: 3 },
    ],
    expected: 'B',
  },
  {
    scheduler: 'fo',
    description: 'fo: an overloaded top dest fails over to the next weight',
    rows: [
      { name: 'A', weight: 1 },
      { name: 'B', weight: 3, overloaded: true },
      { name: 'C', weight: 2 },
    ],
    expected: 'C',
  },
  {
    scheduler: 'ovf',
    description: 'ovf: active == weight still eligible, active > weight overflows',
    rows: [
      { name: 'A', weight: 3, active: 3 },
      { name: 'B', weight: 5, active: 6 },
      { name: 'C', weight: 2, active: 0, inact: 1000 },
    ],
    expected: 'A',
  },
  {
    scheduler: 'ovf',
    description: 'ovf: inactive connections (UDP) never overflow a dest',
    rows: [
      { name: 'A', weight: 1, inact: 100000 },
      { name: 'B', weight: 1 },
    ],
    expected: 'A',
  },
];

for (const c of cases) {
  test(c.description, () => {
    assert.equal(build(c.scheduler, c.rows).pick(), c.expected);
  });
}

for (const s of ['lc', 'wlc', 'sed', 'nq', 'fo', 'ovf', 'twos'] as const) {
  test(`${s}: nothing eligible -> no dest`, () => {
    assert.equal(build(s, []).pick(), '-');
    assert.equal(build(s, [{ name: 'A', weight: 0 }]).pick(), '-');
    assert.equal(build(s, [{ name: 'A', weight: 2, overloaded: true }]).pick(), '-');
  });
}

test('ovf: every dest over its weight -> no dest', () => {
  assert.equal(build('ovf', [{ name: 'A', weight: 1, active: 2 }]).pick(), '-');
});

const twosRows: Row[] = [
  { name: 'A', weight: 1 },
  { name: 'O', weight: 50, overloaded: true },
  { name: 'B', weight: 2, active: 2 },
  { name: 'C', weight: 3, active: 1 },
];

test('twos: r in [0, W] walks eligible weights; r = 0..w1 all land on the first dest', () => {
  // Eligible A1 B2 C3: W = 6, draws in [0, 6]. r = 0, 1 -> A; 2, 3 -> B; 4, 5, 6 -> C.
  // Pairs with the second choice on an idle-er dest are decided by w2 * oh1 > w1 * oh2.
  const at = (r: number) => (r + 0.5) / 7;
  const pick = (r1: number, r2: number) => {
    const env = testEnv([at(r1), at(r2)]);
    const b = build('twos', twosRows, { env });
    const p = b.pick();
    assert.equal(env.draws, 2);
    return p;
  };
  assert.equal(pick(0, 0), 'A');
  assert.equal(pick(1, 4), 'A'); // A oh 0: 3 * 0 > 1 * 256 is false
  assert.equal(pick(2, 6), 'C'); // B oh 512, C oh 256: 3 * 512 > 2 * 256
  assert.equal(pick(3, 2), 'B');
  assert.equal(pick(5, 3), 'C'); // C oh 256, B oh 512: 2 * 256 > 3 * 512 is false
  assert.equal(pick(4, 1), 'A'); // 1 * 256 > 3 * 0
});

test('twos: the products are C int products (wrap past 2^31)', () => {
  // C (w 65536, oh 65536 = 256 active) is choice 1, idle D (w 65536) choice 2. Exact maths would
  // switch to D (2^32 > 0), but the kernel's int product 65536 * 65536 wraps to 0, so C stays.
  const env = testEnv([0.1, 0.9]);
  const b = build(
    'twos',
    [
      { name: 'C', weight: 65536, active: 256 },
      { name: 'D', weight: 65536 },
    ],
    { env },
  );
  assert.equal(b.pick(), 'C');
});
