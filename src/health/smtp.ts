/**
 * SMTP check (keepalived SMTP_CHECK): connect, expect the 220 greeting, send `HELO <helo>`, expect 250,
 * send QUIT and wait for its answer or the close (RFC 5321 §4.1.1). Replies may span lines (`250-...`
 * continues, `250 ...` ends, §4.2.1); the RS is up when both codes came back as expected. Any other code
 * fails the check with the server's text.
 */
import { connect } from 'node:net';
import { formatIp } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import type { Checker, HealthTarget, Outcome } from './checker.js';
import { checkPort, runWithDeadline, settleOnce, truncate } from './checker.js';
import type { SmtpSpec } from './spec.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';

/** More than this without a complete reply is not an SMTP server. */
const MAX_REPLY = 4096;

export function createSmtpChecker(spec: SmtpSpec, timers: Timers = realTimers): Checker {
  if (!/^[\x21-\x7e]{1,255}$/.test(spec.helo)) {
    throw new TslvsError(
      ErrorCodes.INVALID_ARGUMENT,
      `smtp check helo '${spec.helo}' must be one printable word`,
      {
        field: 'helo',
        value: spec.helo,
      },
    );
  }
  return {
    check: (target, signal) =>
      runWithDeadline(timers, spec.timeoutMs, signal, (inner) => smtpDialogue(target, spec, inner)),
  };
}

/** The code of a complete reply in `text` (its last line is `NNN ` or `NNN` alone), or null. */
export function completeReply(text: string): { code: number; text: string } | null {
  // CRLF per RFC 5321; a bare LF is accepted too, as keepalived's line reader does.
  const lines = text.split(/\r?\n/);
  if (lines.length < 2) return null; // no line end yet
  lines.pop(); // what follows the last CRLF
  const last = lines[lines.length - 1]!;
  const m = /^(\d{3})(?: |$)/.exec(last);
  return m ? { code: Number(m[1]), text: lines.join(' | ') } : null;
}

function smtpDialogue(target: HealthTarget, spec: SmtpSpec, signal: AbortSignal): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: formatIp(target.address),
      port: checkPort(target, spec.port),
      family: target.address.family,
    });
    socket.on('error', () => {});
    const once = settleOnce<Outcome>(resolve, reject, () => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
    });
    const onAbort = () => once.fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => once.fail(err));
    socket.setEncoding('latin1');
    let buffer = '';
    let step: 'greeting' | 'helo' | 'quit' = 'greeting';
    const up: Outcome = { ok: true, reason: `smtp 220, and 250 to HELO ${spec.helo}` };
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REPLY) {
        once.ok({ ok: false, reason: `no complete SMTP reply in ${MAX_REPLY} bytes` });
        return;
      }
      const reply = completeReply(buffer);
      if (!reply) return;
      buffer = '';
      if (step === 'quit') {
        once.ok(up); // the answer to QUIT, whatever it says: the server was polite enough
        return;
      }
      const want = step === 'greeting' ? 220 : 250;
      if (reply.code !== want) {
        once.ok({
          ok: false,
          reason: `smtp ${step}: ${reply.code}, expected ${want}`,
          detail: truncate(reply.text, 512),
        });
        return;
      }
      step = step === 'greeting' ? 'helo' : 'quit';
      socket.write(step === 'helo' ? `HELO ${spec.helo}\r\n` : 'QUIT\r\n');
    });
    socket.once('end', () =>
      once.ok(step === 'quit' ? up : { ok: false, reason: `connection closed during the ${step}` }),
    );
  });
}
