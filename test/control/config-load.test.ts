import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { configToJson } from '../../src/control/config/json.js';
import { loadConfigFile } from '../../src/control/config/load.js';
import { formatEndpoint, formatIp } from '../../src/engine/addr.js';
import { DEFAULT_SCHEDULER_OPTIONS } from '../../src/engine/schedulers/names.js';
import { HEALTH_DEFAULTS } from '../../src/health/spec.js';
import { fixturesDir, repoRoot } from '../helpers/paths.js';
import { isolated, parseYaml } from './config-helpers.js';

test('the example from the issue parses to the documented values', async () => {
  const { config, warnings } = await loadConfigFile(join(fixturesDir, 'config', 'issue-example.yaml'), {
    env: {},
  });
  assert.deepEqual(warnings, []);
  assert.equal(formatEndpoint(config.admin.listen), '127.0.0.1:9090');
  assert.equal(config.admin.token, 's3cret-token');
  assert.deepEqual(config.dataplane, { kind: 'proxy' });
  const [web] = config.services;
  assert.ok(web);
  assert.equal(web.name, 'web');
  assert.equal(web.protocol, 'tcp');
  assert.equal(formatEndpoint(web.address), '127.0.0.1:8080');
  assert.equal(web.scheduler.name, 'wrr');
  assert.deepEqual(web.persistence, { timeoutMs: 300_000, prefixLength: 24 });
  assert.equal(web.proxyProtocol, 'off');
  assert.deepEqual(web.health, {
    kind: 'http',
    intervalMs: 2000,
    timeoutMs: 1000,
    rise: 2,
    fall: 3,
    method: 'GET',
    path: '/healthz',
    expectStatus: [200],
    tlsVerify: false,
  });
  assert.equal(formatEndpoint(web.sorryServer!), '127.0.0.1:8999');
  assert.equal(web.quorum, 1);
  assert.equal(web.inhibitOnFailure, false);
  assert.equal(web.realServers.length, 1);
  const rs = web.realServers[0]!;
  assert.equal(formatEndpoint(rs.address), '127.0.0.1:9001');
  assert.equal(rs.weight, 3);
  assert.equal(rs.maxConnections, 0);
  assert.deepEqual(rs.health, web.health);
});

test('the shipped examples check cleanly', async () => {
  for (const name of ['proxy.yaml', 'packet.yaml']) {
    const { config, warnings } = await loadConfigFile(join(repoRoot, 'examples', name), { env: {} });
    assert.deepEqual(warnings, [], name);
    assert.ok(config.services.length >= 3, name);
  }
});

test('a minimal config gets every default', () => {
  const text = readFileSync(join(fixturesDir, 'config', 'minimal.yaml'), 'utf8');
  const { config } = parseYaml(text);
  assert.deepEqual(configToJson(config), {
    admin: { listen: '127.0.0.1:9090', token: null },
    dataplane: { kind: 'proxy' },
    timeouts: { tcpMs: 900_000, tcpFinMs: 120_000, udpMs: 300_000 },
    conntable: { size: 1_048_576 },
    log: { level: 'info' },
    services: [
      {
        name: 'web',
        protocol: 'tcp',
        address: '127.0.0.1:8080',
        scheduler: { name: 'wlc', options: { ...DEFAULT_SCHEDULER_OPTIONS } },
        persistence: null,
        proxyProtocol: 'off',
        health: { kind: 'tcp', ...HEALTH_DEFAULTS },
        sorryServer: null,
        quorum: 1,
        hysteresis: 0,
        inhibitOnFailure: false,
        expireOnFailure: false,
        connectTimeoutMs: 3000,
        idleTimeoutMs: 900_000,
        tcpNoDelay: true,
        forwarding: 'dr',
        onePacket: false,
        realServers: [
          {
            address: '127.0.0.1:9001',
            weight: 1,
            maxConnections: 0,
            lowerThreshold: 0,
            forwarding: 'dr',
            inhibitOnFailure: false,
            health: { kind: 'tcp', ...HEALTH_DEFAULTS },
          },
        ],
      },
    ],
    ha: { vrrp: [], sync: null },
  });
});

