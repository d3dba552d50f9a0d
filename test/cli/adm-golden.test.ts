import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../control/api/support.js';
import { adm, GOLDEN_CONFIG, golden } from './adm-support.js';

describe('tslvs adm output matches ipvsadm 1.31 (golden files)', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon(GOLDEN_CONFIG, { portCount: 3 });
    for (const p of d.ports) assert.equal(String(p).length, 5, 'the golden files assume 5-digit ports');
  });
  after(() => d.close());

  const cases: [string, string[]][] = [
    ['list.txt', ['-L', '-n']],
    ['list.txt', ['-ln']],
    ['list.txt', ['--list', '--numeric', '--sort']],
    ['list-service.txt', ['-L', '-n', '-t', '127.0.0.2:PORT1']],
    ['list-stats.txt', ['-L', '-n', '--stats']],
    ['list-rate.txt', ['-L', '-n', '--rate']],
    ['list-thresholds.txt', ['-L', '-n', '--thresholds']],
    ['list-persistent-conn.txt', ['-L', '-n', '--persistent-conn']],
    ['save.txt', ['-S', '-n']],
    ['save.txt', ['--save']],
    ['timeout.txt', ['-L', '--timeout']],
  ];
  for (const [file, argv] of cases) {
    test(`${argv.join(' ')} = ${file}`, async () => {
      const args = argv.map((a) => a.replace(/PORT(\d)/g, (_m, i: string) => String(d.ports[Number(i)])));
      const r = await adm(d.url, args);
      assert.equal(r.err, '');
      assert.equal(r.code, 0);
      assert.equal(r.out, golden(file, d.ports));
    });
  }

  test('no arguments lists the table, as ipvsadm does', async () => {
    const r = await adm(d.url, []);
    assert.equal(r.out, golden('list.txt', d.ports));
  });

  test('-c prints the connection table header and one line per session', async () => {
    const r = await adm(d.url, ['-L', '-n', '-c']);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      'IPVS connection entries\npro expire state       source             virtual            destination\n',
    );
  });
});
