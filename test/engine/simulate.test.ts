import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SimService, simulateFlow } from '../../src/engine/simulate.js';

const web: SimService = {
  name: 'web',
  protocol: 'tcp',
  address: '10.0.0.100:80',
  scheduler: 'wlc',
  forwarding: 'nat',
  realServers: [
    // IPVS wlc worked example (ipvs.md): overheads 778, 1282, 2048 over weights 1, 2, 3 -> B.
    { address: '192.168.1.1:8080', weight: 1, activeConns: 3, inactiveConns: 10 },
    { address: '192.168.1.2:8080', weight: 2, activeConns: 5, inactiveConns: 2 },
    { address: '192.168.1.3:8080', weight: 3, activeConns: 8, inactiveConns: 0 },
  ],
};

test('simulate: wlc picks as IPVS does and the handshake walks the NAT state table', () => {
  const r = simulateFlow(web, '203.0.113.5:40000', [
    { dir: 'in', flags: 'S' },
    { dir: 'out', flags: 'SA' },
    { dir: 'in', flags: 'A' },
    { dir: 'in', flags: 'FA' },
  ]);
  assert.equal(r.realServer, '192.168.1.2:8080');
  assert.equal(r.forwarding, 'nat');
  assert.deepEqual(
    r.steps.map((s) => [s.state, s.timeoutMs]),
    [
      ['SYN_RECV', 60_000],
      ['SYN_RECV', 60_000],
      ['ESTABLISHED', 900_000],
      ['CLOSE_WAIT', 60_000],
    ],
  );
});

test('simulate: non-SYN without a session is dropped; a down RS is never picked', () => {
  const r = simulateFlow(web, '203.0.113.5:40000', [{ dir: 'in', flags: 'A' }]);
  assert.equal(r.realServer, null);
  assert.match(r.steps[0]!.note!, /not a SYN/);
  const down = { ...web, realServers: web.realServers.map((rs, i) => ({ ...rs, up: i !== 1 })) };
  assert.equal(simulateFlow(down, '203.0.113.5:40000').realServer, '192.168.1.3:8080');
  const none = { ...web, realServers: [] };
  assert.match(simulateFlow(none, '203.0.113.5:40000').steps[0]!.note!, /no real server/);
  assert.equal(
    simulateFlow({ ...none, sorryServer: '192.168.9.9:80' }, '203.0.113.5:1').realServer,
    '192.168.9.9:80',
  );
});

test('simulate: UDP session and timeout', () => {
  const dns: SimService = {
    name: 'dns',
    protocol: 'udp',
    address: '[2001:db8::53]:53',
    scheduler: 'rr',
    realServers: [{ address: '[2001:db8::1]:53', weight: 1 }],
  };
  const r = simulateFlow(dns, '[2001:db8::99]:5353', [{ dir: 'in' }, { dir: 'in', afterMs: 1000 }]);
  assert.equal(r.realServer, '[2001:db8::1]:53');
  assert.deepEqual(
    r.steps.map((s) => s.state),
    ['UDP', 'UDP'],
  );
  assert.equal(r.steps[1]!.timeoutMs, 300_000);
});
