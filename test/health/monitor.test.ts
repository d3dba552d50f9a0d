import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Checker, CheckResult } from '../../src/health/checker.js';
import type { HealthMonitorOptions, HealthState, TransitionEvent } from '../../src/health/monitor.js';
import { HealthMonitor, JITTER, WATCHDOG_GRACE_MS } from '../../src/health/monitor.js';
import type { TcpSpec } from '../../src/health/spec.js';
import { FakeTimers } from '../../src/health/timers.js';
import { loopback } from './support.js';

type Step = 'ok' | 'fail' | 'hang';

/** A checker playing a script of outcomes; 'hang' never settles unless its signal aborts. */
class ScriptedChecker implements Checker {
  readonly signals: AbortSignal[] = [];
  readonly startedAt: number[] = [];
  #i = 0;
  constructor(
    private readonly timers: FakeTimers,
    private readonly steps: Step[],
    private readonly ignoreAbort = false,
  ) {}

  check(_target: unknown, signal: AbortSignal): Promise<CheckResult> {
    this.signals.push(signal);
    this.startedAt.push(this.timers.now());
    const step = this.steps[this.#i++] ?? 'ok';
    if (step === 'hang') {
      return new Promise((resolve) => {
        if (this.ignoreAbort) return;
        signal.addEventListener('abort', () => resolve({ ok: false, reason: 'aborted', durationMs: 0 }));
      });
    }
    const ok = step === 'ok';
    return Promise.resolve({ ok, reason: ok ? 'fine' : `failure #${this.#i}`, durationMs: 1 });
  }
}

const SPEC: TcpSpec = { kind: 'tcp', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 };

function setup(steps: Step[], over: Partial<HealthMonitorOptions> = {}, ignoreAbort = false) {
  const timers = new FakeTimers();
  const checker = new ScriptedChecker(timers, steps, ignoreAbort);
  const events: TransitionEvent[] = [];
  const monitor = new HealthMonitor({
    target: loopback(80),
    spec: SPEC,
    timers,
    random: () => 0.5,
    createChecker: () => checker,
    onTransition: (e) => events.push(e),
    ...over,
  });
  return { timers, checker, events, monitor };
}

/** Runs the script check by check; returns the transitions as [check number, new state]. */
async function run(steps: Step[], over: Partial<HealthMonitorOptions> = {}) {
  const { timers, events, monitor } = setup(steps, over);
  monitor.start();
  const seen: [number, HealthState][] = [];
  for (let i = 1; i <= steps.length; i++) {
    await timers.advanceToNext();
    assert.equal(monitor.status().checks, i, `check ${i} ran`);
    while (events.length > seen.length) seen.push([i, events[seen.length]!.state]);
  }
  monitor.stop();
  return { seen, monitor, events };
}

test('monitor: rise/fall sequences', async () => {
  const cases: {
    name: string;
    steps: Step[];
    spec?: { rise?: number; fall?: number };
    init?: HealthState;
    want: [number, HealthState][];
  }[] = [
    { name: 'fall=3 needs three failures', steps: ['ok', 'fail', 'fail', 'fail'], want: [[4, 'down']] },
    {
      name: 'a success resets the failure run',
      steps: ['ok', 'fail', 'fail', 'ok', 'fail', 'fail', 'fail'],
      want: [[7, 'down']],
    },
    { name: 'first check failing takes it down at once', steps: ['fail'], want: [[1, 'down']] },
    {
      name: 'down then rise=2 successes, later a single failure is tolerated',
      steps: ['fail', 'ok', 'fail', 'ok', 'ok', 'fail', 'ok'],
      want: [
        [1, 'down'],
        [5, 'up'],
      ],
    },
    { name: 'fall=1', steps: ['ok', 'ok', 'fail'], spec: { fall: 1 }, want: [[3, 'down']] },
    {
      name: 'rise=1',
      steps: ['fail', 'ok'],
      spec: { rise: 1 },
      want: [
        [1, 'down'],
        [2, 'up'],
      ],
    },
    {
      name: 'initial down needs rise successes',
      steps: ['ok', 'fail', 'ok', 'ok'],
      init: 'down',
      want: [[4, 'up']],
    },
    { name: 'initial down, failures change nothing', steps: ['fail', 'fail'], init: 'down', want: [] },
    { name: 'all ok from up changes nothing', steps: ['ok', 'ok', 'ok'], want: [] },
  ];
  for (const c of cases) {
    const spec = { ...SPEC, ...c.spec };
    const { seen } = await run(c.steps, { spec, ...(c.init ? { initialState: c.init } : {}) });
    assert.deepEqual(seen, c.want, c.name);
  }
});

test('monitor: transition events carry the previous state, the causing result and the time', async () => {
  const { timers, events, monitor } = setup(['ok', 'fail', 'fail', 'fail']);
  const created = timers.now();
  monitor.start();
  for (let i = 0; i < 4; i++) await timers.advanceToNext();
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.equal(e.state, 'down');
  assert.equal(e.previous, 'up');
  assert.equal(e.result.reason, 'failure #4');
  assert.equal(e.at, timers.now());
  const s = monitor.status();
  assert.deepEqual(
    { state: s.state, ok: s.consecutiveOk, fail: s.consecutiveFail, checks: s.checks, since: s.since },
    { state: 'down', ok: 0, fail: 3, checks: 4, since: e.at },
  );
  assert.ok(e.at > created);
  assert.equal(s.lastResult?.reason, 'failure #4');
  monitor.stop();
});

test('monitor: first check within 10% of an interval, then every interval +-10%', async () => {
  // extreme and middle random values give exact delays
  const randoms = [0.999, 0, 0.5, 0.999, 0.25];
  let k = 0;
  const { timers, checker, monitor } = setup(['ok', 'ok', 'ok', 'ok', 'ok'], { random: () => randoms[k++]! });
  const t0 = timers.now();
  monitor.start();
  for (let i = 0; i < 5; i++) await timers.advanceToNext();
  const gaps = checker.startedAt.map((t, i) => t - (i === 0 ? t0 : checker.startedAt[i - 1]!));
  assert.deepEqual(gaps, [Math.floor(0.999 * JITTER * 1000), 900, 1000, 1100, 950]);
  monitor.stop();
});

test('monitor: jitter stays within bounds with a real random source', async () => {
  const { timers, checker, monitor } = setup([], { random: Math.random });
  monitor.start();
  for (let i = 0; i < 300; i++) await timers.advanceToNext();
  const gaps = checker.startedAt.slice(1).map((t, i) => t - checker.startedAt[i]!);
  assert.ok(
    gaps.every((g) => g >= 900 && g <= 1100),
    `gap out of bounds: ${Math.min(...gaps)}..${Math.max(...gaps)}`,
  );
  // and it is actually jittered: not all the same
  assert.ok(new Set(gaps).size > 50);
  monitor.stop();
});

test('monitor: a check outliving timeoutMs counts as a failure, even if the checker ignores its signal', async () => {
  for (const ignoreAbort of [false, true]) {
    const { timers, checker, events, monitor } = setup(['ok', 'hang'], {}, ignoreAbort);
    monitor.start();
    await timers.advanceToNext(); // ok
    await timers.advanceToNext(); // hang starts
    assert.equal(monitor.status().checks, 1);
    await timers.advance(SPEC.timeoutMs + WATCHDOG_GRACE_MS);
    const s = monitor.status();
    assert.equal(s.checks, 2);
    assert.equal(s.consecutiveFail, 1);
    assert.equal(s.lastResult?.reason, 'timeout after 500ms');
    assert.equal(s.lastResult?.ok, false);
    assert.equal(checker.signals[1]!.aborted, true);
    assert.equal(events.length, 0, 'one failure after a success is not enough with fall=3');
    // the schedule goes on
    await timers.advanceToNext();
    assert.equal(monitor.status().checks, 3);
    monitor.stop();
  }
});

test('monitor: stop() aborts the check in flight, does not count it, and leaves no timer', async () => {
  const { timers, checker, monitor } = setup(['hang']);
  monitor.start();
  await timers.advanceToNext();
  assert.equal(checker.signals.length, 1);
  assert.equal(checker.signals[0]!.aborted, false);
  monitor.stop();
  assert.equal(checker.signals[0]!.aborted, true);
  assert.equal(timers.pendingCount, 0);
  assert.equal(monitor.status().checks, 0);
  assert.equal(monitor.running, false);
  await timers.advance(10_000);
  assert.equal(checker.signals.length, 1, 'no check after stop');
  // restart resumes checking
  monitor.start();
  await timers.advanceToNext();
  assert.equal(monitor.status().checks, 1);
  monitor.stop();
});

test('monitor: update() keeps state and counters; new thresholds apply at the next check', async () => {
  const { timers, monitor, events } = setup(['ok', 'fail', 'fail']);
  monitor.start();
  await timers.advanceToNext();
  await timers.advanceToNext();
  assert.equal(monitor.status().consecutiveFail, 1);
  monitor.update({ ...SPEC, fall: 2 });
  assert.equal(monitor.status().consecutiveFail, 1, 'counters kept');
  assert.equal(events.length, 0, 'no transition until the next check');
  await timers.advanceToNext();
  assert.deepEqual(
    events.map((e) => e.state),
    ['down'],
  );
  monitor.stop();
});

test('monitor: update() to another kind resets the counters and drops the result in flight', async () => {
  const { timers, monitor, events } = setup(['ok', 'hang', 'fail']);
  monitor.start();
  await timers.advanceToNext();
  await timers.advanceToNext(); // hang in flight
  monitor.update({ ...SPEC, kind: 'udp', payload: 'x' });
  assert.equal(monitor.status().consecutiveOk, 0);
  await timers.advance(SPEC.timeoutMs + WATCHDOG_GRACE_MS); // the old-kind check times out: not counted
  assert.equal(monitor.status().checks, 1);
  await timers.advanceToNext(); // first check of the new kind fails: fresh, so down at once
  assert.deepEqual(
    events.map((e) => e.state),
    ['down'],
  );
  assert.equal(monitor.spec.kind, 'udp');
  monitor.stop();
});

test('monitor: a shorter interval does not wait out the old long one', async () => {
  const { timers, monitor } = setup([], { spec: { ...SPEC, intervalMs: 60_000 } });
  monitor.start();
  await timers.advanceToNext();
  assert.ok(timers.pendingDelays()[0]! >= 54_000);
  monitor.update({ ...SPEC, intervalMs: 1000 });
  assert.deepEqual(timers.pendingDelays(), [1000]);
  monitor.stop();
});

test('monitor: update() with an invalid spec throws and changes nothing', () => {
  const { monitor } = setup([]);
  assert.throws(
    () => monitor.update({ ...SPEC, fall: 0 }),
    (e: unknown) => (e as { code?: string }).code === 'TSLVS_ERR_INVALID_ARGUMENT',
  );
  assert.equal(monitor.spec.fall, 3);
});

test('monitor: checkNow() runs and counts a check, joins one in flight, restarts the schedule', async () => {
  const { timers, checker, monitor } = setup(['fail', 'ok']);
  const r = await monitor.checkNow(); // works while stopped
  assert.equal(r.ok, false);
  assert.equal(monitor.status().state, 'down');
  assert.equal(timers.pendingCount, 0, 'a stopped monitor schedules nothing');
  monitor.start();
  const a = monitor.checkNow();
  const b = monitor.checkNow();
  assert.equal(a, b, 'joins the check in flight');
  await a;
  assert.equal(checker.signals.length, 2);
  assert.deepEqual(timers.pendingDelays(), [1000]);
  monitor.stop();
});

test('monitor: a checker that throws or rejects is a failure, not a crash', async () => {
  for (const check of [
    () => {
      throw new Error('boom');
    },
    () => Promise.reject(new Error('bang')),
  ]) {
    const timers = new FakeTimers();
    const monitor = new HealthMonitor({
      target: loopback(80),
      spec: SPEC,
      timers,
      createChecker: () => ({ check }) as Checker,
    });
    const r = await monitor.checkNow();
    assert.equal(r.ok, false);
    assert.match(r.reason, /^checker error: (boom|bang)$/);
    assert.equal(monitor.status().state, 'down');
  }
});

test('monitor: a throwing transition listener does not stop the checks', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const { timers, monitor } = setup(['fail', 'ok', 'ok'], {
      onTransition: () => {
        throw new Error('listener bug');
      },
    });
    monitor.start();
    for (let i = 0; i < 3; i++) await timers.advanceToNext();
    assert.equal(monitor.status().state, 'up');
    assert.equal(monitor.status().checks, 3);
    await new Promise((r) => process.nextTick(r));
    assert.equal(warnings.filter((w) => w.includes('listener bug')).length, 2);
    monitor.stop();
  } finally {
    process.off('warning', onWarning);
  }
});
