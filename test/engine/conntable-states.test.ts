/**
 * TCP state tracking through the session table: every expectation below is read off IPVS's
 * `tcp_states` table in ip_vs_proto_tcp.c (reproduced in shared/reference/ipvs.md), not from this code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/engine/clock.js';
import { Dir, TCP_STATE_NAMES, TcpFlag } from '../../src/engine/conntable/tcp-states.js';
import { Forwarding, type ForwardingMethod } from '../../src/engine/forwarding.js';
import { addService, flow, makeBalancer } from './helpers.js';

const { SYN, ACK, FIN, RST } = TcpFlag;
type Step = [
  dir: 'in' | 'out',
  flags: number,
  state: string,
  timeoutS: number,
  active: number,
  inactive: number,
];

const cases: Array<{ description: string; fwd: ForwardingMethod; steps: Step[] }> = [
  {
    description: 'NAT: three-way handshake, client closes first',
    fwd: Forwarding.NAT,
    steps: [
      ['in', SYN, 'SYN_RECV', 60, 1, 0],
      ['out', SYN | ACK, 'SYN_RECV', 60, 1, 0],
      ['in', ACK, 'ESTABLISHED', 900, 1, 0],
      ['out', ACK, 'ESTABLISHED', 900, 1, 0],
      ['in', FIN | ACK, 'CLOSE_WAIT', 60, 0, 1],
      ['out', ACK, 'CLOSE_WAIT', 60, 0, 1],
      ['out', FIN | ACK, 'TIME_WAIT', 120, 0, 1],
      ['in', ACK, 'TIME_WAIT', 120, 0, 1],
    ],
  },
  {
    description: 'NAT: server closes first',
    fwd: Forwarding.NAT,
    steps: [
      ['in', SYN, 'SYN_RECV', 60, 1, 0],
      ['out', SYN | ACK, 'SYN_RECV', 60, 1, 0],
      ['in', ACK, 'ESTABLISHED', 900, 1, 0],
      ['out', FIN | ACK, 'FIN_WAIT', 120, 0, 1],
      ['in', ACK, 'FIN_WAIT', 120, 0, 1],
      ['in', FIN | ACK, 'TIME_WAIT', 120, 0, 1],
    ],
  },
  {
    description: 'NAT: reset by the client in ESTABLISHED',
    fwd: Forwarding.NAT,
    steps: [
      ['in', SYN, 'SYN_RECV', 60, 1, 0],
      ['out', SYN | ACK, 'SYN_RECV', 60, 1, 0],
      ['in', ACK, 'ESTABLISHED', 900, 1, 0],
      ['in', RST, 'CLOSE', 10, 0, 1],
    ],
  },
  {
    description: 'NAT: server refuses with RST in SYN_RECV',
    fwd: Forwarding.NAT,
    steps: [
      ['in', SYN, 'SYN_RECV', 60, 1, 0],
      ['out', RST | ACK, 'CLOSE', 10, 0, 1],
    ],
  },
  {
    description: 'DR: only the client side is seen (INPUT_ONLY table)',
    fwd: Forwarding.DR,
    steps: [
      ['in', SYN, 'SYN_RECV', 60, 1, 0],
      ['in', ACK, 'ESTABLISHED', 900, 1, 0],
      ['in', ACK, 'ESTABLISHED', 900, 1, 0],
      ['in', FIN | ACK, 'FIN_WAIT', 120, 0, 1],
      ['in', ACK, 'FIN_WAIT', 120, 0, 1],
      ['in', SYN, 'SYN_RECV', 60, 1, 0],
    ],
  },
  {
    description: 'DR: RST in SYN_RECV stays SYN_RECV; RST in ESTABLISHED closes',
    fwd: Forwarding.DR,
    steps: [
      ['in', SYN, 'SYN_RECV', 60, 1, 0],
      ['in', RST, 'SYN_RECV', 60, 1, 0],
      ['in', ACK, 'ESTABLISHED', 900, 1, 0],
      ['in', RST, 'CLOSE', 10, 0, 1],
    ],
  },
  {
    description: 'a packet with none of SYN/FIN/ACK/RST moves to CLOSE',
    fwd: Forwarding.NAT,
    steps: [
      ['in', SYN, 'SYN_RECV', 60, 1, 0],
      ['in', 0, 'CLOSE', 10, 0, 1],
    ],
  },
];

for (const c of cases) {
  test(`tcp states: ${c.description}`, () => {
    const clock = new ManualClock();
    const b = makeBalancer();
    const svc = addService(b, { forwarding: c.fwd, dests: [{ addr: '192.168.1.1' }] });
    const dest = svc.list[0]!;
    const f = flow('203.0.113.5', 40000);
    const id = b.schedule(svc.id, f, clock.now());
    assert.ok(id > 0);
    assert.equal(TCP_STATE_NAMES[b.conns.state(id)], 'NONE');
    assert.equal(b.dests.inactConns[dest], 1, 'a new connection counts as inactive');
    for (const [i, [dir, flags, state, timeoutS, active, inactive]] of c.steps.entries()) {
      clock.advance(5);
      const next = b.conns.tcpTransition(id, dir === 'in' ? Dir.INPUT : Dir.OUTPUT, flags, clock.now());
      assert.equal(TCP_STATE_NAMES[next], state, `step ${i}`);
      assert.equal(b.conns.remainingMs(id, clock.now()), timeoutS * 1000, `step ${i} timeout`);
      assert.equal(b.dests.activeConns[dest], active, `step ${i} active`);
      assert.equal(b.dests.inactConns[dest], inactive, `step ${i} inactive`);
    }
  });
}

test('defence table: a bare ACK does not establish a half-open connection', () => {
  const clock = new ManualClock();
  const b = makeBalancer({ conntable: { capacity: 64, defence: 'on' } });
  const svc = addService(b, { forwarding: Forwarding.DR, dests: [{ addr: '192.168.1.1' }] });
  const id = b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now());
  assert.equal(TCP_STATE_NAMES[b.conns.tcpTransition(id, Dir.INPUT, SYN, clock.now())], 'SYNACK');
  assert.equal(TCP_STATE_NAMES[b.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now())], 'ESTABLISHED');
  const id2 = b.schedule(svc.id, flow('203.0.113.6', 40000), clock.now());
  b.conns.tcpTransition(id2, Dir.INPUT, SYN, clock.now()); // NONE -> SYNACK (INONLY syn)
  b.conns.setState(id2, 3, clock.now()); // SYN_RECV
  // NAT-style: IN ack from SYN_RECV stays SYN_RECV in the defence table (only when replies are seen).
  const svc2 = addService(b, {
    name: 'nat',
    port: 81,
    forwarding: Forwarding.NAT,
    dests: [{ addr: '192.168.1.2' }],
  });
  const id3 = b.schedule(svc2.id, flow('203.0.113.7', 40000, '10.0.0.100', 81), clock.now());
  b.conns.tcpTransition(id3, Dir.INPUT, SYN, clock.now());
  assert.equal(TCP_STATE_NAMES[b.conns.tcpTransition(id3, Dir.INPUT, ACK, clock.now())], 'SYN_RECV');
  assert.equal(TCP_STATE_NAMES[b.conns.tcpTransition(id3, Dir.OUTPUT, SYN | ACK, clock.now())], 'SYNACK');
});

test('ipvsadm --set changes the ESTABLISHED, FIN_WAIT and UDP timeouts', () => {
  const clock = new ManualClock();
  const b = makeBalancer();
  b.conns.tcpTimeoutMs[1] = 7_000;
  b.conns.tcpTimeoutMs[4] = 3_000;
  b.conns.udpTimeoutMs = 11_000;
  const svc = addService(b, { forwarding: Forwarding.DR, dests: [{ addr: '192.168.1.1' }] });
  const id = b.schedule(svc.id, flow('203.0.113.5', 40000), clock.now());
  b.conns.tcpTransition(id, Dir.INPUT, ACK, clock.now());
  assert.equal(b.conns.remainingMs(id, clock.now()), 7_000);
  b.conns.tcpTransition(id, Dir.INPUT, FIN, clock.now());
  assert.equal(b.conns.remainingMs(id, clock.now()), 3_000);
  const usvc = addService(b, {
    name: 'dns',
    proto: 'udp',
    port: 53,
    forwarding: Forwarding.NAT,
    dests: [{ addr: '192.168.1.1', port: 53 }],
  });
  const u = b.schedule(usvc.id, flow('203.0.113.5', 5353, '10.0.0.100', 53, 'udp'), clock.now());
  b.conns.udpTransition(u, Dir.INPUT, clock.now());
  assert.equal(b.conns.remainingMs(u, clock.now()), 11_000);
});
