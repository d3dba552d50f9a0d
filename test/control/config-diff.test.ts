import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigChange, diffConfig } from '../../src/control/config/diff.js';
import type { Config } from '../../src/control/config/types.js';
import { parseYaml } from './config-helpers.js';

const BASE = `
services:
  - name: web
    address: 10.0.0.1:80
    scheduler: wrr
    health: { kind: http, path: /healthz }
    realServers:
      - { address: 10.0.1.1:80, weight: 3 }
      - { address: 10.0.1.2:80, weight: 1 }
  - name: dns
    protocol: udp
    address: 10.0.0.1:53
    realServers:
      - { address: 10.0.1.1:53 }
`;

const load = (text: string): Config => parseYaml(text).config;
const summary = (changes: ConfigChange[]) =>
  changes.map((c) => {
    switch (c.kind) {
      case 'service-changed':
        return `${c.kind} ${c.service} ${c.fields.join(',')}`;
      case 'realserver-changed':
        return `${c.kind} ${c.service} ${c.realServer} ${c.fields.join(',')}`;
      case 'realserver-added':
      case 'realserver-removed':
        return `${c.kind} ${c.service} ${c.realServer}`;
      case 'service-added':
      case 'service-removed':
        return `${c.kind} ${c.service}`;
      case 'global-changed':
        return `${c.kind} ${c.section} ${c.fields.join(',')}`;
      default:
        return `${c.kind} ${c.instance}`;
    }
  });

test('the diff of a config with itself, or with a reordered copy, is empty', () => {
  assert.deepEqual(diffConfig(load(BASE), load(BASE)), []);
  const reordered = `
services:
  - name: dns
    protocol: udp
    address: 10.0.0.1:53
    realServers: [{ address: 10.0.1.1:53 }]
  - name: web
    address: 10.0.0.1:80
    scheduler: wrr
    health: { path: /healthz, kind: http }
    realServers:
      - { address: 10.0.1.2:80, weight: 1 }
      - { weight: 3, address: 10.0.1.1 }
`;
  assert.deepEqual(diffConfig(load(BASE), load(reordered)), []);
});

test('a weight change is one real-server change naming the field', () => {
  const after = load(BASE.replace('weight: 3', 'weight: 5'));
  const changes = diffConfig(load(BASE), after);
  assert.deepEqual(summary(changes), ['realserver-changed tcp/10.0.0.1:80 10.0.1.1:80 weight']);
  const c = changes[0]!;
  assert.ok(c.kind === 'realserver-changed');
  assert.equal(c.before.weight, 3);
  assert.equal(c.after.weight, 5);
});

test('real servers added and removed', () => {
  const after = BASE.replace(
    '- { address: 10.0.1.2:80, weight: 1 }',
    '- { address: 10.0.1.3:80, weight: 1 }',
  );
  assert.deepEqual(summary(diffConfig(load(BASE), load(after))), [
    'realserver-removed tcp/10.0.0.1:80 10.0.1.2:80',
    'realserver-added tcp/10.0.0.1:80 10.0.1.3:80',
  ]);
});

test('services added and removed, and a rename is a change of the name', () => {
  const withExtra = `${BASE}  - name: api\n    address: 10.0.0.2:443\n    realServers: []\n`;
  assert.deepEqual(summary(diffConfig(load(BASE), load(withExtra))), ['service-added tcp/10.0.0.2:443']);
  assert.deepEqual(summary(diffConfig(load(withExtra), load(BASE))), ['service-removed tcp/10.0.0.2:443']);
  const renamed = BASE.replace('name: web', 'name: www');
  assert.deepEqual(summary(diffConfig(load(BASE), load(renamed))), ['service-changed tcp/10.0.0.1:80 name']);
  const moved = BASE.replace('address: 10.0.0.1:80', 'address: 10.0.0.1:8080');
  assert.deepEqual(summary(diffConfig(load(BASE), load(moved))), [
    'service-removed tcp/10.0.0.1:80',
    'service-added tcp/10.0.0.1:8080',
  ]);
});

test('a service-level health change shows on the service and on every real server using it', () => {
  const after = load(BASE.replace('path: /healthz', 'path: /ready'));
  assert.deepEqual(summary(diffConfig(load(BASE), after)), [
    'service-changed tcp/10.0.0.1:80 health',
    'realserver-changed tcp/10.0.0.1:80 10.0.1.1:80 health',
    'realserver-changed tcp/10.0.0.1:80 10.0.1.2:80 health',
  ]);
});

test('thresholds, scheduler and global sections are named', () => {
  const after = load(
    `timeouts: { udp: 60s }\nlog: { level: debug }\n${BASE.replace('scheduler: wrr', 'scheduler: { name: sh, flags: [sh-port] }').replace('weight: 1 }', 'weight: 1, maxConnections: 100, lowerThreshold: 50 }')}`,
  );
  assert.deepEqual(summary(diffConfig(load(BASE), after)), [
    'global-changed timeouts udpMs',
    'global-changed log level',
    'service-changed tcp/10.0.0.1:80 scheduler',
    'realserver-changed tcp/10.0.0.1:80 10.0.1.2:80 maxConnections,lowerThreshold',
    // idleTimeout of the udp service follows timeouts.udp
    'service-changed udp/10.0.0.1:53 idleTimeoutMs',
  ]);
});

test('VRRP instances are diffed by name', () => {
  const ha = (prio: number, name = 'VI_1') =>
    `${BASE}ha:\n  vrrp:\n    - { name: ${name}, interface: eth0, virtualRouterId: 51, priority: ${prio}, virtualAddresses: [10.0.0.1] }\n`;
  assert.deepEqual(diffConfig(load(ha(100)), load(ha(100))), []);
  assert.deepEqual(summary(diffConfig(load(ha(100)), load(ha(150)))), ['vrrp-changed VI_1']);
  const c = diffConfig(load(ha(100)), load(ha(150)))[0]!;
  assert.ok(c.kind === 'vrrp-changed');
  assert.deepEqual(c.fields, ['priority']);
  assert.deepEqual(summary(diffConfig(load(ha(100)), load(ha(100, 'VI_2')))), [
    'vrrp-removed VI_1',
    'vrrp-added VI_2',
  ]);
});
