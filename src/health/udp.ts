/**
 * UDP check (keepalived UDP_CHECK): send one datagram, the RS is up when a reply comes back (matching
 * `expectRegex` when given). The socket is connected, so the kernel filters out datagrams from other
 * peers and reports an ICMP port-unreachable as ECONNREFUSED: a closed port fails at once, not at the
 * timeout.
 */
import { createSocket } from 'node:dgram';
import { formatIp } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import type { Checker, HealthTarget, Outcome } from './checker.js';
import { checkPort, runWithDeadline, settleOnce, truncate } from './checker.js';
import type { UdpSpec } from './spec.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';

export function createUdpChecker(spec: UdpSpec, timers: Timers = realTimers): Checker {
  let expect: RegExp | undefined;
  try {
    expect = spec.expectRegex === undefined ? undefined : new RegExp(spec.expectRegex);
  } catch (err) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `health check expectRegex '${spec.expectRegex}' is not a valid regex`,
      { field: 'expectRegex', value: spec.expectRegex },
      { cause: err },
    );
  }
  const payload = Buffer.from(spec.payload, 'utf8');
  const judge = (msg: Buffer): Outcome => {
    if (!expect) return { ok: true, reason: `reply of ${msg.length} bytes` };
    const text = msg.toString('utf8');
    if (expect.test(text)) return { ok: true, reason: `reply matched ${expect}` };
    return { ok: false, reason: `reply did not match ${expect}`, detail: truncate(text, 512) };
  };
  return {
    check: (target, signal) =>
      runWithDeadline(timers, spec.timeoutMs, signal, (inner) =>
        udpExchange(target, spec.port, payload, inner, judge),
      ),
  };
}

/**
 * One datagram to the target over a connected socket; `judge` turns a reply into the outcome, or null to
 * ignore it and keep waiting (a datagram that is not the answer). Shared by the udp and dns checks.
 */
export function udpExchange(
  target: HealthTarget,
  portOverride: number | undefined,
  payload: Buffer,
  signal: AbortSignal,
  judge: (msg: Buffer) => Outcome | null,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(target.address.family === 6 ? 'udp6' : 'udp4');
    const once = settleOnce<Outcome>(resolve, reject, () => {
      signal.removeEventListener('abort', onAbort);
      try {
        socket.close();
      } catch {
        // already closed by a failed bind/connect
      }
    });
    const onAbort = () => once.fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') {
        once.ok({ ok: false, reason: 'ICMP port unreachable (ECONNREFUSED)', detail: err.message });
      } else once.fail(err);
    });
    socket.on('message', (msg) => {
      const outcome = judge(msg);
      if (outcome) once.ok(outcome);
    });
    socket.connect(checkPort(target, portOverride), formatIp(target.address), () => {
      if (once.done) return;
      socket.send(payload, (err) => {
        if (err) once.fail(err);
      });
    });
  });
}
