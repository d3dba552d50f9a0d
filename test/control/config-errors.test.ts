import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTslvsError, type TslvsError } from '../../src/errors.js';
import { parseYaml } from './config-helpers.js';

interface Issue {
  line: number;
  column: number;
  path: string;
  message: string;
  text: string;
}

function configError(text: string): TslvsError {
  try {
    parseYaml(text);
  } catch (err) {
    assert.ok(isTslvsError(err, 'TSLVS_ERR_CONFIG'), `expected TSLVS_ERR_CONFIG, got ${String(err)}`);
    return err;
  }
  assert.fail('the config was accepted');
}

/** 1-based line and column of the only occurrence of `token` in `text`. */
function positionOf(text: string, token: string): { line: number; column: number } {
  const at = text.indexOf(token);
  assert.ok(at >= 0 && text.indexOf(token, at + 1) < 0, `'${token}' must occur exactly once`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

const svc = (body: string) =>
  `services:\n  - name: web\n    address: 10.0.0.1:80\n${body}    realServers:\n      - { address: 10.0.1.1:80 }\n`;

interface Case {
  name: string;
  yaml: string;
  /** Text whose position the error must point at. */
  at: string;
  path: string;
  message: RegExp;
}

const cases: Case[] = [
  {
    name: 'unknown scheduler',
    yaml: svc('    scheduler: wrx\n'),
    at: 'wrx',
    path: 'services[0].scheduler',
    message: /must be one of rr, wrr, .* \(got 'wrx'\)/,
  },
  {
    name: 'unknown scheduler in the object form',
    yaml: svc('    scheduler: { name: magic, flags: [mh-port] }\n'),
    at: 'magic',
    path: 'services[0].scheduler.name',
    message: /must be one of rr, .*\(got 'magic'\)/,
  },
  {
    name: 'bad address',
    yaml: svc('    sorryServer: 10.0.0.300:80\n'),
    at: '10.0.0.300:80',
    path: 'services[0].sorryServer',
    message: /'10\.0\.0\.300' is not an IP address/,
  },
  {
    name: 'unquoted IPv6 endpoint',
    yaml: 'services:\n  - { name: a, address: "[::1]:80", realServers: [{ address: [::1] }] }\n',
    at: '[::1] }',
    path: 'services[0].realServers[0].address',
    message: /IPv6 endpoints must be quoted/,
  },
  {
    name: 'duplicate service',
    yaml: `${svc('')}  - name: web2\n    address: 10.0.0.1:80\n    realServers: []\n`,
    at: '10.0.0.1:80\n    realServers: []',
    path: 'services[1].address',
    message: /duplicate service: tcp 10\.0\.0\.1:80 is already defined by services\[0\]/,
  },
  {
    name: 'duplicate service name',
    yaml: `${svc('')}  - name: web\n    address: 10.0.0.2:80\n    realServers: []\n`,
    at: 'web\n    address: 10.0.0.2',
    path: 'services[1].name',
    message: /duplicate service name 'web'/,
  },
  {
    name: 'negative weight',
    yaml: 'services:\n  - name: web\n    address: 10.0.0.1:80\n    realServers:\n      - { address: 10.0.1.1:80 }\n      - { address: 10.0.1.2:80, weight: -1 }\n',
    at: '-1',
    path: 'services[0].realServers[1].weight',
    message: /^must be an integer >= 0 \(got -1\)$/,
  },
  {
    name: 'YAML syntax error',
    yaml: 'services:\n  - name: web\n    address: "10.0.0.1:80\n',
    at: '"10.0.0.1',
    path: '',
    message: /YAML syntax error/,
  },
  {
    name: 'YAML indentation error',
    yaml: 'services:\n  - name: web\n   address: 10.0.0.1:80\n',
    at: '   address',
    path: '',
    message: /YAML syntax error/,
  },
  {
    name: 'unknown key',
    yaml: svc('    helth: { kind: tcp }\n'),
    at: 'helth',
    path: 'services[0].helth',
    message: /unknown key \(did you mean 'health'\?\)/,
  },
  {
    name: 'unknown top-level key',
    yaml: `dataplain: { kind: proxy }\n${svc('')}`,
    at: 'dataplain',
    path: 'dataplain',
    message: /did you mean 'dataplane'/,
  },
  {
    name: 'exec command as a string',
    yaml: svc('    health: { kind: exec, command: "/bin/check {address}" }\n'),
    at: '"/bin/check',
    path: 'services[0].health.command',
    message: /list of arguments.*without a shell/,
  },
  {
    name: 'bad duration',
    yaml: svc('    health: { interval: 5 minutes }\n'),
    at: '5 minutes',
    path: 'services[0].health.interval',
    message: /must be a duration like 300s.*\(got '5 minutes'\)/,
  },
  {
    name: 'negative duration',
    yaml: svc('    connectTimeout: -3\n'),
    at: '-3',
    path: 'services[0].connectTimeout',
    message: /non-negative/,
  },
  {
    name: 'lowerThreshold above maxConnections',
    yaml: 'services:\n  - name: web\n    address: 10.0.0.1:80\n    realServers:\n      - { address: 10.0.1.1:80, maxConnections: 5, lowerThreshold: 10 }\n',
    at: '10 }',
    path: 'services[0].realServers[0].lowerThreshold',
    message: /must not exceed maxConnections \(10 > 5\)/,
  },
  {
    name: 'persistence netmask of the wrong family',
    yaml: 'services:\n  - { name: a, address: "[2001:db8::1]:80", persistence: { netmask: 255.255.255.0 }, realServers: [] }\n',
    at: '255.255.255.0',
    path: 'services[0].persistence.netmask',
    message: /prefix length 0-128 for an IPv6 service/,
  },
  {
    name: 'scheduler flag of another scheduler',
    yaml: svc('    scheduler: { name: wrr, flags: [sh-port] }\n'),
    at: 'sh-port',
    path: 'services[0].scheduler.flags[0]',
    message: /only applies to the sh scheduler/,
  },
  {
    name: 'bad status code range',
    yaml: svc('    health: { kind: http, expectStatus: [200, "299-200"] }\n'),
    at: '"299-200"',
    path: 'services[0].health.expectStatus[1]',
    message: /ranges like "200-299" \(got '299-200'\)/,
  },
  {
    name: 'mh table size not prime',
    yaml: svc('    scheduler: { name: mh, mhTableSize: 4096 }\n'),
    at: '4096',
    path: 'services[0].scheduler.mhTableSize',
    message: /prime/,
  },
  {
    name: 'health key of another kind',
    yaml: svc('    health: { kind: tcp, path: /healthz }\n'),
    at: '/healthz',
    path: 'services[0].health.path',
    message: /does not apply to 'tcp' checks \(only to http, https\)/,
  },
  {
    name: 'dns query key on an smtp check',
    yaml: svc('    health: { kind: smtp, query: example.com }\n'),
    at: 'example.com',
    path: 'services[0].health.query',
    message: /does not apply to 'smtp' checks \(only to dns\)/,
  },
  {
    name: 'dns record type unknown',
    yaml: svc('    health: { kind: dns, queryType: HINFO }\n'),
    at: 'HINFO',
    path: 'services[0].health.queryType',
    message: /A.*AAAA/,
  },
  {
    name: 'dns query not a domain name',
    yaml: svc('    health: { kind: dns, query: "bad name" }\n'),
    at: '"bad name"',
    path: 'services[0].health.query',
    message: /must be a domain name/,
  },
  {
    name: 'PROXY v1 on udp',
    yaml: 'services:\n  - { name: a, protocol: udp, address: 10.0.0.1:53, proxyProtocol: v1, realServers: [] }\n',
    at: 'v1',
    path: 'services[0].proxyProtocol',
    message: /v1 carries TCP only/,
  },
  {
    name: 'VIP/RS family mismatch in packet mode',
    yaml: `dataplane: { kind: packet, interface: eth0 }\n${svc('').replace('10.0.1.1:80', '"[2001:db8::1]:80"')}`,
    at: '"[2001:db8::1]:80"',
    path: 'services[0].realServers[0].address',
    message: /is IPv6 but the service is IPv4/,
  },
  {
    name: 'DR cannot change the port',
    yaml: `dataplane: { kind: packet, interface: eth0 }\n${svc('').replace('10.0.1.1:80', '10.0.1.1:8080')}`,
    at: '10.0.1.1:8080',
    path: 'services[0].realServers[0].address',
    message: /dr forwarding cannot change the port/,
  },
  {
    name: 'fnat without local addresses',
    yaml: `dataplane: { kind: packet, interface: eth0 }\n${svc('    forwarding: fnat\n')}`,
    at: 'fnat',
    path: 'services[0].forwarding',
    message: /fnat needs an IPv4 address in dataplane.localAddresses/,
  },
  {
    name: 'local address with a prefix',
    yaml: 'dataplane: { kind: packet, interface: eth0, localAddresses: [10.0.2.1/24] }\n',
    at: '10.0.2.1/24',
    path: 'dataplane.localAddresses[0]',
    message: /without a \/prefix/,
  },
  {
    name: 'VRRP trackHealth of an unknown service',
    yaml: `${svc('')}ha:\n  vrrp:\n    - { name: VI_1, interface: eth0, virtualRouterId: 51, virtualAddresses: [10.0.0.1], trackHealth: [{ service: wbe, weight: -20 }] }\n`,
    at: 'wbe',
    path: 'ha.vrrp[0].trackHealth[0].service',
    message: /no service is named 'wbe'/,
  },
  {
    name: 'VRRPv2 sub-second advert',
    yaml: 'ha:\n  vrrp:\n    - { name: VI_1, interface: eth0, virtualRouterId: 51, advertInterval: 500ms, virtualAddresses: [10.0.0.1] }\n',
    at: '500ms',
    path: 'ha.vrrp[0].advertInterval',
    message: /whole seconds/,
  },
  {
    name: 'VRRP auth password too long',
    yaml: 'ha:\n  vrrp:\n    - { name: VI_1, interface: eth0, virtualRouterId: 51, authPass: "123456789", virtualAddresses: [10.0.0.1] }\n',
    at: '"123456789"',
    path: 'ha.vrrp[0].authPass',
    message: /at most 8 characters/,
  },
  {
    name: 'virtual router id out of range',
    yaml: 'ha:\n  vrrp:\n    - { name: VI_1, interface: eth0, virtualRouterId: 256, virtualAddresses: [10.0.0.1] }\n',
    at: '256',
    path: 'ha.vrrp[0].virtualRouterId',
    message: /must be an integer <= 255 \(got 256\)/,
  },
  {
    name: 'missing required key',
    yaml: 'services:\n  - name: web\n    realServers: []\n',
    at: 'name: web',
    path: 'services[0].address',
    message: /^is required$/,
  },
];

for (const c of cases) {
  test(`config error: ${c.name}`, () => {
    const err = configError(c.yaml);
    const want = positionOf(c.yaml, c.at);
    const issues = err.details.issues as Issue[];
    const issue = issues.find((i) => i.path === c.path);
    assert.ok(issue, `no issue at ${c.path}; got ${JSON.stringify(issues)}`);
    assert.match(issue.message, c.message);
    assert.deepEqual({ line: issue.line, column: issue.column }, want);
    assert.equal(
      issue.text,
      `test.yaml:${want.line}:${want.column}: ${c.path ? `${c.path}: ` : ''}${issue.message}`,
    );
    assert.ok(err.message.split('\n').includes(issue.text), 'the message lists the issue');
    if (issues[0] === issue) {
      assert.deepEqual(
        { line: err.details.line, column: err.details.column, path: err.details.path },
        { ...want, path: c.path },
      );
    }
  });
}

test('every problem is reported at once, in file order', () => {
  const err = configError(`services:
  - name: web
    protocol: tpc
    address: 10.0.0.1:80
    scheduler: wrx
    realServers:
      - { address: 10.0.1.1:80, weight: -1, wieght: 2 }
`);
  const issues = err.details.issues as Issue[];
  assert.deepEqual(
    issues.map((i) => i.path),
    [
      'services[0].protocol',
      'services[0].scheduler',
      'services[0].realServers[0].weight',
      'services[0].realServers[0].wieght',
    ],
  );
  assert.equal(err.message.split('\n').length, 4);
});

test('an empty file, a list, and two documents are rejected with positions', () => {
  assert.match(configError('').message, /^test\.yaml:1:1: the file is empty$/);
  assert.match(configError('# only a comment\n').message, /the file is empty/);
  assert.match(configError('- a\n- b\n').message, /^test\.yaml:1:1: must be a mapping \(got a list\)$/);
  assert.match(
    configError('services: []\n---\nservices: []\n').message,
    /^test\.yaml:2:1: YAML syntax error/,
  );
});

test('duplicate keys are YAML errors at the second key', () => {
  const yaml = 'services: []\nlog: { level: info }\nservices: []\n';
  const err = configError(yaml);
  assert.match(err.message, /^test\.yaml:3:1: YAML syntax error: Map keys must be unique/);
});

test('error positions follow YAML anchors to where the value is written', () => {
  const yaml = `x-health: &h { kind: http, pth: /x }
services:
  - { name: a, address: 10.0.0.1:80, health: *h, realServers: [] }
`;
  const err = configError(yaml);
  const issues = err.details.issues as Issue[];
  assert.equal(issues.length, 1, 'top-level x- keys hold anchors and are not config');
  const pth = issues.find((i) => i.path === 'services[0].health.pth');
  assert.ok(pth, JSON.stringify(issues));
  assert.deepEqual({ line: pth.line, column: pth.column }, positionOf(yaml, 'pth'));
});
