/**
 * Running system commands (ip, sysctl, tcpdump...) without a shell: argv arrays only, so no value from a
 * config or a command line is ever interpolated into shell syntax.
 */
import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Resolve instead of rejecting on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
  input?: string;
}

/** Runs argv and collects its output; rejects (unless allowFailure) on a non-zero exit or a signal. */
export function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if ((code !== 0 || signal) && !opts.allowFailure) {
        reject(new Error(`${argv.join(' ')} failed (${signal ?? code}): ${stderr.trim() || stdout.trim()}`));
      } else {
        resolve(result);
      }
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the command exits without reading: its exit status tells.
      child.stdin.end(opts.input);
    }
  });
}

/** Writes a sysctl through /proc/sys (no dependency on procps); dotted keys or slash paths. */
export async function writeSysctl(
  key: string,
  value: string | number,
  netns: string | null = null,
): Promise<void> {
  const path = `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
  await run(netns === null ? ['tee', path] : ['ip', 'netns', 'exec', netns, 'tee', path], {
    input: `${value}\n`,
  });
}

export async function readSysctl(key: string, netns: string | null = null): Promise<string> {
  const path = `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
  const r = await run(netns === null ? ['cat', path] : ['ip', 'netns', 'exec', netns, 'cat', path]);
  return r.stdout.trim();
}
