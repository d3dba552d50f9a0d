import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNoneChecker } from '../../src/health/none.js';
import { assertValidTiming, CHECKER_FACTORIES, createChecker } from '../../src/health/registry.js';
import type { HealthCheckSpec } from '../../src/health/spec.js';
import { HEALTH_KINDS } from '../../src/health/spec.js';
import { FakeTimers } from '../../src/health/timers.js';
import { BASE, loopback, signal } from './support.js';

const isInvalid = (e: unknown) => (e as { code?: string }).code === 'TSLVS_ERR_INVALID_ARGUMENT';

test('registry: every kind has a factory, and each builds a checker', () => {
  assert.deepEqual(Object.keys(CHECKER_FACTORIES).sort(), [...HEALTH_KINDS].sort());
  const specs: HealthCheckSpec[] = [
    { ...BASE, kind: 'tcp' },
    { ...BASE, kind: 'http', method: 'GET', path: '/', expectStatus: [200], tlsVerify: false },
    { ...BASE, kind: 'https', method: 'GET', path: '/', expectStatus: [200], tlsVerify: true },
    { ...BASE, kind: 'udp', payload: 'x' },
    { ...BASE, kind: 'exec', command: ['true'] },
    { ...BASE, kind: 'none' },
  ];
  for (const spec of specs) assert.equal(typeof createChecker(spec).check, 'function', spec.kind);
});

test('registry: unknown kinds and bad timing are rejected with INVALID_ARGUMENT', () => {
  assert.throws(() => createChecker({ ...BASE, kind: 'icmp' } as unknown as HealthCheckSpec), isInvalid);
  const bad: Partial<HealthCheckSpec>[] = [
    { intervalMs: 0 },
    { timeoutMs: -1 },
    { rise: 0 },
    { fall: 1.5 },
    { intervalMs: Number.NaN },
    { port: 0 },
    { port: 65536 },
  ];
  for (const over of bad) {
    assert.throws(() => assertValidTiming({ ...BASE, kind: 'tcp', ...over } as HealthCheckSpec), isInvalid);
  }
  assert.doesNotThrow(() => assertValidTiming({ ...BASE, kind: 'tcp', port: 8080 }));
});

test('none: always up', async () => {
  const r = await createNoneChecker().check(loopback(1), signal());
  assert.equal(r.ok, true);
});

test('FakeTimers: fires in deadline order, honours clearTimeout, and sees timers set while advancing', async () => {
  const timers = new FakeTimers(0);
  const fired: string[] = [];
  timers.setTimeout(() => fired.push('b@20'), 20);
  const h = timers.setTimeout(() => fired.push('never'), 15);
  timers.setTimeout(() => {
    fired.push('a@10');
    // async work that schedules another timer inside the window
    void Promise.resolve().then(() => timers.setTimeout(() => fired.push(`c@${timers.now()}`), 5));
  }, 10);
  timers.setTimeout(() => fired.push('d@20'), 20);
  timers.clearTimeout(h);
  await timers.advance(30);
  assert.deepEqual(fired, ['a@10', 'c@15', 'b@20', 'd@20']);
  assert.equal(timers.now(), 30);
  assert.equal(timers.pendingCount, 0);
  timers.setTimeout(() => fired.push('e'), 100);
  assert.equal(await timers.advanceToNext(), 100);
  assert.equal(fired.at(-1), 'e');
});
