/**
 * The pieces around the machine: announcement frames and their timing, health tracking, notify hooks,
 * interface VIPs (argv and idempotency), and the ip_nonlocal_bind check.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipToBytes, parseIp } from '../../src/engine/addr.js';
import { GARP_FRAME_LEN, NA_FRAME_LEN, writeGarp, writeUnsolicitedNa } from '../../src/ha/announce-frames.js';
import { type CommandOptions, type CommandResult, runCommand } from '../../src/ha/command.js';
import { AnnounceSchedule } from '../../src/ha/garp.js';
import { RecordingLogger } from '../../src/ha/logger.js';
import { nonlocalBindProblem } from '../../src/ha/nonlocal-bind.js';
import { NotifyQueue } from '../../src/ha/notify.js';
import { trackedPriority } from '../../src/ha/track.js';
import { InterfaceVips } from '../../src/ha/vip.js';
import { FakeTimers } from '../../src/health/timers.js';
import { ArpPacket } from '../../src/wire/arp.js';
import { checksumOk, pseudoSumV6At } from '../../src/wire/checksum.js';
import { Reason } from '../../src/wire/reasons.js';

const MAC = 0x02_00_00_00_00_2a;

describe('announcement frames', () => {
  it('gratuitous ARP in keepalived form: request, SPA = TPA = VIP, THA broadcast', () => {
    const out = new Uint8Array(64);
    assert.equal(writeGarp(out, MAC, parseIp('10.9.0.100')), GARP_FRAME_LEN);
    assert.deepEqual([...out.subarray(0, 6)], [255, 255, 255, 255, 255, 255]);
    const arp = new ArpPacket(out, 14, 28);
    assert.equal(arp.check(), Reason.OK);
    assert.equal(arp.op, 1);
    assert.equal(arp.senderMac, MAC);
    assert.equal(arp.senderIp, parseIp('10.9.0.100').words[0]);
    assert.equal(arp.targetIp, arp.senderIp);
    assert.equal(arp.targetMac, 0xffff_ffff_ffff);
    assert.ok(
      out.subarray(42, 60).every((b) => b === 0),
      'padding is zero',
    );
  });

  it('unsolicited NA: ff02::1, hop limit 255, Override, target and TLLA, valid checksum', () => {
    const out = new Uint8Array(NA_FRAME_LEN);
    const vip = parseIp('2001:db8::100');
    assert.equal(writeUnsolicitedNa(out, MAC, vip), NA_FRAME_LEN);
    assert.deepEqual([...out.subarray(0, 6)], [0x33, 0x33, 0, 0, 0, 1]);
    assert.equal((out[12]! << 8) | out[13]!, 0x86dd);
    assert.equal(out[14 + 7], 255);
    const na = 14 + 40;
    assert.equal(out[na], 136);
    assert.equal(out[na + 4], 0x20);
    const target = new Uint8Array(16);
    ipToBytes(vip, target);
    assert.deepEqual(out.subarray(na + 8, na + 24), target);
    assert.deepEqual(out.subarray(14 + 8, 14 + 24), target, 'sent from the VIP itself');
    assert.equal(out[na + 24], 2);
    assert.ok(checksumOk(out, na, 32, pseudoSumV6At(out, 14, 58, 32)));
  });
});

describe('AnnounceSchedule (keepalived garp_master_*)', () => {
  it('repeat at once, repeat again after delay, then one round per refresh', async () => {
    const timers = new FakeTimers(0);
    const at: number[] = [];
    const s = new AnnounceSchedule(
      () => at.push(timers.now()),
      { repeat: 3, delayMs: 5000, refreshMs: 10_000 },
      timers,
    );
    s.start();
    await timers.advance(30_000);
    assert.deepEqual(at, [0, 0, 0, 5000, 5000, 5000, 15_000, 25_000]);
    s.stop();
    await timers.advance(60_000);
    assert.equal(at.length, 8);
    assert.equal(timers.pendingCount, 0);
  });

  it('no delay and no refresh: one burst only', async () => {
    const timers = new FakeTimers(0);
    let n = 0;
    const s = new AnnounceSchedule(() => n++, { repeat: 5, delayMs: 0, refreshMs: 0 }, timers);
    s.start();
    await timers.advance(60_000);
    assert.equal(n, 5);
  });

  it('stop() before the delay cancels the second burst', async () => {
    const timers = new FakeTimers(0);
    let n = 0;
    const s = new AnnounceSchedule(() => n++, { repeat: 2, delayMs: 1000, refreshMs: 0 }, timers);
    s.start();
    await timers.advance(500);
    s.stop();
    await timers.advance(5000);
    assert.equal(n, 2);
  });
});

describe('trackedPriority (keepalived weights)', () => {
  const up = (downs: string[]) => (s: string) => !downs.includes(s);
  const tracks = [
    { service: 'web', weight: -30 },
    { service: 'dns', weight: 10 },
    { service: 'db', weight: 0 },
  ];
  it('all up: positive weights apply', () => {
    assert.deepEqual(trackedPriority(100, tracks, up([])), { priority: 110, fault: false, down: [] });
  });
  it('a service with a negative weight down lowers the priority', () => {
    assert.deepEqual(trackedPriority(100, tracks, up(['web'])), {
      priority: 80,
      fault: false,
      down: ['web'],
    });
  });
  it('a service with a positive weight down loses its bonus', () => {
    assert.deepEqual(trackedPriority(100, tracks, up(['dns'])), {
      priority: 100,
      fault: false,
      down: ['dns'],
    });
  });
  it('weight 0 down means FAULT', () => {
    assert.equal(trackedPriority(100, tracks, up(['db'])).fault, true);
  });
});

function fakeRunner(results: (argv: readonly string[]) => Partial<CommandResult> = () => ({})) {
  const calls: { argv: string[]; opts: CommandOptions }[] = [];
  const run = async (argv: readonly string[], opts: CommandOptions): Promise<CommandResult> => {
    calls.push({ argv: [...argv], opts });
    return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, error: null, ...results(argv) };
  };
  return { calls, run };
}

describe('NotifyQueue', () => {
  it('per-state argv as given, generic hook with INSTANCE name STATE priority', async () => {
    const { calls, run } = fakeRunner();
    const q = new NotifyQueue(
      {
        master: ['/bin/m', 'x y'],
        backup: null,
        fault: ['/bin/f'],
        stop: ['/bin/s'],
        any: ['/bin/all', '--flag'],
      },
      new RecordingLogger(),
      { run },
    );
    await q.notify({ instance: 'VI_1', state: 'MASTER', priority: 150, reason: 'master-down' });
    await q.notify({ instance: 'VI_1', state: 'BACKUP', priority: 150, reason: 'higher-priority' });
    await q.notify({ instance: 'VI_1', state: 'STOP', priority: 150, reason: 'shutdown' });
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        ['/bin/m', 'x y'],
        ['/bin/all', '--flag', 'INSTANCE', 'VI_1', 'MASTER', '150'],
        ['/bin/all', '--flag', 'INSTANCE', 'VI_1', 'BACKUP', '150'],
        ['/bin/s'],
        ['/bin/all', '--flag', 'INSTANCE', 'VI_1', 'STOP', '150'],
      ],
    );
    assert.equal(calls[0]!.opts.env?.TSLVS_VRRP_STATE, 'MASTER');
    assert.equal(calls[0]!.opts.env?.TSLVS_VRRP_REASON, 'master-down');
  });

  it('a failing hook is logged and counted, the next one still runs', async () => {
    const { calls, run } = fakeRunner((argv) => (argv[0] === '/bin/bad' ? { code: 3, stderr: 'boom' } : {}));
    const log = new RecordingLogger();
    const q = new NotifyQueue({ master: ['/bin/bad'], backup: ['/bin/good'], fault: null }, log, { run });
    void q.notify({ instance: 'i', state: 'MASTER', priority: 1, reason: 'r' });
    await q.notify({ instance: 'i', state: 'BACKUP', priority: 1, reason: 'r' });
    assert.equal(calls.length, 2);
    assert.equal(q.failures, 1);
    assert.ok(log.lines.some((l) => l.level === 'warn' && l.fields.stderr === 'boom'));
  });

  it('runs real programs without a shell, with the environment, and kills them at the deadline', async () => {
    const ok = await runCommand(
      [process.execPath, '-e', 'console.log(process.env.TSLVS_VRRP_STATE, process.argv[1])', '$(id)'],
      {
        timeoutMs: 5000,
        env: { ...process.env, TSLVS_VRRP_STATE: 'MASTER' },
      },
    );
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, 'MASTER $(id)');
    const slow = await runCommand([process.execPath, '-e', 'setTimeout(() => {}, 60000)'], {
      timeoutMs: 200,
    });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.code, null);
    const missing = await runCommand(['/nonexistent/hook'], { timeoutMs: 1000 });
    assert.match(missing.error ?? '', /ENOENT/);
  });
});

describe('InterfaceVips (proxy mode)', () => {
  const v4 = { addr: parseIp('10.9.0.100'), prefixLength: 24, interface: 'eth0' };
  const v6 = { addr: parseIp('2001:db8::100'), prefixLength: 64, interface: 'eth1' };

  it('argv for ip, per family, IPv6 without DAD', async () => {
    const { calls, run } = fakeRunner();
    const vips = new InterfaceVips({ run });
    await vips.ownVips('VI_1', [v4, v6]);
    await vips.releaseVips('VI_1', [v4]);
    assert.deepEqual(
      calls.map((c) => c.argv),
      [
        ['ip', '-4', 'addr', 'add', '10.9.0.100/24', 'dev', 'eth0'],
        ['ip', '-6', 'addr', 'add', '2001:db8::100/64', 'dev', 'eth1', 'nodad'],
        ['ip', '-4', 'addr', 'del', '10.9.0.100/24', 'dev', 'eth0'],
      ],
    );
  });

  it('already there / already gone count as success; other failures throw ENVIRONMENT', async () => {
    const { run } = fakeRunner((argv) =>
      argv[3] === 'add'
        ? { code: 2, stderr: 'RTNETLINK answers: File exists' }
        : { code: 2, stderr: 'Error: ipv4: Address not found.' },
    );
    const vips = new InterfaceVips({ run });
    await vips.ownVips('VI_1', [v4]);
    await vips.releaseVips('VI_1', [v4]);
    const broken = new InterfaceVips({
      run: fakeRunner(() => ({ code: 1, stderr: 'Cannot find device "eth0"' })).run,
    });
    await assert.rejects(broken.ownVips('VI_1', [v4]), (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'TSLVS_ERR_ENVIRONMENT');
      assert.match(err.message ?? '', /VI_1.*10\.9\.0\.100\/24 dev eth0: Cannot find device/);
      return true;
    });
  });
});

describe('nonlocalBindProblem', () => {
  const config = (kind: string) => ({
    dataplane: { kind },
    services: [
      { name: 'web', address: { addr: parseIp('10.9.0.100') } },
      { name: 'other', address: { addr: parseIp('10.9.0.1') } },
    ],
    ha: { vrrp: [{ virtualAddresses: [{ addr: parseIp('10.9.0.100') }] }] },
  });
  it('names the services on VIPs when the sysctl is off', () => {
    const msg = nonlocalBindProblem(config('proxy'), () => '0\n');
    assert.match(msg ?? '', /web \(10\.9\.0\.100\).*net\.ipv4\.ip_nonlocal_bind=1/);
    assert.doesNotMatch(msg ?? '', /other/);
  });
  it('is quiet when the sysctl is on, or in packet mode', () => {
    assert.equal(
      nonlocalBindProblem(config('proxy'), () => '1\n'),
      null,
    );
    assert.equal(
      nonlocalBindProblem(config('packet'), () => '0\n'),
      null,
    );
  });
});
