import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createExecChecker, OUTPUT_LIMIT, substituteTokens } from '../../src/health/exec.js';
import type { ExecSpec } from '../../src/health/spec.js';
import { activeResources, assertNoLeak, BASE, isAlive, loopback, signal, waitFor } from './support.js';

const node = process.execPath;
const exec = (command: string[], over: Partial<ExecSpec> = {}): ExecSpec => ({
  ...BASE,
  kind: 'exec',
  command,
  timeoutMs: 5000,
  ...over,
});

/** 'pids 123 456' printed by a script -> [123, 456]. */
function pidsIn(text: string | undefined): number[] {
  const m = /pids ([\d ]+)/.exec(text ?? '');
  assert.ok(m, `no pids in output: ${text}`);
  return m[1]!.trim().split(' ').map(Number);
}

test('exec: exit 0 is up, exit 1 is down with the last output line in the reason', async () => {
  const up = await createExecChecker(exec([node, '-e', 'process.exit(0)'])).check(loopback(80), signal());
  assert.deepEqual({ ok: up.ok, reason: up.reason }, { ok: true, reason: 'exit status 0' });

  const script = 'console.log("checking"); console.error("db unreachable"); process.exit(1)';
  const down = await createExecChecker(exec([node, '-e', script])).check(loopback(80), signal());
  assert.deepEqual(
    { ok: down.ok, reason: down.reason },
    { ok: false, reason: 'exit status 1: db unreachable' },
  );
  assert.match(down.detail ?? '', /checking/);
});

test('exec: {address}, {port} and {family} are substituted inside elements', async () => {
  const print = [node, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))'];
  const r4 = await createExecChecker(exec([...print, '{address}:{port}', 'fam={family}'])).check(
    loopback(8080),
    signal(),
  );
  assert.equal(r4.ok, true, r4.reason);
  assert.deepEqual(JSON.parse(r4.detail!), ['127.0.0.1:8080', 'fam=4']);

  const r6 = await createExecChecker(
    exec([...print, '[{address}]:{port}', '{family}'], { port: 9000 }),
  ).check(loopback(8080, '::1'), signal());
  assert.deepEqual(JSON.parse(r6.detail!), ['[::1]:9000', '6']);
  // a substituted value is not scanned again, unknown tokens stay as written
  assert.deepEqual(substituteTokens(['{other}', '{port}{port}'], loopback(1)), ['{other}', '11']);
});

test('exec: shell metacharacters in an element are passed literally (no shell)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslvs-exec-'));
  const marker = join(dir, 'pwned');
  try {
    const nasty = `; touch ${marker} #$(touch ${marker}) \`touch ${marker}\` | cat > ${marker} && echo`;
    const r = await createExecChecker(
      exec([node, '-e', 'console.log(JSON.stringify(process.argv[1]))', nasty]),
    ).check(loopback(80), signal());
    assert.equal(r.ok, true, r.reason);
    assert.equal(JSON.parse(r.detail!), nasty);
    assert.equal(existsSync(marker), false, 'a shell ran the metacharacters');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exec: a timeout kills the child and everything in its process group', async () => {
  // the child starts a grandchild sharing its stdout, prints both pids, then both wait forever
  const script = `
    const g = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'],
      { stdio: 'inherit' });
    console.log('pids', process.pid, g.pid);
    setInterval(() => {}, 1000);`;
  const baseline = activeResources();
  const r = await createExecChecker(exec([node, '-e', script], { timeoutMs: 1500 })).check(
    loopback(80),
    signal(),
  );
  assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'timeout after 1500ms' });
  const [child, grandchild] = pidsIn(r.detail);
  assert.equal(isAlive(child!), false, 'the child outlived its check');
  await waitFor(() => !isAlive(grandchild!), `grandchild ${grandchild} to die`);
  await assertNoLeak(baseline, ['ProcessWrap', 'PipeWrap', 'Timeout']);
});

test('exec: processes a script leaves behind do not outlive a successful check', async () => {
  const script = `
    const g = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'],
      { stdio: 'inherit' });
    console.log('pids', process.pid, g.pid);
    process.exit(0);`;
  const r = await createExecChecker(exec([node, '-e', script])).check(loopback(80), signal());
  assert.equal(r.ok, true, r.reason);
  const [, grandchild] = pidsIn(r.detail);
  await waitFor(() => !isAlive(grandchild!), `grandchild ${grandchild} to die`);
});

test('exec: abort kills the child and reports aborted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tslvs-exec-'));
  const pidFile = join(dir, 'pid');
  try {
    const script = `require('fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)`;
    const ac = new AbortController();
    const pending = createExecChecker(exec([node, '-e', script, pidFile])).check(loopback(80), ac.signal);
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 'the child to start');
    const child = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(isAlive(child), true);
    ac.abort();
    const r = await pending;
    assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'aborted' });
    assert.equal(isAlive(child), false, 'the child outlived its aborted check');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exec: output is capped to its tail; the reason prefers stderr', async () => {
  const script = `process.stdout.write('x'.repeat(${OUTPUT_LIMIT * 4})); console.error('the end'); process.exit(3)`;
  const r = await createExecChecker(exec([node, '-e', script])).check(loopback(80), signal());
  assert.equal(r.reason, 'exit status 3: the end');
  // stdout tail + '\n' + stderr tail
  assert.ok((r.detail ?? '').length <= 2 * OUTPUT_LIMIT + 1, `detail of ${r.detail?.length} chars`);
  assert.match(r.detail ?? '', /^x+\nthe end$/);
});

test('exec: a missing program is a failed result naming ENOENT', async () => {
  const r = await createExecChecker(exec(['/nonexistent/tslvs-check'])).check(loopback(80), signal());
  assert.equal(r.ok, false);
  assert.match(r.reason, /ENOENT/);
});

test('exec: an empty argv is rejected when the checker is built', () => {
  for (const command of [[], ['']]) {
    assert.throws(
      () => createExecChecker(exec(command)),
      (e: unknown) => (e as { code?: string }).code === 'TSLVS_ERR_INVALID_ARGUMENT',
    );
  }
});
