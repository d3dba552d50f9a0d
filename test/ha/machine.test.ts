/**
 * The pure VRRP machine, transition by transition (RFC 5798 §6.4, RFC 3768 §6.4, keepalived additions),
 * as a table: a starting situation, one event at one time, the expected state, actions and timer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIp } from '../../src/engine/addr.js';
import { VrrpMachine } from '../../src/ha/vrrp/machine.js';
import { masterDownMs, skewMs } from '../../src/ha/vrrp/timers.js';
import type { MachineConfig, VrrpAction, VrrpEvent } from '../../src/ha/vrrp/types.js';

const OURS = '10.0.0.2';
const base: MachineConfig = {
  version: 3,
  priority: 100,
  advertIntervalMs: 1000,
  preempt: true,
  preemptDelayMs: 0,
  primary: parseIp(OURS),
};

function advert(priority: number, src = '10.0.0.9', advertIntervalMs = 1000): VrrpEvent {
  return { type: 'advert', advert: { src: parseIp(src), priority, advertIntervalMs } };
}

/** Brings a machine into a state: 'backup' (started at t=0), 'master' (took over at its deadline), 'fault'. */
function machineIn(
  state: 'init' | 'backup' | 'master' | 'fault',
  cfg: Partial<MachineConfig> = {},
): VrrpMachine {
  const m = new VrrpMachine({ ...base, ...cfg });
  if (state === 'init') return m;
  if (state === 'fault') {
    m.handle({ type: 'fault', on: true }, 0);
    m.handle({ type: 'startup' }, 0);
    return m;
  }
  m.handle({ type: 'startup' }, 0);
  if (state === 'master' && m.state !== 'master') m.handle({ type: 'timer' }, m.deadline);
  return m;
}

/** Actions without the address objects, for readable comparisons. */
function summary(actions: VrrpAction[]): string[] {
  return actions.map((a) =>
    a.type === 'send'
      ? `send ${a.priority}`
      : a.type === 'transition'
        ? `${a.from}->${a.to} (${a.reason})`
        : `conflict ${a.priority} ${a.outcome}`,
  );
}

// v3, priority 100, 1 s: Skew_Time = 156/256 s, Master_Down_Interval = 3.609375 s (exact binary fractions).
const SKEW = 609.375;
const MDI = 3609.375;

interface Row {
  name: string;
  from: 'init' | 'backup' | 'master' | 'fault';
  cfg?: Partial<MachineConfig>;
  /** Events applied before the one under test, each at its time. */
  before?: [number, VrrpEvent][];
  at: number;
  event: VrrpEvent;
  state: string;
  actions: string[];
  /** Expected timer after the event (absolute ms); omitted = not checked. */
  deadline?: number;
}

const MASTER_AT = MDI; // machineIn('master') took over at the first Master_Down_Timer expiry

