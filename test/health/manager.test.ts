import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Checker, CheckResult, HealthTarget } from '../../src/health/checker.js';
import type { DesiredCheck } from '../../src/health/manager.js';
import { HealthManager, specEquals } from '../../src/health/manager.js';
import type { TransitionEvent } from '../../src/health/monitor.js';
import type { HealthCheckSpec, HttpSpec } from '../../src/health/spec.js';
import { FakeTimers } from '../../src/health/timers.js';
import { loopback } from './support.js';

const tcp: HealthCheckSpec = { kind: 'tcp', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 };
const http: HttpSpec = {
  kind: 'http',
  intervalMs: 1000,
  timeoutMs: 500,
  rise: 2,
  fall: 3,
  method: 'GET',
  path: '/health',
  expectStatus: [200, 204],
  tlsVerify: false,
};

/** Targets whose port is in `down` fail; everything else is up. Counts checks per port. */
function fakeFactory(down: Set<number>, checks: Map<number, number>) {
  return (): Checker => ({
    check: async (target: HealthTarget): Promise<CheckResult> => {
      checks.set(target.port, (checks.get(target.port) ?? 0) + 1);
      const ok = !down.has(target.port);
      return { ok, reason: ok ? 'fine' : 'refused', durationMs: 1 };
    },
  });
}

function setup() {
  const timers = new FakeTimers();
  const down = new Set<number>();
  const checks = new Map<number, number>();
  const events: [string, TransitionEvent][] = [];
  const manager = new HealthManager({
    timers,
    random: () => 0.5,
    createChecker: fakeFactory(down, checks),
    onTransition: (id, e) => events.push([id, e]),
  });
  return { timers, down, checks, events, manager };
}

/** Fresh objects every call: sync must compare by value, not identity. */
const desired = (): DesiredCheck[] => [
  { id: 'web/10.0.0.1:80', target: loopback(1), spec: { ...tcp } },
  { id: 'web/10.0.0.2:80', target: loopback(2), spec: { ...http, expectStatus: [200, 204] } },
];

test('manager: sync adds, then the same desired set again changes nothing', () => {
  const { manager } = setup();
  assert.deepEqual(manager.sync(desired()), {
    added: ['web/10.0.0.1:80', 'web/10.0.0.2:80'],
    removed: [],
    updated: [],
  });
  assert.deepEqual(manager.sync(desired()), { added: [], removed: [], updated: [] });
  assert.deepEqual(
    manager.all().map((e) => e.id),
    ['web/10.0.0.1:80', 'web/10.0.0.2:80'],
  );
  manager.stop();
});

test('manager: sync reports removed, added and updated ids, and only touches those', async () => {
  const { manager, timers } = setup();
  manager.sync(desired());
  await timers.advance(5_000);
  const keptBefore = manager.status('web/10.0.0.1:80')!;
  const next: DesiredCheck[] = [
    { id: 'web/10.0.0.1:80', target: loopback(1), spec: { ...tcp } },
    { id: 'web/10.0.0.2:80', target: loopback(2), spec: { ...http, path: '/other' } },
    { id: 'web/10.0.0.3:80', target: loopback(3), spec: { ...tcp } },
  ];
  assert.deepEqual(manager.sync(next), {
    added: ['web/10.0.0.3:80'],
    removed: [],
    updated: ['web/10.0.0.2:80'],
  });
  assert.deepEqual(manager.status('web/10.0.0.1:80'), keptBefore, 'untouched monitor keeps its status');
  assert.ok(manager.status('web/10.0.0.2:80')!.checks > 0, 'an updated spec keeps the counters');
  assert.deepEqual(manager.sync(next.slice(1)), { added: [], removed: ['web/10.0.0.1:80'], updated: [] });
  assert.equal(manager.status('web/10.0.0.1:80'), undefined);
  manager.stop();
});

test('manager: a removed monitor stops checking', async () => {
  const { manager, timers, checks } = setup();
  manager.sync(desired());
  await timers.advance(3_000);
  manager.sync(desired().slice(1));
  const before = checks.get(1);
  await timers.advance(10_000);
  assert.equal(checks.get(1), before);
  assert.ok(checks.get(2)! > before!, 'the kept one goes on');
  manager.stop();
  assert.equal(timers.pendingCount, 0, 'stop leaves no timer');
});

test('manager: a changed target replaces the monitor', async () => {
  const { manager, timers } = setup();
  manager.sync(desired());
  await timers.advance(3_000);
  const moved = desired();
  moved[0] = { ...moved[0]!, target: loopback(11) };
  assert.deepEqual(manager.sync(moved), { added: [], removed: [], updated: ['web/10.0.0.1:80'] });
  assert.equal(manager.status('web/10.0.0.1:80')!.checks, 0);
  assert.equal(manager.all()[0]!.target.port, 11);
  manager.stop();
});

test('manager: transitions are forwarded with their id', async () => {
  const { manager, timers, down, events } = setup();
  down.add(2);
  manager.sync(desired());
  await timers.advance(2_000);
  assert.deepEqual(
    events.map(([id, e]) => [id, e.previous, e.state, e.result.reason]),
    [['web/10.0.0.2:80', 'up', 'down', 'refused']],
  );
  down.clear();
  await timers.advance(3_000);
  assert.deepEqual(
    events.map(([id, e]) => [id, e.state]),
    [
      ['web/10.0.0.2:80', 'down'],
      ['web/10.0.0.2:80', 'up'],
    ],
  );
  manager.stop();
});

test('manager: initialState applies to monitors a sync creates', () => {
  const { manager } = setup();
  manager.sync([{ ...desired()[0]!, initialState: 'down' }, desired()[1]!]);
  assert.equal(manager.status('web/10.0.0.1:80')!.state, 'down');
  assert.equal(manager.status('web/10.0.0.2:80')!.state, 'up');
  manager.stop();
});

test('manager: a bad desired set is rejected whole, nothing changes', () => {
  const manager = new HealthManager({ timers: new FakeTimers() }); // the real checker registry
  manager.sync(desired());
  const bad: DesiredCheck[][] = [
    [...desired(), { id: 'web/10.0.0.1:80', target: loopback(5), spec: tcp }],
    [desired()[0]!, { id: 'web/10.0.0.9:80', target: loopback(9), spec: { ...http, bodyRegex: '(' } }],
    [{ id: 'web/10.0.0.9:80', target: loopback(9), spec: { ...tcp, timeoutMs: 0 } }],
    [{ id: '', target: loopback(9), spec: tcp }],
  ];
  for (const set of bad) {
    assert.throws(
      () => manager.sync(set),
      (e: unknown) => (e as { code?: string }).code === 'TSLVS_ERR_INVALID_ARGUMENT',
    );
    assert.deepEqual(
      manager.all().map((e) => e.id),
      ['web/10.0.0.1:80', 'web/10.0.0.2:80'],
    );
  }
  assert.throws(
    () =>
      manager.sync([
        { id: 'x', target: loopback(1), spec: { ...tcp, kind: 'icmp' } as unknown as HealthCheckSpec },
      ]),
    /unknown health check kind 'icmp'/,
  );
  manager.stop();
});

test('specEquals: structural, order of keys irrelevant, arrays by position, undefined keys ignored', () => {
  assert.equal(specEquals({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }), true);
  assert.equal(specEquals({ a: 1, b: [1, 2] }, { a: 1, b: [2, 1] }), false);
  assert.equal(specEquals({ a: 1, c: undefined }, { a: 1 }), true);
  assert.equal(specEquals({ a: 1 }, { a: 1, c: 0 }), false);
  assert.equal(specEquals([1], { 0: 1 }), false);
});
