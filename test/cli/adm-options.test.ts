import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AdmCommand, toCommand } from '../../src/cli/adm/command.js';
import { AdmUsageError, parseArgs } from '../../src/cli/adm/options.js';

const parse = (...argv: string[]): AdmCommand => toCommand(parseArgs(argv));

function usageError(argv: string[], message: string, tryHelp = false): void {
  assert.throws(
    () => parse(...argv),
    (err: unknown) => err instanceof AdmUsageError && err.message === message && err.tryHelp === tryHelp,
    `${argv.join(' ')} should fail with: ${message}`,
  );
}

describe('tslvs adm option grammar (ipvsadm 1.31 / popt)', () => {
  test('bundled, attached and long forms mean the same', () => {
    const forms = [
      ['-A', '-t', '10.0.0.1:80', '-s', 'rr'],
      ['-At', '10.0.0.1:80', '-srr'],
      ['-A', '-t10.0.0.1:80', '--scheduler=rr'],
      ['--add-service', '--tcp-service', '10.0.0.1:80', '--scheduler', 'rr'],
    ];
    for (const f of forms) {
      const c = parse(...f);
      assert.equal(c.cmd, 'add-service');
      if (c.cmd !== 'add-service') return;
      assert.deepEqual(c.service, { family: 4, ip: '10.0.0.1', port: 80, portGiven: true, protocol: 'tcp' });
      assert.equal(c.scheduler, 'rr');
    }
    const l = parse('-lnc');
    assert.equal(l.cmd === 'list' && l.what, 'connections');
  });

  test('defaults: wlc, -p without a value is 360 s, -a weight 1, -r without a port takes the service port', () => {
    const a = parse('-A', '-u', '[2001:db8::1]:53', '-p', '-o');
    assert.equal(a.cmd, 'add-service');
    if (a.cmd !== 'add-service') return;
    assert.equal(a.scheduler, 'wlc');
    assert.deepEqual(a.persistent, { timeout: 360, prefixLength: null });
    assert.equal(a.ops, true);
    assert.equal(a.service.family, 6);
    const p = parse('-A', '-t', '10.0.0.1:80', '-p', '600', '-M', '255.255.255.0');
    assert.equal(p.cmd === 'add-service' && p.persistent?.timeout, 600);
    assert.equal(p.cmd === 'add-service' && p.persistent?.prefixLength, 24);
    const s = parse('-a', '-t', '10.0.0.1:80', '-r', '192.168.1.1', '-m');
    assert.equal(s.cmd, 'add-server');
    if (s.cmd !== 'add-server') return;
    assert.deepEqual([s.server.ip, s.server.port, s.weight, s.fwd], ['192.168.1.1', 80, 1, 'nat']);
    const e = parse(
      '-e',
      '-t',
      '10.0.0.1:80',
      '-r',
      '192.168.1.1:8080',
      '-w',
      '0',
      '-x',
      '10',
      '-y',
      '5',
      '--fullnat',
    );
    assert.equal(
      e.cmd === 'edit-server' && `${e.weight}/${e.uThreshold}/${e.lThreshold}/${e.fwd}`,
      '0/10/5/fnat',
    );
    const set = parse('--set', '900', '0', '300');
    assert.deepEqual(set, { cmd: 'set', tcp: 900, tcpFin: 0, udp: 300 });
  });

  test("usage errors carry ipvsadm's messages", () => {
    usageError(['-n', '-L'], '', true);
    usageError(['10.0.0.1'], '', true);
    usageError(['-L', '-A'], 'multiple commands specified');
    usageError(
      ['-A', '-t', '1.2.3.4:80', '-u', '1.2.3.4:81'],
      "multiple 'service-address' options specified",
    );
    usageError(
      ['-a', '-t', '1.2.3.4:80', '-r', '1.2.3.5', '-g', '-m'],
      "multiple 'forwarding-method' options specified",
    );
    usageError(['-A'], "You need to supply the 'service-address' option for the 'add-service' command");
    usageError(
      ['-a', '-t', '1.2.3.4:80'],
      "You need to supply the 'real-server' option for the 'add-server' command",
    );
    usageError(
      ['-A', '-t', '1.2.3.4:80', '-w', '3'],
      "Illegal 'weight' option with the 'add-service' command",
    );
    usageError(['-C', '-n'], "Illegal 'numeric' option with the 'flush' command");
    usageError(
      ['-L', '-c', '--timeout'],
      "The option 'timeout' conflicts with the 'connection' option in the 'list' command",
    );
    usageError(['-L', '-c', '--stats'], 'options conflicts in the list command');
    usageError(['-L', '--timeout', '--persistent-conn'], 'options conflicts in the list command');
    usageError(['-A', '-t', '1.2.3.4'], 'Zero port specified for non-persistent service');
    usageError(['-A', '-t', '1.2.3.4:80', '-o'], 'One-Packet Scheduling is only for UDP virtual services');
    usageError(['-A', '-t', 'web.example:80'], 'illegal virtual server address[:port] specified');
    usageError(['-A', '-t', '80'], 'illegal virtual server address[:port] specified');
    usageError(
      ['-a', '-t', '1.2.3.4:80', '-r', '1.2.3.5:99999'],
      'illegal real server address[:port] specified',
    );
    usageError(['-a', '-t', '1.2.3.4:80', '-r', '1.2.3.5', '-w', '65536'], 'illegal weight specified');
    usageError(['-a', '-t', '1.2.3.4:80', '-r', '1.2.3.5', '-x', '-1'], 'illegal u_threshold specified');
    usageError(['-A', '-t', '1.2.3.4:80', '-p', '0'], "invalid timeout value `0' specified");
    usageError(
      ['-A', '-t', '1.2.3.4:80', '-p', '60', '-M', '255.0.255.0'],
      'illegal virtual server persistent mask specified',
    );
    usageError(['--set', '1', '2'], '--set option requires 3 timeout values');
    usageError(['--set', '1', '2', 'x'], "invalid timeout value `x' specified");
    usageError(['--set', '1', '2', '3', '4'], 'unexpected argument 4');
    usageError(['-L', 'extra'], 'unexpected argument extra');
    usageError(
      ['-A', '-t', '1.2.3.4:80', '-s', 'rr', '-b', 'sh-port'],
      "incompatible scheduler flag `sh-port'",
    );
    usageError(['-A', '-t', '1.2.3.4:80', '-b', 'nope'], "invalid scheduler flag `nope'");
    usageError(['--frobnicate'], '--frobnicate: unknown option');
    usageError(['-Lq'], '-Lq: unknown option');
    usageError(['-L', '-t'], '-t: missing argument');
  });

  test('what tslvs does not do is refused clearly', () => {
    assert.throws(() => parse('-A', '-f', '10'), /firewall-mark services/);
    assert.throws(() => parse('--start-daemon', 'master'), /sync daemon/);
    assert.throws(
      () => parse('-a', '-t', '1.2.3.4:80', '-r', '1.2.3.5', '-i', '--tun-type', 'gue'),
      /only ipip/,
    );
  });
});