const rows: Row[] = [
  // RFC 5798 §6.4.1 Initialize
  {
    name: '6.4.1 startup: backup with Master_Down_Timer',
    from: 'init',
    at: 0,
    event: { type: 'startup' },
    state: 'backup',
    actions: ['init->backup (startup)'],
    deadline: MDI,
  },
  {
    name: '6.4.1 startup of the owner: advert, then master',
    from: 'init',
    cfg: { priority: 255 },
    at: 0,
    event: { type: 'startup' },
    state: 'master',
    actions: ['send 255', 'init->master (address-owner)'],
    deadline: 1000,
  },
  {
    name: 'startup while tracking says fault',
    from: 'init',
    before: [[0, { type: 'fault', on: true }]],
    at: 0,
    event: { type: 'startup' },
    state: 'fault',
    actions: ['init->fault (fault)'],
    deadline: Infinity,
  },
  {
    name: 'RFC 3768 startup: v2 skew is (256-P)/256 s whatever the interval',
    from: 'init',
    cfg: { version: 2, advertIntervalMs: 2000 },
    at: 0,
    event: { type: 'startup' },
    state: 'backup',
    actions: ['init->backup (startup)'],
    deadline: 6000 + SKEW,
  },
  {
    name: 'INIT ignores adverts',
    from: 'init',
    at: 5,
    event: advert(200),
    state: 'init',
    actions: [],
    deadline: Infinity,
  },
  { name: 'INIT ignores timers', from: 'init', at: 5, event: { type: 'timer' }, state: 'init', actions: [] },
  // RFC 5798 §6.4.2 Backup
  {
    name: '6.4.2 timer one tick early does nothing',
    from: 'backup',
    at: MDI - 0.001,
    event: { type: 'timer' },
    state: 'backup',
    actions: [],
    deadline: MDI,
  },
  {
    name: '6.4.2 Master_Down_Timer: advert then master',
    from: 'backup',
    at: MDI,
    event: { type: 'timer' },
    state: 'master',
    actions: ['send 100', 'backup->master (master-down)'],
    deadline: MDI + 1000,
  },
  {
    name: '6.4.2 higher priority advert resets Master_Down_Timer',
    from: 'backup',
    at: 2000,
    event: advert(150),
    state: 'backup',
    actions: [],
    deadline: 2000 + MDI,
  },
  {
    name: '6.4.2 equal priority advert is accepted (>=)',
    from: 'backup',
    at: 2000,
    event: advert(100),
    state: 'backup',
    actions: [],
    deadline: 2000 + MDI,
  },
  {
    name: '6.4.2 lower priority with preempt: discarded, timer keeps running',
    from: 'backup',
    at: 2000,
    event: advert(50),
    state: 'backup',
    actions: [],
    deadline: MDI,
  },
  {
    name: '6.4.2 lower priority, then the timer: preempt',
    from: 'backup',
    before: [[2000, advert(50)]],
    at: MDI,
    event: { type: 'timer' },
    state: 'master',
    actions: ['send 100', 'backup->master (preempt)'],
  },
  {
    name: '6.4.2 lower priority without preempt (nopreempt): accepted',
    from: 'backup',
    cfg: { preempt: false },
    at: 2000,
    event: advert(50),
    state: 'backup',
    actions: [],
    deadline: 2000 + MDI,
  },
  {
    name: '6.4.2 priority 0: wait only Skew_Time',
    from: 'backup',
    at: 2000,
    event: advert(0),
    state: 'backup',
    actions: [],
    deadline: 2000 + SKEW,
  },
  {
    name: '6.4.2 priority 0 then the timer: master (master-resigned)',
    from: 'backup',
    before: [[2000, advert(0)]],
    at: 2000 + SKEW,
    event: { type: 'timer' },
    state: 'master',
    actions: ['send 100', 'backup->master (master-resigned)'],
  },
  {
    name: '6.4.2 priority 0 is honoured with nopreempt too',
    from: 'backup',
    cfg: { preempt: false },
    at: 2000,
    event: advert(0),
    state: 'backup',
    actions: [],
    deadline: 2000 + SKEW,
  },
  {
    name: '6.4.2 master comes back within Skew_Time: full interval again',
    from: 'backup',
    before: [[2000, advert(0)]],
    at: 2100,
    event: advert(150),
    state: 'backup',
    actions: [],
    deadline: 2100 + MDI,
  },
  {
    name: '6.4.2 v3 learns Master_Adver_Interval from the master',
    from: 'backup',
    at: 2000,
    event: advert(150, '10.0.0.9', 2000),
    state: 'backup',
    actions: [],
    deadline: 2000 + 6000 + (156 * 2000) / 256,
  },
  {
    name: 'RFC 3768: v2 never learns an interval',
    from: 'backup',
    cfg: { version: 2 },
    at: 2000,
    event: advert(150, '10.0.0.9', 2000),
    state: 'backup',
    actions: [],
    deadline: 2000 + MDI,
  },
  {
    name: '6.4.2 shutdown in backup: quietly to INIT',
    from: 'backup',
    at: 10,
    event: { type: 'shutdown' },
    state: 'init',
    actions: ['backup->init (shutdown)'],
    deadline: Infinity,
  },
  // keepalived preempt_delay
  {
    name: 'preempt delay: first lower advert is tolerated and starts the delay',
    from: 'backup',
    cfg: { preemptDelayMs: 5000 },
    at: 1000,
    event: advert(50),
    state: 'backup',
    actions: [],
    deadline: 1000 + MDI,
  },
  {
    name: 'preempt delay: still tolerated just before it ends',
    from: 'backup',
    cfg: { preemptDelayMs: 5000 },
    before: [
      [1000, advert(50)],
      [3000, advert(50)],
      [5000, advert(50)],
    ],
    at: 5999,
    event: advert(50),
    state: 'backup',
    actions: [],
    deadline: 5999 + MDI,
  },
  {
    name: 'preempt delay: discarded once it ended',
    from: 'backup',
    cfg: { preemptDelayMs: 5000 },
    before: [
      [1000, advert(50)],
      [4000, advert(50)],
    ],
    at: 6000,
    event: advert(50),
    state: 'backup',
    actions: [],
    deadline: 4000 + MDI,
  },
  {
    name: 'preempt delay: a higher advert cancels the delay',
    from: 'backup',
    cfg: { preemptDelayMs: 5000 },
    before: [
      [1000, advert(50)],
      [2000, advert(150)],
    ],
    at: 3000,
    event: advert(50),
    state: 'backup',
    actions: [],
    deadline: 3000 + MDI,
  },
  // RFC 5798 §6.4.3 Master
  {
    name: '6.4.3 Adver_Timer one tick early does nothing',
    from: 'master',
    at: MASTER_AT + 999.999,
    event: { type: 'timer' },
    state: 'master',
    actions: [],
    deadline: MASTER_AT + 1000,
  },
  {
    name: '6.4.3 Adver_Timer: advertise and re-arm',
    from: 'master',
    at: MASTER_AT + 1000,
    event: { type: 'timer' },
    state: 'master',
    actions: ['send 100'],
    deadline: MASTER_AT + 2000,
  },
  {
    name: '6.4.3 higher priority: step down to backup',
    from: 'master',
    at: 5000,
    event: advert(150),
    state: 'backup',
    actions: ['conflict 150 stepped-down', 'master->backup (higher-priority)'],
    deadline: 5000 + MDI,
  },
  {
    name: '6.4.3 higher priority v3: Master_Down_Interval from the advert interval',
    from: 'master',
    at: 5000,
    event: advert(150, '10.0.0.9', 500),
    state: 'backup',
    actions: ['conflict 150 stepped-down', 'master->backup (higher-priority)'],
    deadline: 5000 + 1500 + (156 * 500) / 256,
  },
  {
    name: '6.4.3 equal priority, larger address: step down',
    from: 'master',
    at: 5000,
    event: advert(100, '10.0.0.3'),
    state: 'backup',
    actions: ['conflict 100 stepped-down', 'master->backup (higher-address)'],
    deadline: 5000 + MDI,
  },
  {
    name: '6.4.3 equal priority, smaller address: stay, advertise at once',
    from: 'master',
    at: 5000,
    event: advert(100, '10.0.0.1'),
    state: 'master',
    actions: ['conflict 100 reasserted', 'send 100'],
    deadline: MASTER_AT + 1000,
  },
  {
    name: '6.4.3 lower priority: stay, advertise at once (keepalived)',
    from: 'master',
    at: 4000,
    event: advert(50),
    state: 'master',
    actions: ['conflict 50 reasserted', 'send 100'],
    deadline: MASTER_AT + 1000,
  },
  {
    name: '6.4.3 priority 0: advertise and reset Adver_Timer',
    from: 'master',
    at: 4000,
    event: advert(0),
    state: 'master',
    actions: ['send 100'],
    deadline: 5000,
  },
  {
    name: 'equal priority from our own address: nothing wins, nothing changes',
    from: 'master',
    at: 4000,
    event: advert(100, OURS),
    state: 'master',
    actions: [],
    deadline: MASTER_AT + 1000,
  },
  {
    name: '6.4.3 shutdown in master: resign with priority 0',
    from: 'master',
    at: 4000,
    event: { type: 'shutdown' },
    state: 'init',
    actions: ['send 0', 'master->init (shutdown)'],
    deadline: Infinity,
  },
  {
    name: 'owner ties with an owner at a larger address: steps down (RFC tie-break)',
    from: 'master',
    cfg: { priority: 255 },
    at: 500,
    event: advert(255, '10.0.0.3'),
    state: 'backup',
    actions: ['conflict 255 stepped-down', 'master->backup (higher-address)'],
  },
  // Tracking: priority and FAULT (keepalived)
  {
    name: 'lower priority in backup moves the timer by the change of Skew_Time',
    from: 'backup',
    at: 100,
    event: { type: 'priority', priority: 50 },
    state: 'backup',
    actions: [],
    deadline: masterDownMs(3, 50, 1000),
  },
  {
    name: 'priority of the owner is never changed',
    from: 'master',
    cfg: { priority: 255 },
    at: 100,
    event: { type: 'priority', priority: 10 },
    state: 'master',
    actions: [],
    deadline: 1000,
  },
  {
    name: 'fault in master: resign with priority 0, then FAULT',
    from: 'master',
    at: 4000,
    event: { type: 'fault', on: true },
    state: 'fault',
    actions: ['send 0', 'master->fault (fault)'],
    deadline: Infinity,
  },
  {
    name: 'fault in backup: FAULT, nothing sent',
    from: 'backup',
    at: 100,
    event: { type: 'fault', on: true },
    state: 'fault',
    actions: ['backup->fault (fault)'],
    deadline: Infinity,
  },
  {
    name: 'fault cleared: BACKUP with a fresh Master_Down_Timer',
    from: 'fault',
    at: 700,
    event: { type: 'fault', on: false },
    state: 'backup',
    actions: ['fault->backup (fault-cleared)'],
    deadline: 700 + MDI,
  },
  {
    name: 'fault cleared for the owner: straight to MASTER',
    from: 'fault',
    cfg: { priority: 255 },
    at: 700,
    event: { type: 'fault', on: false },
    state: 'master',
    actions: ['send 255', 'fault->master (fault-cleared)'],
    deadline: 1700,
  },
  {
    name: 'FAULT ignores adverts',
    from: 'fault',
    at: 10,
    event: advert(0),
    state: 'fault',
    actions: [],
    deadline: Infinity,
  },
  {
    name: 'FAULT ignores timers',
    from: 'fault',
    at: 10,
    event: { type: 'timer' },
    state: 'fault',
    actions: [],
  },
  {
    name: 'shutdown from FAULT',
    from: 'fault',
    at: 10,
    event: { type: 'shutdown' },
    state: 'init',
    actions: ['fault->init (shutdown)'],
  },
  {
    name: 'fault repeated is a no-op',
    from: 'fault',
    at: 10,
    event: { type: 'fault', on: true },
    state: 'fault',
    actions: [],
  },
];