test('durations accept units, compounds and plain seconds', () => {
  const cases: [string, number][] = [
    ['300s', 300_000],
    ['2s', 2000],
    ['1m', 60_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['45', 45_000],
    ['1.5', 1500],
  ];
  for (const [text, ms] of cases) {
    const { config } = parseYaml(
      `services:\n  - name: a\n    address: 127.0.0.1:80\n    connectTimeout: ${text}\n    realServers: []\n`,
    );
    assert.equal(config.services[0]!.connectTimeoutMs, ms, text);
  }
});

test('udp services default to no health check, idle timeout from timeouts.udp', () => {
  const { config } = parseYaml(
    'timeouts: { udp: 42s }\nservices:\n  - { name: d, protocol: udp, address: 127.0.0.1:53, realServers: [{ address: 127.0.0.1 }] }\n',
  );
  const d = config.services[0]!;
  assert.equal(d.health.kind, 'none');
  assert.equal(d.idleTimeoutMs, 42_000);
  assert.equal(
    formatEndpoint(d.realServers[0]!.address),
    '127.0.0.1:53',
    'RS port defaults to the service port',
  );
});

test('a real server health override is merged over the service check', () => {
  const { config } = parseYaml(`
services:
  - name: web
    address: 127.0.0.1:80
    health: { kind: http, path: /healthz, interval: 5s, expectStatus: [204, 200, 204, "301-302"] }
    realServers:
      - address: 127.0.0.1:81
      - address: 127.0.0.1:82
        health: { path: /other, port: 9000 }
      - address: 127.0.0.1:83
        health: { kind: exec, command: [/bin/check, "{address}"] }
`);
  const [a, b, c] = config.services[0]!.realServers;
  assert.deepEqual(a!.health, config.services[0]!.health);
  assert.deepEqual(a!.health.kind === 'http' && a!.health.expectStatus, [200, 204, 301, 302]);
  assert.equal(b!.health.kind, 'http');
  assert.equal(b!.health.kind === 'http' && b!.health.path, '/other');
  assert.equal(b!.health.port, 9000);
  assert.equal(b!.health.intervalMs, 5000);
  assert.deepEqual(c!.health, {
    kind: 'exec',
    intervalMs: 5000,
    timeoutMs: HEALTH_DEFAULTS.timeoutMs,
    rise: HEALTH_DEFAULTS.rise,
    fall: HEALTH_DEFAULTS.fall,
    command: ['/bin/check', '{address}'],
  });
});

test('scheduler objects map flags to options', () => {
  const { config } = parseYaml(`
services:
  - { name: a, address: 127.0.0.1:80, scheduler: { name: mh, flags: [mh-port, mh-fallback], mhTableSize: 251 }, realServers: [] }
  - { name: b, address: 127.0.0.1:81, scheduler: { name: sh, flags: [sh-port], shTableBits: 12 }, realServers: [] }
`);
  assert.deepEqual(config.services[0]!.scheduler, {
    name: 'mh',
    options: { ...DEFAULT_SCHEDULER_OPTIONS, fallback: true, port: true, mhTableSize: 251 },
  });
  assert.deepEqual(config.services[1]!.scheduler, {
    name: 'sh',
    options: { ...DEFAULT_SCHEDULER_OPTIONS, port: true, shTableBits: 12 },
  });
});

test('IPv6 services, prefix-length persistence, VRRPv3 with addresses and peers', () => {
  const { config } = parseYaml(`
dataplane: { kind: packet, interface: eth0, localAddresses: ["2001:db8::2"] }
services:
  - name: v6
    address: "[2001:db8::10]:443"
    forwarding: fnat
    persistence: { netmask: 64 }
    realServers: [{ address: "[2001:db8:1::11]:8443" }]
ha:
  vrrp:
    - name: VI_6
      interface: eth0
      virtualRouterId: 61
      version: 3
      advertInterval: 250ms
      unicastPeers: ["fe80::2"]
      virtualAddresses: ["2001:db8::10/64", { address: "2001:db8::11", interface: eth1 }]
`);
  const s = config.services[0]!;
  assert.equal(s.persistence!.prefixLength, 64);
  assert.equal(s.persistence!.timeoutMs, 300_000);
  const vi = config.ha.vrrp[0]!;
  assert.equal(vi.advertIntervalMs, 250);
  assert.equal(vi.priority, 100);
  assert.deepEqual(
    vi.virtualAddresses.map((v) => [formatIp(v.addr), v.prefixLength, v.interface]),
    [
      ['2001:db8::10', 64, 'eth0'],
      ['2001:db8::11', 128, 'eth1'],
    ],
  );
});

test('the admin token comes from token, else tokenFile, else TSLVS_TOKEN', () => {
  const base = 'services: []\n';
  assert.equal(
    parseYaml(base, { ...isolated, env: { TSLVS_TOKEN: 'from-env' } }).config.admin.token,
    'from-env',
  );
  assert.equal(parseYaml(base).config.admin.token, null);
  const files = {
    ...isolated,
    env: { TSLVS_TOKEN: 'from-env' },
    readSecretFile: (p: string) => `file:${p}\n`,
  };
  assert.equal(parseYaml(`admin: { tokenFile: tok }\n${base}`, files).config.admin.token, 'file:tok');
  assert.equal(parseYaml(`admin: { token: inline }\n${base}`, files).config.admin.token, 'inline');
  const json = configToJson(parseYaml(`admin: { token: inline }\n${base}`).config) as {
    admin: { token: string };
  };
  assert.equal(json.admin.token, '<redacted>');
});

test('keys of the other data plane are warnings, not errors', () => {
  const { warnings } = parseYaml(`
dataplane: { kind: proxy, interface: eth0 }
services:
  - { name: a, address: 127.0.0.1:80, forwarding: nat, quorum: 2, realServers: [{ address: 127.0.0.1:81 }] }
`);
  assert.deepEqual(
    warnings.map((w) => [w.path.join('.'), w.line]),
    [
      ['dataplane.interface', 2],
      ['services.0.forwarding', 4],
      ['services.0.quorum', 4],
    ],
  );
});

test('tcpNoDelay: kept for tcp proxy services, a warning on udp services and in packet mode', () => {
  const proxy = parseYaml(`
services:
  - { name: a, address: 127.0.0.1:80, tcpNoDelay: false, realServers: [] }
  - { name: b, protocol: udp, address: 127.0.0.1:53, tcpNoDelay: false, realServers: [] }
`);
  assert.equal(proxy.config.services[0]!.tcpNoDelay, false);
  assert.deepEqual(
    proxy.warnings.filter((w) => w.path.at(-1) === 'tcpNoDelay').map((w) => [w.path.join('.'), w.message]),
    [['services.1.tcpNoDelay', 'ignored: applies to tcp services only']],
  );
  const packet = parseYaml(`
dataplane: { kind: packet, interface: eth0 }
services:
  - { name: a, address: 10.0.0.1:80, tcpNoDelay: true, realServers: [] }
`);
  assert.deepEqual(
    packet.warnings.filter((w) => w.path.at(-1) === 'tcpNoDelay').map((w) => [w.path.join('.'), w.message]),
    [['services.0.tcpNoDelay', 'ignored: applies to the proxy data plane only']],
  );
});

test('tokenFile and keyFile are read relative to the config file', async (t) => {
  const { mkdtempSync, mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'tslvs-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'token'), 'file-token\n');
  writeFileSync(join(dir, 'secrets', 'sync.key'), '0123456789abcdef0123\n');
  writeFileSync(
    join(dir, 'tslvs.yaml'),
    'admin: { tokenFile: secrets/token }\nha:\n  sync: { listen: 10.0.0.1:8848, peers: [10.0.0.2:8848], keyFile: secrets/sync.key }\n',
  );
  const { config } = await loadConfigFile(join(dir, 'tslvs.yaml'), { env: {} });
  assert.equal(config.admin.token, 'file-token');
  assert.equal(config.ha.sync?.key, '0123456789abcdef0123');
  writeFileSync(join(dir, 'broken.yaml'), 'admin: { tokenFile: secrets/missing }\n');
  await assert.rejects(
    loadConfigFile(join(dir, 'broken.yaml'), { env: {} }),
    (err: Error & { details?: { path?: string } }) => {
      assert.match(err.message, /broken\.yaml:1:21: admin\.tokenFile: cannot read 'secrets\/missing'/);
      return true;
    },
  );
});

test('top-level x- keys hold YAML anchors; merge keys reuse them', () => {
  const { config } = parseYaml(`x-check: &check { kind: http, path: /hz, interval: 5s }
services:
  - { name: a, address: 10.0.0.1:80, health: { <<: *check, timeout: 2s }, realServers: [] }
  - { name: b, address: 10.0.0.1:81, health: *check, realServers: [] }
`);
  const [a, b] = config.services;
  assert.equal(a!.health.kind === 'http' && a!.health.path, '/hz');
  assert.equal(a!.health.timeoutMs, 2000);
  assert.equal(b!.health.intervalMs, 5000);
});

test('dataplane.answerPing and pingRatePerSec: defaults in packet mode, warnings in proxy mode, bounds checked', () => {
  const packet = parseYaml('dataplane: { kind: packet, interface: eth0 }\n').config.dataplane;
  assert.equal(packet.kind === 'packet' && packet.answerPing, true);
  assert.equal(packet.kind === 'packet' && packet.pingRatePerSec, 0);
  const set = parseYaml(
    'dataplane: { kind: packet, interface: eth0, answerPing: false, pingRatePerSec: 50 }\n',
  ).config.dataplane;
  assert.deepEqual(set.kind === 'packet' && [set.answerPing, set.pingRatePerSec], [false, 50]);
  const proxy = parseYaml('dataplane: { answerPing: false }\n');
  assert.deepEqual(
    proxy.warnings.map((w) => w.path.join('.')),
    ['dataplane.answerPing'],
  );
  assert.throws(
    () => parseYaml('dataplane: { kind: packet, interface: eth0, pingRatePerSec: -1 }\n'),
    /pingRatePerSec/,
  );
});

test('dataplane.xdp: auto by default, off, native or generic in packet mode, a warning in proxy mode, others refused', () => {
  const packet = parseYaml('dataplane: { kind: packet, interface: eth0 }\n').config.dataplane;
  assert.equal(packet.kind === 'packet' && packet.xdp, 'auto');
  for (const mode of ['native', 'generic', 'off', 'auto'] as const) {
    const dp = parseYaml(`dataplane: { kind: packet, interface: eth0, xdp: ${mode} }\n`).config.dataplane;
    assert.equal(dp.kind === 'packet' && dp.xdp, mode);
  }
  assert.deepEqual(
    parseYaml('dataplane: { xdp: native }\n').warnings.map((w) => w.path.join('.')),
    ['dataplane.xdp'],
  );
  assert.throws(
    () => parseYaml('dataplane: { kind: packet, interface: eth0, xdp: offload }\n'),
    /dataplane\.xdp/,
  );
});
