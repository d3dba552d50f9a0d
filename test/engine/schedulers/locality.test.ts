import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build, flowKey, type Row } from './harness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const AB: Row[] = [
  { name: 'A', weight: 1 },
  { name: 'B', weight: 1 },
];
const to = (dst: string) => flowKey('198.51.100.1', 1234, dst);

test('lblc: a destination address sticks to its first wlc pick', () => {
  const b = build('lblc', AB);
  assert.equal(b.pick(to('10.1.0.1')), 'A'); // wlc tie -> first
  b.set('A', { active: 1 });
  assert.equal(b.pick(to('10.1.0.2')), 'B'); // new address: wlc
  assert.equal(b.pick(to('10.1.0.1')), 'A'); // cached, although wlc now prefers B
  // A at active == weight is not overloaded in lblc's sense
  assert.equal(b.pick(to('10.1.0.1')), 'A');
});

test('lblc: overloaded in lblc sense (active > weight while another dest is under half) -> wlc again', () => {
  const b = build('lblc', [
    { name: 'A', weight: 2 },
    { name: 'B', weight: 2 },
  ]);
  assert.equal(b.pick(to('10.1.0.1')), 'A');
  b.set('A', { active: 3 });
  b.set('B', { active: 1 }); // 2 * 1 < 2 is false: nobody is under half
  assert.equal(b.pick(to('10.1.0.1')), 'A');
  b.set('B', { active: 0 }); // now B is under half
  assert.equal(b.pick(to('10.1.0.1')), 'B');
  b.set('B', { active: 5 }); // B cached now, A less loaded, but B is not overloaded: 5 > 2 yet nobody under half
  b.set('A', { active: 1 });
  assert.equal(b.pick(to('10.1.0.1')), 'B');
});

test('lblc: the OVERLOAD flag does not invalidate a cache hit; weight 0 and delete do', () => {
  const b = build('lblc', AB);
  assert.equal(b.pick(to('10.1.0.1')), 'A');
  b.set('A', { overloaded: true });
  assert.equal(b.pick(to('10.1.0.1')), 'A');
  b.svc.editDest(b.id.A!, { address: b.table.address(b.id.A!), port: 80, weight: 0 });
  assert.equal(b.pick(to('10.1.0.1')), 'B');
  b.svc.editDest(b.id.A!, { address: b.table.address(b.id.A!), port: 80, weight: 1 });
  b.set('A', { overloaded: false });
  assert.equal(b.pick(to('10.1.0.1')), 'B'); // the entry was replaced
  b.svc.removeDest(b.id.B!);
  assert.equal(b.pick(to('10.1.0.1')), 'A');
});

test('lblc: entries idle for lblc_expiration (24 h) go at the full check (every 30th, 60 s apart)', () => {
  const b = build('lblc', AB);
  const f = to('10.1.0.1');
  assert.equal(b.svc.schedule(f, 0) === b.id.A, true);
  b.set('A', { active: 1 }); // wlc would now pick B
  const idle = to('10.1.0.2');
  b.svc.schedule(idle, 0); // -> B, cached
  for (let t = 0; t < DAY - 30 * 60_000; t += 60_000) {
    b.svc.tick(t);
    if (t % HOUR === 0) b.svc.schedule(f, t); // keeps f's entry in use
  }
  assert.equal(b.name(b.svc.schedule(f, DAY - 30 * 60_000)), 'A');
  b.set('B', { active: 2 }); // wlc would now pick A for a new entry
  assert.equal(b.name(b.svc.schedule(idle, DAY - 60_000)), 'B'); // still cached (this refreshes it)
  // idle again for a day: the full check at or after lastuse + 24 h drops it
  for (let t = DAY; t <= 2 * DAY + HOUR; t += 60_000) {
    b.svc.tick(t);
    if (t % HOUR === 0) b.svc.schedule(f, t);
  }
  assert.equal(b.name(b.svc.schedule(idle, 2 * DAY + HOUR)), 'A');
  assert.equal(b.name(b.svc.schedule(f, 2 * DAY + HOUR)), 'A'); // the busy entry survived
});

