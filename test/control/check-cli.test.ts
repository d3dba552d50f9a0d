import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixturesDir, repoRoot } from '../helpers/paths.js';

const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'tslvs-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(...args: string[]) {
  const env = { ...process.env };
  delete env.TSLVS_TOKEN;
  const r = spawnSync(process.execPath, [cli, 'check', ...args], { encoding: 'utf8', env, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('check prints OK with counts and exits 0', () => {
  const file = join(fixturesDir, 'config', 'issue-example.yaml');
  const r = check('-c', file);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${file}: OK (1 services, 1 real servers)\n`);
  assert.equal(r.stderr, '');
});

test('check prints every error on its own line and exits 1', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    'services:\n  - name: web\n    address: 10.0.0.1:80\n    scheduler: wrx\n    realServers:\n      - { address: 10.0.1.1:80, weight: -1 }\n',
  );
  const r = check('-c', file);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(
    lines[0]!,
    new RegExp(`^${file.replaceAll('.', '\\.')}:4:16: services\\[0\\]\\.scheduler: must be one of`),
  );
  assert.match(
    lines[1]!,
    /:6:41: services\[0\]\.realServers\[0\]\.weight: must be an integer >= 0 \(got -1\)$/,
  );
});

test('check --json prints the normalized config', () => {
  const r = check('--json', '-c', join(fixturesDir, 'config', 'minimal.yaml'));
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.services[0].address, '127.0.0.1:8080');
  assert.equal(json.services[0].realServers[0].health.intervalMs, 2000);
});

test('warnings go to stderr and do not fail the check', () => {
  const file = join(dir, 'warn.yaml');
  const line2 = '  - { name: a, address: 127.0.0.1:80, quorum: 3, realServers: [] }';
  writeFileSync(file, `services:\n${line2}\n`);
  const r = check('-c', file);
  assert.equal(r.code, 0);
  const column = line2.indexOf('3,') + 1;
  assert.ok(
    r.stderr.includes(`:2:${column}: warning: services[0].quorum: is 3 but the service has 0 real server`),
    r.stderr,
  );
});

test('usage errors exit 2; a missing file exits 1; --help exits 0', () => {
  assert.equal(check().code, 2);
  assert.equal(check('-c').code, 2);
  assert.equal(check('--bogus', '-c', 'x.yaml').code, 2);
  const missing = check('-c', join(dir, 'nope.yaml'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.yaml: cannot read the config file \(ENOENT\)/);
  const help = check('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: tslvs check -c FILE/);
});
