/**
 * Running external programs for the HA layer (`ip addr`, notify hooks): argv arrays through spawn with
 * no shell, so a config value can never become a command. Each run has a deadline after which its whole
 * process group is killed, and keeps only a bounded tail of its output.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit status, or null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** spawn() itself failed (ENOENT...). */
  error: string | null;
}

export interface CommandOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** The boundary: real (`runCommand`) or a fake recording argv in tests. */
export type CommandRunner = (argv: readonly string[], opts: CommandOptions) => Promise<CommandResult>;

/** Bytes kept of each output stream (the tail). */
const OUTPUT_LIMIT = 4096;

function appendTail(tail: string, chunk: string): string {
  const s = tail + chunk;
  return s.length > OUTPUT_LIMIT ? s.slice(s.length - OUTPUT_LIMIT) : s;
}

export const runCommand: CommandRunner = (argv, opts) =>
  new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (r: Omit<CommandResult, 'stdout' | 'stderr' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, stdout: stdout.trim(), stderr: stderr.trim(), timedOut });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        shell: false,
        detached: true, // its own process group, so a timeout kills everything it started
        stdio: ['ignore', 'pipe', 'pipe'],
        env: opts.env ?? process.env,
      });
    } catch (err) {
      resolve({ code: null, signal: null, stdout: '', stderr: '', timedOut: false, error: String(err) });
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, opts.timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout = appendTail(stdout, d)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = appendTail(stderr, d)));
    child.on('error', (err) => finish({ code: null, signal: null, error: err.message }));
    child.on('close', (code, signal) => finish({ code, signal, error: null }));
  });