describe('VRRP machine transitions', () => {
  for (const row of rows) {
    it(row.name, () => {
      const m = machineIn(row.from, row.cfg);
      for (const [t, ev] of row.before ?? []) m.handle(ev, t);
      const actions = m.handle(row.event, row.at);
      assert.deepEqual(summary(actions), row.actions);
      assert.equal(m.state, row.state);
      if (row.deadline !== undefined) assert.equal(m.deadline, row.deadline);
    });
  }
});

describe('VRRP timers', () => {
  it('Skew_Time and Master_Down_Interval follow the RFC formulas', () => {
    // RFC 3768 §6.1 (v2): seconds, independent of the interval.
    assert.equal(skewMs(2, 100, 1000), (156 / 256) * 1000);
    assert.equal(skewMs(2, 100, 5000), (156 / 256) * 1000);
    assert.equal(masterDownMs(2, 100, 1000), 3609.375);
    // RFC 5798 §6.1 (v3): scaled by Master_Adver_Interval.
    assert.equal(skewMs(3, 100, 1000), 609.375);
    assert.equal(skewMs(3, 100, 100), 60.9375);
    assert.equal(masterDownMs(3, 254, 100), 300 + (2 * 100) / 256);
    // The higher the priority, the shorter the wait: the best backup answers first.
    assert.ok(masterDownMs(3, 200, 1000) < masterDownMs(3, 100, 1000));
  });

  it('priority clamps to 1..254 for tracked instances', () => {
    const m = machineIn('backup');
    m.handle({ type: 'priority', priority: 999 }, 1);
    assert.equal(m.effectivePriority, 254);
    m.handle({ type: 'priority', priority: -40 }, 2);
    assert.equal(m.effectivePriority, 1);
  });

  it('a backup running on a lowered priority advertises it once master', () => {
    const m = machineIn('backup');
    m.handle({ type: 'priority', priority: 80 }, 10);
    const actions = m.handle({ type: 'timer' }, m.deadline);
    assert.deepEqual(summary(actions), ['send 80', 'backup->master (master-down)']);
  });

  it('rejects impossible priorities and intervals', () => {
    assert.throws(() => new VrrpMachine({ ...base, priority: 0 }), RangeError);
    assert.throws(() => new VrrpMachine({ ...base, priority: 256 }), RangeError);
    assert.throws(() => new VrrpMachine({ ...base, advertIntervalMs: 0 }), RangeError);
  });

  it('a master forgets the interval it learned as backup (its own goes out)', () => {
    const m = machineIn('backup');
    m.handle(advert(150, '10.0.0.9', 3000), 100);
    assert.equal(m.snapshot().masterAdverIntervalMs, 3000);
    m.handle({ type: 'timer' }, m.deadline);
    assert.equal(m.state, 'master');
    assert.equal(m.snapshot().masterAdverIntervalMs, 1000);
  });

  it('reconfigure keeps state and timer; new values apply from the next advert', () => {
    const m = machineIn('master');
    const deadline = m.deadline;
    m.reconfigure({ ...base, priority: 80, advertIntervalMs: 500 });
    assert.equal(m.state, 'master');
    assert.equal(m.deadline, deadline);
    assert.deepEqual(summary(m.handle({ type: 'timer' }, deadline)), ['send 80']);
    assert.equal(m.deadline, deadline + 500);
    assert.throws(() => m.reconfigure({ ...base, priority: 255 }), RangeError);
    assert.throws(() => m.reconfigure({ ...base, version: 2 }), RangeError);
    assert.throws(() => m.reconfigure({ ...base, priority: 0 }), RangeError);
  });
});
