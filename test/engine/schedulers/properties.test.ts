import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SCHEDULER_NAMES } from '../../../src/engine/schedulers/names.js';
import { registeredSchedulers } from '../../../src/engine/schedulers/registry.js';
import { build, flowKey, type Row, setFlowV4, testEnv } from './harness.js';

const rowsArb = (min: number, max: number, weight = fc.integer({ min: 1, max: 8 })) =>
  fc
    .array(weight, { minLength: min, maxLength: max })
    .map((ws) => ws.map((w, i): Row => ({ name: `D${i}`, weight: w })));

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

test('every IPVS scheduler name is registered', () => {
  assert.deepEqual([...registeredSchedulers()].sort(), [...SCHEDULER_NAMES].sort());
});

test('rr and wrr: any window of one cycle picks each dest exactly weight / gcd times (wrr), once (rr)', () => {
  fc.assert(
    fc.property(
      rowsArb(1, 6),
      fc.nat({ max: 30 }),
      fc.constantFrom('before', 'after'),
      (rows, warm, attach) => {
        for (const s of ['rr', 'wrr'] as const) {
          const b = build(s, rows, { attach });
          b.picks(warm);
          const g = rows.reduce((x, r) => gcd(x, r.weight), 0);
          const share = (r: Row) => (s === 'rr' ? 1 : r.weight / g);
          const cycle = rows.reduce((n, r) => n + share(r), 0);
          const seen: Record<string, number> = {};
          for (const p of b.picks(cycle * 3)) seen[p] = (seen[p] ?? 0) + 1;
          for (const r of rows) assert.equal(seen[r.name], share(r) * 3, `${s} ${r.name}`);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('wlc with counters updated: active connections follow weights within one connection per weight', () => {
  fc.assert(
    fc.property(
      rowsArb(1, 8, fc.integer({ min: 1, max: 50 })),
      fc.integer({ min: 1, max: 2000 }),
      (rows, n) => {
        const b = build('wlc', rows);
        for (let i = 0; i < n; i++) b.table.activeConns[b.svc.schedule(flowKey('198.51.100.1'), 0)]!++;
        const total = rows.reduce((s, r) => s + r.weight, 0);
        for (const r of rows) {
          const a = b.table.activeConns[b.id[r.name]!]!;
          // greedy least-ratio: (a_i - 1) / w_i <= a_j / w_j for all j, so a_i stays within w_i of n w_i / W
          assert.ok(Math.abs(a - (n * r.weight) / total) <= r.weight, `${r.name}: ${a} of ${n}`);
        }
      },
    ),
    { numRuns: 40 },
  );
});

for (const s of ['sh', 'mh'] as const) {
  test(`${s}: random clients spread by weight`, () => {
    fc.assert(
      fc.property(rowsArb(2, 5, fc.integer({ min: 1, max: 5 })), fc.integer(), (rows, seed) => {
        const b = build(s, rows, { options: { mhTableSize: 4093 } });
        const env = testEnv(seed);
        const f = flowKey('0.0.0.0');
        const seen: Record<string, number> = {};
        const n = 20_000;
        for (let i = 0; i < n; i++) {
          const p = b.pick(setFlowV4(f, env.random() * 2 ** 32));
          seen[p] = (seen[p] ?? 0) + 1;
        }
        const total = rows.reduce((x, r) => x + r.weight, 0);
        // Sampling error is < 0.02 at 5 sigma; sh adds up to w/256 from the last, partial fill cycle.
        for (const r of rows) {
          const share = (seen[r.name] ?? 0) / n;
          assert.ok(Math.abs(share - r.weight / total) < 0.05, `${r.name} w${r.weight}: ${share}`);
        }
      }),
      { numRuns: 8 },
    );
  });
}

const flagsArb = fc.array(
  fc.record({ weight: fc.integer({ min: 0, max: 4 }), overloaded: fc.boolean(), active: fc.nat({ max: 6 }) }),
  { minLength: 0, maxLength: 7 },
);

test('no scheduler picks a quiesced dest, or (lblc cache hits aside) an overloaded one', () => {
  fc.assert(
    fc.property(flagsArb, fc.array(fc.nat(), { minLength: 1, maxLength: 20 }), (specs, clients) => {
      const rows = specs.map((x, i): Row => ({ name: `D${i}`, ...x }));
      for (const s of SCHEDULER_NAMES) {
        const b = build(s, rows, { env: testEnv(clients[0]), options: { mhTableSize: 251, fallback: true } });
        const f = flowKey('0.0.0.0');
        for (const c of clients) {
          setFlowV4(f, c);
          f.daddr[0] = c; // lblc/lblcr/dh key on the destination address
          const d = b.svc.schedule(f, 0);
          if (d < 0) continue;
          assert.ok(b.table.weight[d]! > 0, `${s} picked quiesced ${b.name(d)}`);
          if (s !== 'lblc') assert.ok(!b.table.isOverloaded(d), `${s} picked overloaded ${b.name(d)}`);
        }
      }
    }),
    { numRuns: 60 },
  );
});

test('every scheduler returns -1 on an empty list and when every dest is quiesced', () => {
  for (const s of SCHEDULER_NAMES) {
    assert.equal(build(s, []).pick(), '-', s);
    assert.equal(
      build(s, [
        { name: 'A', weight: 0 },
        { name: 'B', weight: 0 },
      ]).pick(),
      '-',
      s,
    );
  }
});

test('fo picks the highest-weight eligible dest, the earliest of equals, and fails over in order', () => {
  fc.assert(
    fc.property(flagsArb, (specs) => {
      const rows = specs.map((x, i): Row => ({ name: `D${i}`, ...x }));
      const b = build('fo', rows);
      let want = '-';
      let best = 0;
      for (const r of rows) {
        if (!r.overloaded && r.weight > best) {
          best = r.weight;
          want = r.name;
        }
      }
      assert.equal(b.pick(), want);
      // fail over: overload the current pick, the next best takes over
      if (want !== '-') {
        b.set(want, { overloaded: true });
        const rest = rows.filter((r) => r.name !== want && !r.overloaded && r.weight > 0);
        const top = Math.max(0, ...rest.map((r) => r.weight));
        assert.equal(b.pick(), rest.find((r) => r.weight === top)?.name ?? '-');
      }
    }),
    { numRuns: 100 },
  );
});
