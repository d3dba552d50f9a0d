import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseConfigText } from '../../src/control/config/load.js';
import { noteLine } from '../../src/control/keepalived/emit.js';
import { importKeepalived } from '../../src/control/keepalived/import.js';
import { fixturesDir, repoRoot } from '../helpers/paths.js';
import { isolated } from './config-helpers.js';

const dir = join(fixturesDir, 'keepalived');
const FIXTURES = [
  'sample',
  'lvs-dr',
  'lvs-nat',
  'misc-check',
  'http-digest',
  'dns-smtp',
  'unsupported',
  'include/keepalived',
];

const read = (p: string) => readFileSync(p, 'utf8');

for (const name of FIXTURES) {
  test(`import ${name}.conf matches the golden YAML and notes, and passes the config loader`, () => {
    const file = join(dir, `${name}.conf`);
    const result = importKeepalived(file);
    assert.equal(result.yaml, read(join(dir, `${name}.expected.yaml`)));
    const lines = result.notes.map(noteLine);
    assert.deepEqual(
      lines,
      read(join(dir, `${name}.notes.txt`))
        .split('\n')
        .filter(Boolean),
    );
    const { config } = parseConfigText(result.yaml, `${name}.yaml`, isolated);
    assert.equal(config.services.length, ((result.config.services as unknown[]) ?? []).length);
    // The header repeats every note, so the YAML alone tells the whole story.
    for (const n of result.notes)
      assert.ok(result.yaml.includes(`#   ${n.file}:${n.line}: ${n.statement}: `), n.statement);
  });

  test(`every note of ${name}.conf points at the line holding its statement`, () => {
    const base = dirname(join(dir, `${name}.conf`));
    for (const n of importKeepalived(join(dir, `${name}.conf`)).notes) {
      const source = read(join(base, n.file)).split('\n')[n.line - 1] ?? '';
      const keyword = n.statement.split(' ')[0]!;
      if (keyword === 'dataplane') continue; // about the output, anchored at the first virtual_server
      assert.ok(source.includes(keyword), `${n.file}:${n.line} should hold '${keyword}' but is '${source}'`);
    }
  });
}

test('keepalived semantics: retries become fall, delay_loop the interval, one success brings a server up', () => {
  const { config } = importKeepalived(join(dir, 'sample.conf'));
  const svc = (config.services as Record<string, Record<string, unknown>>[])[1]!;
  // HTTP_GET { connect_timeout 3; retry 3 } in a virtual_server with delay_loop 6
  assert.deepEqual(
    { ...svc.health, path: undefined },
    { kind: 'http', interval: '6s', timeout: '3s', rise: 1, fall: 4, path: undefined, expectStatus: 200 },
  );
});

test('a real server without a checker is always up (kind none), as in keepalived', () => {
  const { config } = importKeepalived(join(dir, 'lvs-dr.conf'));
  const udp = (config.services as Record<string, unknown>[])[1]!;
  assert.deepEqual(udp.health, { kind: 'none' });
});

test('misc_path becomes an argv list with keepalived quoting rules', () => {
  const { config } = importKeepalived(join(dir, 'misc-check.conf'));
  const rs = (config.services as { realServers: { health?: { command?: string[] } }[] }[])[0]!.realServers;
  assert.deepEqual(rs[1]!.health!.command, [
    '/usr/local/bin/pgcheck.sh',
    '-h',
    '192.168.200.7',
    '-p',
    '5432',
    'select 1',
  ]);
  assert.deepEqual(rs[2]!.health!.command, ['/bin/check', '--name', 'db three', '|', 'logger']);
});

test('includes are resolved relative to the including file, with globs, braces and loop detection', () => {
  const result = importKeepalived(join(dir, 'include', 'keepalived.conf'));
  const services = result.config.services as { address: string; realServers: { address: string }[] }[];
  assert.deepEqual(
    services.map((s) => s.address),
    ['192.168.31.10:80', '192.168.31.10:53'],
  );
  assert.deepEqual(
    services[1]!.realServers.map((r) => r.address),
    ['192.168.31.21:53', '192.168.31.23:53'],
  );
  assert.ok(result.notes.some((n) => n.file === 'loop/back.conf' && /include loop/.test(n.reason)));
  assert.ok(result.notes.some((n) => n.statement === 'include missing/*.conf'));
});

test('the YAML header and the data agree: comments do not change the parsed document', () => {
  const result = importKeepalived(join(dir, 'lvs-nat.conf'));
  assert.deepEqual(parseYaml(result.yaml), JSON.parse(JSON.stringify(result.config)));
});

test('tslvs import-keepalived prints YAML on stdout and the notes on stderr', () => {
  const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cli, 'import-keepalived', ...args], { encoding: 'utf8', timeout: 20_000 });
  const ok = run(join(dir, 'lvs-dr.conf'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, read(join(dir, 'lvs-dr.expected.yaml')));
  assert.equal(ok.stderr, read(join(dir, 'lvs-dr.notes.txt')));
  const missing = run(join(dir, 'no-such.conf'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no-such\.conf: cannot read/);
  assert.equal(run().status, 2);
  assert.equal(run('a.conf', 'b.conf').status, 2);
  assert.equal(run('--help').status, 0);
});
