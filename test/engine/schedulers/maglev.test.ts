import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIp } from '../../../src/engine/addr.js';
import {
  type MaglevDest,
  MH_KEY1,
  MH_KEY2,
  maglevTable,
  mhHash,
  mhTabBits,
} from '../../../src/engine/schedulers/maglev.js';

const ip = (s: string) => parseIp(s).words[0];
const counts = (t: Int32Array, n: number) => {
  const c = new Array<number>(n).fill(0);
  for (const x of t) if (x >= 0) c[x]!++;
  return c;
};

test('ipvs.md mh vectors: offsets/skips and slot counts with M = 4093', () => {
  const M = 4093;
  const dests: MaglevDest[] = [
    { fold: ip('10.0.0.1'), port: 80, weight: 1 },
    { fold: ip('10.0.0.2'), port: 80, weight: 1 },
    { fold: ip('10.0.0.3'), port: 80, weight: 2 },
  ];
  const expected = [
    [3167, 700],
    [1231, 3544],
    [1631, 3453],
  ];
  dests.forEach((d, i) => {
    assert.equal(mhHash(d.fold, d.port, 0, MH_KEY1) % M, expected[i]![0], `offset ${i}`);
    assert.equal((mhHash(d.fold, d.port, 0, MH_KEY2) % (M - 1)) + 1, expected[i]![1], `skip ${i}`);
  });
  const table = maglevTable(dests, M);
  assert.deepEqual(counts(table, 3), [1024, 1023, 2046]);
  // 192.168.1.10 -> H1 = 0xd5e959b6 -> slot 3323 -> A
  assert.equal(0xd5e959b6 % M, 3323);
  assert.equal(table[3323], 0);
});

test('TAB_BITS follows CONFIG_IP_VS_MH_TAB_INDEX / 2 for every kernel prime', () => {
  const primes = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];
  primes.forEach((p, i) => {
    assert.equal(mhTabBits(p), (i + 8) >> 1, String(p));
  });
  assert.equal(mhTabBits(65537), 8);
});

test('last_weight 100 and 1: rshift = fls(100) - 6 = 1, turns 50 and 1', () => {
  // With turns 50:1 the first dest claims 50 slots per round against 1, so about 50/51 of M.
  const M = 4093;
  const t = maglevTable(
    [
      { fold: ip('10.0.0.1'), port: 80, weight: 100 },
      { fold: ip('10.0.0.2'), port: 80, weight: 1 },
    ],
    M,
  );
  const [a, b] = counts(t, 2);
  // 4093 slots fill in rounds of 51 claims: 80 full rounds (4080), then 13 more for the first dest.
  assert.equal(b, 80);
  assert.equal(a, M - 80);
});

test('no positive weight leaves every slot empty; weight 0 dests get no slot', () => {
  assert.ok(maglevTable([{ fold: 1, port: 1, weight: 0 }], 251).every((x) => x === -1));
  assert.ok(maglevTable([], 251).every((x) => x === -1));
  const t = maglevTable(
    [
      { fold: 1, port: 1, weight: 0 },
      { fold: 2, port: 1, weight: 3 },
    ],
    251,
  );
  assert.deepEqual(counts(t, 2), [0, 251]);
});

test('a non-prime table size is refused', () => {
  assert.throws(() => maglevTable([], 4096), RangeError);
});

const destArb = fc.record({
  fold: fc.nat({ max: 0xffffffff }),
  port: fc.integer({ min: 1, max: 65535 }),
  weight: fc.integer({ min: 1, max: 20 }),
});
const uniqueDests = (min: number, max: number) =>
  // Distinct hash inputs: dests with equal (address + port) share one permutation, which is a
  // degenerate configuration rather than a property of the algorithm.
  fc.uniqueArray(destArb, { minLength: min, maxLength: max, selector: (d) => (d.fold + d.port) >>> 0 });

test('Maglev is deterministic: the same dests give the same table', () => {
  fc.assert(
    fc.property(uniqueDests(1, 12), (ds) => {
      assert.deepEqual(maglevTable(ds, 1021), maglevTable(ds, 1021));
    }),
    { numRuns: 30 },
  );
});

test('Maglev slot shares follow weights', () => {
  // Turns are weight/gcd (no shift below 2^TAB_BITS = 256 for M = 65521), and each round hands out
  // exactly sum(turns) slots, so shares are exact up to the last, partial round: |slots - M*w/W| < max w.
  const M = 65521;
  fc.assert(
    fc.property(uniqueDests(2, 12), (ds) => {
      const c = counts(maglevTable(ds, M), ds.length);
      const total = ds.reduce((s, d) => s + d.weight, 0);
      const maxW = Math.max(...ds.map((d) => d.weight));
      ds.forEach((d, i) => {
        assert.ok(Math.abs(c[i]! - (M * d.weight) / total) <= maxW, `dest ${i}: ${c[i]} slots`);
      });
    }),
    { numRuns: 20 },
  );
});

test('removing one of N dests moves few slots owned by the others', () => {
  // Maglev (NSDI'16 §3.4): removing a backend hands its own slots to others and disturbs only a small
  // share of the rest, shrinking as M/N grows. Measured for 10-1000 distinct dests at M = 65521
  // (M/N >= 65): 0.2-0.9% of the other dests' slots move. The bound 2% leaves room for unlucky sets
  // and still fails for any rebuild that reshuffles (a modulo table moves about (N-1)/N of them).
  // Sets where two dests draw the same skip are left out: their permutations are shifted copies of one
  // another, they claim slots in lockstep, and any rebuild reshuffles their share (4-9% moved with 10
  // dests, found by this property; IPVS's hash has the same collisions, one in 65520 per pair).
  const M = 65521;
  fc.assert(
    fc.property(
      uniqueDests(10, 300).map((ds) => ds.map((d) => ({ ...d, weight: 1 }))),
      fc.nat(),
      (ds, k) => {
        const skips = new Set(ds.map((d) => mhHash(d.fold, d.port, 0, MH_KEY2) % (M - 1)));
        fc.pre(skips.size === ds.length);
        const n = ds.length;
        const gone = k % n;
        const before = maglevTable(ds, M);
        const rest = ds.filter((_, i) => i !== gone);
        const after = maglevTable(rest, M);
        let kept = 0;
        let moved = 0;
        for (let s = 0; s < M; s++) {
          const owner = before[s]!;
          if (owner === gone) continue;
          kept++;
          const now = after[s]!;
          if (now !== (owner < gone ? owner : owner - 1)) moved++;
        }
        assert.ok(moved / kept < 0.02, `${moved}/${kept} slots moved (n = ${n})`);
      },
    ),
    { numRuns: 8 },
  );
});
