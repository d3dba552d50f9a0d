/**
 * Exec check (keepalived MISC_CHECK): run an argv without a shell, exit status 0 = up. `{address}`,
 * `{port}` and `{family}` inside an element are replaced by the RS's values; no shell ever sees the
 * result, so a config value cannot inject a command. The child leads its own process group, and the
 * whole group is killed when the check ends (timeout, abort, or the leader's exit), so nothing a script
 * starts outlives its check. Output is kept to a bounded tail per stream: the last line of stderr (else
 * stdout) goes into the reason, both tails into the detail.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { formatIp } from '../engine/addr.js';
import { ErrorCodes, TslvsError } from '../errors.js';
import type { Checker, HealthTarget, Outcome } from './checker.js';
import { checkPort, runWithDeadline, settleOnce, truncate } from './checker.js';
import type { ExecSpec } from './spec.js';
import type { Timers } from './timers.js';
import { realTimers } from './timers.js';

/** Bytes kept of each of stdout and stderr (the tail); older output is dropped. */
export const OUTPUT_LIMIT = 4096;

const TOKEN_RE = /\{(address|port|family)\}/g;

export function createExecChecker(spec: ExecSpec, timers: Timers = realTimers): Checker {
  if (!Array.isArray(spec.command) || spec.command.length === 0 || spec.command[0] === '') {
    throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, 'health check command must be a non-empty argv array', {
      field: 'command',
      value: spec.command,
    });
  }
  const argvTemplate = [...spec.command];
  return {
    check: (target, signal) =>
      runWithDeadline(timers, spec.timeoutMs, signal, (inner) =>
        runCommand(substituteTokens(argvTemplate, target, spec.port), inner),
      ),
  };
}

/** One pass per element, so a substituted value is never itself scanned for tokens. */
export function substituteTokens(
  argv: readonly string[],
  target: HealthTarget,
  portOverride?: number,
): string[] {
  const values: Record<string, string> = {
    address: formatIp(target.address),
    port: String(checkPort(target, portOverride)),
    family: String(target.address.family),
  };
  return argv.map((arg) => arg.replace(TOKEN_RE, (_m, name: string) => values[name]!));
}

class OutputTail {
  #buf = Buffer.alloc(0);

  push(chunk: Buffer): void {
    const joined = Buffer.concat([this.#buf, chunk]);
    this.#buf = joined.length > OUTPUT_LIMIT ? joined.subarray(joined.length - OUTPUT_LIMIT) : joined;
  }

  text(): string {
    return this.#buf.toString('utf8').trim();
  }

  lastLine(): string {
    const lines = this.text().split('\n');
    return truncate(lines[lines.length - 1]!.trim(), 100);
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone
  }
}

function runCommand(argv: string[], signal: AbortSignal): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const stdout = new OutputTail();
    const stderr = new OutputTail();
    const child = spawn(argv[0]!, argv.slice(1), {
      shell: false,
      detached: true, // own process group, so a timeout can kill everything the script started
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const once = settleOnce<Outcome>(resolve, reject, () => {
      signal.removeEventListener('abort', onAbort);
    });
    const withOutput = (o: Outcome): Outcome => {
      const text = [stdout.text(), stderr.text()].filter((t) => t !== '').join('\n');
      return text === '' ? o : { ...o, detail: text };
    };
    child.stdout?.on('data', (c: Buffer) => stdout.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    // Settle only once the child is reaped, so "check finished" implies "process gone"; normally also
    // after its pipes close, so the reason sees all of its output.
    let aborted = false;
    let exited: { code: number | null; sig: NodeJS.Signals | null } | undefined;
    const finish = () => {
      if (!exited) return;
      if (aborted) {
        once.ok(withOutput({ ok: false, reason: 'aborted' }));
        return;
      }
      const { code, sig } = exited;
      const why = code !== null ? `exit status ${code}` : `killed by ${sig}`;
      // two pipes have no common order: a script's complaint is on stderr, else its last word on stdout
      const last = stderr.lastLine() || stdout.lastLine();
      if (code === 0) once.ok(withOutput({ ok: true, reason: why }));
      else once.ok(withOutput({ ok: false, reason: last === '' ? why : `${why}: ${last}` }));
    };
    // A descendant that left the group could hold the pipes open forever: stop waiting for them.
    const stopReading = () => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish();
    };
    const onAbort = () => {
      aborted = true;
      killGroup(child);
      if (exited) stopReading();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      // spawn failures (ENOENT, EACCES) come here with no 'exit'; later errors (kill) are ignored
      if (child.pid === undefined) once.fail(err);
    });
    child.on('exit', (code, sig) => {
      exited = { code, sig };
      killGroup(child); // whatever the script left running
      if (aborted) stopReading();
    });
    child.on('close', finish);
  });
}
