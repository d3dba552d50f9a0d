import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { api, startDaemon, type TestDaemon } from '../control/api/support.js';
import { adm, GOLDEN_CONFIG, golden } from './adm-support.js';

describe('tslvs adm changes', () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon(GOLDEN_CONFIG, { portCount: 4 });
  });
  after(() => d.close());

  const vip = (i: number) => `127.0.0.1:${d.ports[i]}`;

  test('-S, then -C, then -R gives the same state', async () => {
    const saved = await adm(d.url, ['-S', '-n']);
    const listed = await adm(d.url, ['-L', '-n']);
    const thresholds = await adm(d.url, ['-L', '-n', '--thresholds']);
    assert.equal(saved.out, golden('save.txt', d.ports));
    assert.equal((await adm(d.url, ['-C'])).code, 0);
    assert.equal(
      (await adm(d.url, ['-L', '-n'])).out,
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n',
    );
    assert.equal((await api(d.url, 'GET', '/v1/services')).json.services.length, 0);
    const restored = await adm(d.url, ['-R'], { stdin: saved.out });
    assert.equal(restored.err, '');
    assert.equal(restored.code, 0);
    assert.equal((await adm(d.url, ['-S', '-n'])).out, saved.out);
    assert.equal((await adm(d.url, ['-L', '-n'])).out, listed.out);
    assert.equal((await adm(d.url, ['-L', '-n', '--thresholds'])).out, thresholds.out);
    // A second restore of the same rules meets existing services: refused, and nothing changes.
    const again = await adm(d.url, ['-R'], { stdin: saved.out });
    assert.equal(again.code, 1);
    assert.equal(again.err, 'line 1: Service already exists\n');
    assert.equal((await adm(d.url, ['-S', '-n'])).out, saved.out);
  });

  test('a restore is all or nothing; its lines may start with ipvsadm and hold comments', async () => {
    const before = (await adm(d.url, ['-S'])).out;
    const input = `# added by hand\nipvsadm -A -t ${vip(3)} -s rr\n\n-a -t ${vip(3)} -r 10.9.0.1:80 -m\n-e -t ${vip(0)} -r 10.99.99.99:80 -w 2\n`;
    const r = await adm(d.url, ['-R'], { stdin: input });
    assert.equal(r.code, 1);
    assert.equal(r.err, 'line 5: No such destination\n');
    assert.equal((await adm(d.url, ['-S'])).out, before);
    const bad = await adm(d.url, ['-R'], { stdin: `-A -t ${vip(3)}\n-L -n\n` });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^line 2: '-L -n' cannot be restored/);
    const usage = await adm(d.url, ['-R'], { stdin: `-A -t ${vip(3)} -w 1\n` });
    assert.equal(usage.code, 2);
    assert.equal(usage.err, "line 1: Illegal 'weight' option with the 'add-service' command\n");
  });

  test('-A, -a, -e, -E, -d, -D as ipvsadm: -E and -e reset what they are not given', async () => {
    const svc = vip(3);
    assert.deepEqual(await adm(d.url, ['-A', '-t', svc, '-s', 'sh', '-b', 'sh-port', '-p', '120']), {
      code: 0,
      out: '',
      err: '',
    });
    assert.equal((await adm(d.url, ['-A', '-t', svc])).err, 'Service already exists\n');
    assert.equal(
      (await adm(d.url, ['-a', '-t', svc, '-r', '10.5.0.1:80', '-m', '-w', '4', '-x', '50'])).code,
      0,
    );
    assert.equal(
      (await adm(d.url, ['-a', '-t', svc, '-r', '10.5.0.1:80'])).err,
      'Destination already exists\n',
    );
    assert.equal(
      (await adm(d.url, ['-L', '-n', '-t', svc])).out.split('\n')[2],
      `TCP  ${svc} sh (sh-port) persistent 120`,
    );
    const named = (await api(d.url, 'GET', `/v1/services/tcp-127.0.0.1-${d.ports[3]}`)).json;
    assert.equal(named.realServers[0].configuredWeight, 4);
    // -e without -w, -x or a method: weight 1, no threshold, the service's method (ipvsadm_update_dest).
    assert.equal((await adm(d.url, ['-e', '-t', svc, '-r', '10.5.0.1:80'])).code, 0);
    assert.equal(
      (await adm(d.url, ['-S', '-n'])).out.split('\n').find((l) => l.includes('10.5.0.1')),
      `-a -t ${svc} -r 10.5.0.1:80 -g -w 1`,
    );
    // -E without -p drops persistence and without -b the flags; the scheduler defaults to wlc.
    assert.equal((await adm(d.url, ['-E', '-t', svc])).code, 0);
    assert.equal((await adm(d.url, ['-L', '-n', '-t', svc])).out.split('\n')[2], `TCP  ${svc} wlc`);
    assert.equal((await adm(d.url, ['-e', '-t', vip(1), '-r', '10.5.0.1:80'])).err, 'Service not defined\n');
    assert.equal((await adm(d.url, ['-d', '-t', svc, '-r', '10.5.0.1:80'])).code, 0);
    assert.equal((await adm(d.url, ['-d', '-t', svc, '-r', '10.5.0.1:80'])).err, 'No such destination\n');
    assert.equal((await adm(d.url, ['-D', '-t', svc])).code, 0);
    assert.equal((await adm(d.url, ['-D', '-t', svc])).err, 'No such service\n');
    assert.equal((await adm(d.url, ['-L', '-t', svc])).code, 1);
  });

  test('--set, -Z, and changes without a token', async () => {
    assert.equal((await adm(d.url, ['--set', '3600', '0', '60'])).code, 0);
    assert.equal((await adm(d.url, ['-L', '--timeout'])).out, 'Timeout (tcp tcpfin udp): 3600 120 60\n');
    assert.equal((await adm(d.url, ['-Z'])).code, 0);
    assert.equal((await adm(d.url, ['-Z', '-t', vip(0)])).code, 0);
    assert.equal((await adm(d.url, ['-Z', '-t', vip(3)])).err, 'No such service\n');
    const anon = await adm(d.url, ['--set', '1', '1', '1'], { token: null });
    assert.equal(anon.code, 1);
    assert.match(anon.err, /Authorization: Bearer <token>.*TSLVS_TOKEN/);
    assert.equal(
      (await adm(d.url, ['-L', '--timeout'], { token: null })).out,
      'Timeout (tcp tcpfin udp): 3600 120 60\n',
    );
  });

  test('an unreachable daemon is exit status 1 with a clear message', async () => {
    const r = await adm('http://127.0.0.1:1', ['-L', '-n']);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot reach the tslvs daemon at http:\/\/127\.0\.0\.1:1/);
  });
});
