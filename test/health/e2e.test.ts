import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { createServer } from 'node:net';
import { test } from 'node:test';
import type { TransitionEvent } from '../../src/health/monitor.js';
import { HealthMonitor } from '../../src/health/monitor.js';
import { closeServer, listen, loopback } from './support.js';

/** Resolves with the next transition, or rejects after `timeoutMs` (bounded by the event, not a sleep). */
function transitions() {
  const queue: TransitionEvent[] = [];
  let waiter: ((e: TransitionEvent) => void) | undefined;
  return {
    push(e: TransitionEvent) {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w(e);
      } else queue.push(e);
    },
    next(timeoutMs: number): Promise<TransitionEvent> {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`no transition within ${timeoutMs}ms`));
        }, timeoutMs);
        waiter = (e) => {
          clearTimeout(timer);
          resolve(e);
        };
      });
    },
  };
}

function tcpServer() {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const kill = async () => {
    for (const s of sockets) s.destroy();
    await closeServer(server);
  };
  return { server, kill };
}

test('e2e: a real RS killed goes down, restarted comes back up (real timers and sockets)', async () => {
  const first = tcpServer();
  const port = await listen(first.server);
  const events = transitions();
  const monitor = new HealthMonitor({
    target: loopback(port),
    spec: { kind: 'tcp', intervalMs: 50, timeoutMs: 500, rise: 2, fall: 2 },
    onTransition: (e) => {
      failRunAtTransition.push(monitor.status().consecutiveFail);
      events.push(e);
    },
  });
  const failRunAtTransition: number[] = [];
  let second: ReturnType<typeof tcpServer> | undefined;
  try {
    monitor.start();
    const firstCheck = await monitor.checkNow();
    assert.equal(firstCheck.ok, true, firstCheck.reason);
    assert.equal(monitor.status().state, 'up');

    await first.kill();
    const down = await events.next(5000);
    assert.equal(down.state, 'down');
    assert.equal(down.previous, 'up');
    assert.equal(down.result.reason, 'connect ECONNREFUSED');
    assert.equal(failRunAtTransition[0], 2, 'fall=2 failures, the first check having succeeded');

    second = tcpServer();
    await listen(second.server, '127.0.0.1', port);
    const up = await events.next(5000);
    assert.equal(up.state, 'up');
    assert.equal(up.result.reason, 'connected');
    assert.ok(up.at >= down.at);
  } finally {
    monitor.stop();
    await first.kill().catch(() => {});
    await second?.kill();
  }
});
