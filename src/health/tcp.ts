/**
 * TCP check (keepalived TCP_CHECK): the RS is up when a connection to it completes; the connection is
 * closed at once, nothing is sent.
 */
import { connect } from 'node:net';
import { formatIp } from '../engine/addr.js';
import type { Checker, HealthTarget, Outcome } from './checker.js';
import { checkPort, runWithDeadline, settleOnce } from './checker.js';
import type { TcpSpec } from './spec.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';

export function createTcpChecker(spec: TcpSpec, timers: Timers = realTimers): Checker {
  return {
    check: (target, signal) =>
      runWithDeadline(timers, spec.timeoutMs, signal, (inner) => tcpConnect(target, spec.port, inner)),
  };
}

function tcpConnect(
  target: HealthTarget,
  portOverride: number | undefined,
  signal: AbortSignal,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: formatIp(target.address),
      port: checkPort(target, portOverride),
      family: target.address.family,
    });
    // Errors after we are done (e.g. a reset racing our destroy) must not become uncaught exceptions.
    socket.on('error', () => {});
    const once = settleOnce<Outcome>(resolve, reject, () => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
    });
    const onAbort = () => once.fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => once.ok({ ok: true, reason: 'connected' }));
    socket.once('error', (err) => once.fail(err));
  });
}
