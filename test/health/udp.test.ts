import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import type { UdpSpec } from '../../src/health/spec.js';
import { createUdpChecker } from '../../src/health/udp.js';
import { activeResources, assertNoLeak, BASE, loopback, portOf, signal } from './support.js';

/** A UDP server answering 'pong <payload>' (or staying silent); records what it received. */
async function udpServer(reply: boolean): Promise<{ socket: Socket; port: number; received: string[] }> {
  const socket = createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg.toString());
    if (reply) socket.send(`pong ${msg.toString()}`, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: portOf(socket), received };
}

const closeUdp = (s: Socket) => new Promise<void>((resolve) => s.close(() => resolve()));

const udp = (over: Partial<UdpSpec> = {}): UdpSpec => ({ ...BASE, kind: 'udp', payload: 'ping', ...over });

test('udp: a reply matching the regex is up, a mismatch is down, no regex takes any reply', async () => {
  const { socket, port, received } = await udpServer(true);
  try {
    const cases: [Partial<UdpSpec>, boolean, string][] = [
      [{ expectRegex: '^pong ping$' }, true, 'reply matched /^pong ping$/'],
      [{ expectRegex: '^ok' }, false, 'reply did not match /^ok/'],
      [{ payload: 'hello' }, true, 'reply of 10 bytes'],
    ];
    for (const [over, ok, reason] of cases) {
      const baseline = activeResources();
      const r = await createUdpChecker(udp(over)).check(loopback(port), signal());
      assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok, reason }, JSON.stringify(over));
      await assertNoLeak(baseline, ['UDPWrap', 'Timeout']);
    }
    assert.deepEqual(received, ['ping', 'ping', 'hello']);
  } finally {
    await closeUdp(socket);
  }
});

test('udp: no listener fails fast through ICMP port unreachable', async () => {
  const { socket, port } = await udpServer(false);
  await closeUdp(socket);
  // timeoutMs is long: only the ICMP error can end this check early
  const r = await createUdpChecker(udp({ timeoutMs: 5000 })).check(loopback(port), signal());
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'ICMP port unreachable (ECONNREFUSED)');
  assert.ok(r.durationMs < 5000);
});

test('udp: a silent server gives a timeout and the socket is closed', async () => {
  const { socket, port, received } = await udpServer(false);
  try {
    const baseline = activeResources();
    const r = await createUdpChecker(udp({ timeoutMs: 200 })).check(loopback(port), signal());
    assert.deepEqual({ ok: r.ok, reason: r.reason }, { ok: false, reason: 'timeout after 200ms' });
    assert.deepEqual(received, ['ping']);
    await assertNoLeak(baseline, ['UDPWrap', 'Timeout']);
  } finally {
    await closeUdp(socket);
  }
});

test('udp: an invalid expectRegex is rejected when the checker is built', () => {
  assert.throws(
    () => createUdpChecker(udp({ expectRegex: '[' })),
    (e: unknown) => (e as { code?: string }).code === 'TSLVS_ERR_INVALID_ARGUMENT',
  );
});
