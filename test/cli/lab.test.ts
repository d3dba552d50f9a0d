/**
 * `tslvs lab` through its command line: up, status --json, run (the trace), down — and nothing left
 * behind. Root only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { run } from '../../src/tools/exec.js';
import { labLeftovers } from '../../src/tools/lab/lab.js';
import { runCli } from '../helpers/cli.js';
import { programSkipReason, rootSkipReason } from '../helpers/env.js';
import { uniquePrefix } from '../helpers/lab.js';

const skip = rootSkipReason() ?? programSkipReason('curl') ?? programSkipReason('tcpdump');

interface Status {
  up: boolean;
  mode: string;
  vip: string;
  ports: { tcp: number; udp: number };
  namespaces: Record<string, string>;
  addresses: Record<string, string[]>;
  master: string | null;
  processes: { alive: boolean }[];
}

test('tslvs lab up / status --json / down (fnat: four real servers, one behind the router)', {
  skip: skip ?? false,
  timeout: 180_000,
}, async () => {
  const prefix = uniquePrefix();
  try {
    const up = runCli(['lab', 'up', '--mode', 'fnat', '--prefix', prefix]);
    assert.equal(up.code, 0, up.stderr);
    const st = JSON.parse(runCli(['lab', 'status', '--json', '--prefix', prefix]).stdout) as Status;
    assert.equal(st.up, true);
    assert.equal(st.mode, 'fnat');
    assert.deepEqual(
      Object.values(st.namespaces).sort(),
      ['client', 'director', 'router', 'rs1', 'rs2', 'rs3', 'rs4'].map((r) => `${prefix}-${r}`).sort(),
    );
    assert.equal(st.master, 'director');
    assert.ok(st.ports.tcp > 0 && st.ports.udp > 0);
    assert.deepEqual(st.addresses.rs4, ['10.10.2.14']);
    assert.ok(st.processes.every((p) => p.alive));
    const names = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = await run([
        'ip',
        'netns',
        'exec',
        `${prefix}-client`,
        'curl',
        '-s',
        '-m',
        '5',
        `http://${st.vip}:${st.ports.tcp}/`,
      ]);
      const [name, client] = r.stdout.trim().split(' ');
      names.add(name!);
      assert.equal(client!.split(':')[0], st.addresses.client![0], 'the real server names the client it saw');
    }
    assert.deepEqual([...names].sort(), ['rs1', 'rs2', 'rs3', 'rs4']);
    const again = runCli(['lab', 'up', '--mode', 'dr', '--prefix', prefix]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already up/);
  } finally {
    const down = runCli(['lab', 'down', '--prefix', prefix]);
    assert.equal(down.code, 0, down.stderr);
  }
  const left = await labLeftovers(prefix);
  assert.deepEqual(left, { namespaces: [], links: [], processes: [] });
  const st = JSON.parse(runCli(['lab', 'status', '--json', '--prefix', prefix]).stdout) as Status;
  assert.equal(st.up, false);
});

test('tslvs lab run --mode dr: the trace shows replies going around the director', {
  skip: skip ?? false,
  timeout: 180_000,
}, async () => {
  const prefix = uniquePrefix();
  const r = runCli(['lab', 'run', '--mode', 'dr', '--prefix', prefix]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(
    lines.some((l) => /curl #1: rs\d 10\.10\.0\.2:\d+/.test(l)),
    r.stdout,
  );
  assert.ok(
    lines.some((l) => /at director +IP 10\.10\.0\.2\.\d+ > 10\.10\.0\.100\.80/.test(l)),
    'requests reach the director',
  );
  assert.ok(
    lines.some((l) => /at rs\d +IP 10\.10\.0\.2\.\d+ > 10\.10\.0\.100\.80/.test(l)),
    'and are forwarded to a real server',
  );
  assert.ok(
    lines.some((l) => /at client +IP 10\.10\.0\.100\.80 > 10\.10\.0\.2/.test(l)),
    'replies reach the client',
  );
  assert.ok(
    !lines.some((l) => /at director +IP 10\.10\.0\.100\.80 >/.test(l)),
    'no reply passes the director',
  );
  assert.deepEqual(
    await labLeftovers(prefix),
    { namespaces: [], links: [], processes: [] },
    'run takes down the lab it brought up',
  );
});