test('lblc: the cache is bounded (16384 + 1 entries); an over-full table drops idle entries', () => {
  const b = build('lblc', AB);
  const f = flowKey('198.51.100.1', 1234, '10.0.0.0');
  const n = 16_385 + 100;
  for (let i = 0; i < n; i++) {
    f.daddr[0] = (0x0a000000 + i) >>> 0;
    assert.equal(b.svc.schedule(f, 0), b.id.A); // every new address: wlc -> A (counters untouched)
  }
  b.set('A', { active: 1 }); // wlc now -> B
  f.daddr[0] = 0x0a000000 + 5;
  assert.equal(b.svc.schedule(f, 1), b.id.A); // cached
  f.daddr[0] = 0x0a000000 + n - 1;
  assert.equal(b.svc.schedule(f, 1), b.id.B); // never cached: the table was full
  b.set('A', { active: 0 });
  assert.equal(b.svc.schedule(f, 2), b.id.A); // still not cached
  // GC: 16385 > 16384 entries, idle >= 6 min -> some go; then a new address is learnt again.
  b.svc.tick(0);
  b.svc.tick(7 * 60_000);
  b.set('A', { active: 1 });
  f.daddr[0] = 0x0b000000;
  assert.equal(b.svc.schedule(f, 7 * 60_000), b.id.B);
  b.set('A', { active: 0 });
  b.set('B', { active: 1 });
  assert.equal(b.svc.schedule(f, 7 * 60_000 + 1), b.id.B); // cached this time
});

test('lblcr: sets grow when the least loaded member is overloaded, and serve by wlc within the set', () => {
  const b = build('lblcr', AB);
  const x = to('10.2.0.1');
  assert.equal(b.name(b.svc.schedule(x, 0)), 'A'); // set {A}
  b.set('A', { active: 2 }); // A: 2 > 1 while B (0) is under half -> overloaded
  assert.equal(b.name(b.svc.schedule(x, 1000)), 'B'); // wlc -> B joins: {B, A}
  b.set('B', { active: 1 });
  assert.equal(b.name(b.svc.schedule(x, 2000)), 'B'); // min over {B 256, A 512}
  b.set('A', { active: 0 });
  assert.equal(b.name(b.svc.schedule(x, 3000)), 'A'); // min over {B 256, A 0}
  // an OVERLOAD-flagged member is skipped by the set's wlc
  b.set('A', { overloaded: true });
  assert.equal(b.name(b.svc.schedule(x, 4000)), 'B');
});

test('lblcr: a set untouched for lblcr_expiration sheds its most loaded member', () => {
  const b = build('lblcr', AB);
  const x = to('10.2.0.1');
  b.svc.schedule(x, 0);
  b.set('A', { active: 2 });
  b.svc.schedule(x, 1000); // {B, A}, lastmod 1000
  b.set('A', { active: 0 });
  b.set('B', { active: 1 });
  assert.equal(b.name(b.svc.schedule(x, 1000 + DAY)), 'A'); // not yet expired (needs now > lastmod + 24 h)
  assert.equal(b.name(b.svc.schedule(x, 1001 + DAY)), 'A'); // expired: B (most loaded) is shed
  b.set('A', { active: 1 });
  b.set('B', { active: 0 });
  // {A} only: A (1 <= 1) is not overloaded, so it serves although B is idle
  assert.equal(b.name(b.svc.schedule(x, 1002 + DAY)), 'A');
});

test('lblcr: a deleted dest leaves every set; an emptied set falls back to wlc', () => {
  const b = build('lblcr', AB);
  const x = to('10.2.0.1');
  assert.equal(b.name(b.svc.schedule(x, 0)), 'A');
  b.set('B', { active: 3 });
  b.svc.removeDest(b.id.A!);
  assert.equal(b.name(b.svc.schedule(x, 1)), 'B');
  assert.equal(build('lblcr', []).pick(x), '-');
  assert.equal(build('lblc', []).pick(x), '-');
});

test('lblcr: entries expire like lblc entries', () => {
  const b = build('lblcr', AB);
  const x = to('10.2.0.1');
  b.svc.schedule(x, 0); // {A}
  b.set('A', { active: 1 }); // wlc -> B from now on, but A (1 <= 1) is fine for the cached set
  assert.equal(b.name(b.svc.schedule(x, 1)), 'A');
  for (let t = 0; t <= DAY + HOUR; t += 60_000) b.svc.tick(t);
  assert.equal(b.name(b.svc.schedule(x, DAY + HOUR)), 'B'); // entry gone: wlc
});
