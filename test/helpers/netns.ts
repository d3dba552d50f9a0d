/**
 * Network-namespace labs for tests and benchmarks: namespaces, veth pairs, bridges, commands and long-running
 * processes inside namespaces, and a teardown that removes everything (and checks it did) even when the test
 * failed. Every namespace and every link created in the root namespace carries the lab's unique prefix, so
 * `leftovers()` can find anything that escaped.
 *
 * Everything runs through spawn() with argv arrays: no shell, no interpolation.
 *
 *   const lab = createLab();
 *   try {
 *     const a = await lab.addNs('a');
 *     const b = await lab.addNs('b');
 *     await lab.addVeth({ ns: a, name: 'eth0', addresses: ['10.1.0.1/24'] }, { ns: b, name: 'eth0', addresses: ['10.1.0.2/24'] });
 *     await lab.exec(b, ['ping', '-c1', '10.1.0.1']);
 *   } finally {
 *     await lab.cleanup();
 *   }
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type ExecOptions, type ExecResult, run } from '../../src/tools/exec.js';

export type { ExecOptions, ExecResult } from '../../src/tools/exec.js';

export interface VethEnd {
  /** Full namespace name (from addNs), or null/undefined for the root namespace (name must then carry the prefix). */
  ns?: string | null;
  name: string;
  /** CIDR addresses, e.g. '10.1.0.1/24'. */
  addresses?: string[];
  mtu?: number;
  mac?: string;
  /** Bring the link up (default true). */
  up?: boolean;
}

export interface NsProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the first stdout line (past or future) matching; rejects on timeout or exit. */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Resolves with the first `count` stdout lines matching; rejects on timeout or exit. */
  waitForLines(
    match: RegExp | ((line: string) => boolean),
    count: number,
    timeoutMs?: number,
  ): Promise<string[]>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface Leftovers {
  namespaces: string[];
  links: string[];
}

export interface Lab {
  readonly prefix: string;
  addNs(name: string, opts?: { ipv6?: boolean; forwarding?: boolean }): Promise<string>;
  addVeth(a: VethEnd, b: VethEnd): Promise<void>;
  addBridge(ns: string | null, name: string, members?: string[]): Promise<void>;
  /** Runs argv inside `ns` (or the root namespace for null). */
  exec(ns: string | null, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** `ip -n NS ...` (or plain `ip` for null). */
  ip(ns: string | null, args: string[], opts?: ExecOptions): Promise<ExecResult>;
  sysctl(ns: string | null, key: string, value: string | number): Promise<void>;
  /** Starts a long-running process inside `ns`; cleanup() stops it. */
  spawn(ns: string | null, argv: string[]): NsProcess;
  /** Namespaces and root-namespace links that still carry the prefix. */
  leftovers(): Promise<Leftovers>;
  /** Stops processes, deletes namespaces and prefixed links, then throws if anything is left. Idempotent. */
  cleanup(): Promise<void>;
}

export { run };

/** A lab whose names all start with a fresh prefix (`tl` + 4 random base-36 characters). */
export function createLab(prefix = `tl${randomBytes(4).readUInt32LE(0).toString(36).slice(0, 4)}`): Lab {
  if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix))
    throw new Error(`lab prefix ${prefix} must be 2-8 lowercase alphanumerics`);
  const namespaces: string[] = [];
  const processes = new Set<NsProcess>();
  let vethCount = 0;
  let cleaned = false;

  const exec = (ns: string | null, argv: string[], opts?: ExecOptions) =>
    run(ns === null ? argv : ['ip', 'netns', 'exec', ns, ...argv], opts);
  const ip = (ns: string | null, args: string[], opts?: ExecOptions) =>
    run(ns === null ? ['ip', ...args] : ['ip', '-n', ns, ...args], opts);
  // Written through /proc/sys with tee (coreutils) so tests do not depend on procps being installed.
  // Keys use dots (`net.ipv4.ip_forward`) or, for interface names containing dots, slashes.
  const sysctl = async (ns: string | null, key: string, value: string | number) => {
    const path = `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
    await exec(ns, ['tee', path], { input: `${value}\n` });
  };

  const lab: Lab = {
    prefix,
    async addNs(name, opts = {}) {
      const full = `${prefix}-${name}`;
      await run(['ip', 'netns', 'add', full]);
      namespaces.push(full);
      await ip(full, ['link', 'set', 'lo', 'up']);
      if (!opts.ipv6) {
        // No router solicitations, MLD reports or DAD probes: tests count frames exactly.
        await sysctl(full, 'net.ipv6.conf.all.disable_ipv6', 1);
        await sysctl(full, 'net.ipv6.conf.default.disable_ipv6', 1);
      }
      if (opts.forwarding) await sysctl(full, 'net.ipv4.ip_forward', 1);
      return full;
    },

    async addVeth(a, b) {
      const n = vethCount++;
      const tmpA = `${prefix}v${n}a`;
      const tmpB = `${prefix}v${n}b`;
      await ip(null, ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
      for (const [end, tmp] of [
        [a, tmpA],
        [b, tmpB],
      ] as const) {
        const ns = end.ns ?? null;
        if (ns === null && !end.name.startsWith(prefix)) {
          throw new Error(`root-namespace link ${end.name} must start with the lab prefix ${prefix}`);
        }
        if (ns !== null) await ip(null, ['link', 'set', tmp, 'netns', ns]);
        if (end.name !== tmp) await ip(ns, ['link', 'set', tmp, 'name', end.name]);
        if (ns === null) {
          // Namespaces get IPv6 off at creation; a root-namespace end needs it per link (absent without IPv6).
          await sysctl(null, `net.ipv6.conf.${end.name}.disable_ipv6`, 1).catch(() => undefined);
        }
        if (end.mtu) await ip(ns, ['link', 'set', end.name, 'mtu', String(end.mtu)]);
        if (end.mac) await ip(ns, ['link', 'set', end.name, 'address', end.mac]);
        for (const addr of end.addresses ?? []) await ip(ns, ['addr', 'add', addr, 'dev', end.name]);
        if (end.up ?? true) await ip(ns, ['link', 'set', end.name, 'up']);
      }
    },

    async addBridge(ns, name, members = []) {
      if (ns === null && !name.startsWith(prefix))
        throw new Error(`root-namespace bridge ${name} needs the prefix`);
      await ip(ns, ['link', 'add', name, 'type', 'bridge']);
      for (const m of members) await ip(ns, ['link', 'set', m, 'master', name]);
      await ip(ns, ['link', 'set', name, 'up']);
    },

    exec,
    ip,
    sysctl,

    spawn(ns, argv) {
      const p = startProcess(ns === null ? argv : ['ip', 'netns', 'exec', ns, ...argv]);
      processes.add(p);
      void p.exited.then(() => processes.delete(p));
      return p;
    },

    async leftovers() {
      const nsList = await run(['ip', '-j', 'netns', 'list'], { allowFailure: true });
      const names = parseJson<Array<{ name: string }>>(nsList.stdout).map((n) => n.name);
      const links = await run(['ip', '-j', 'link', 'show'], { allowFailure: true });
      const linkNames = parseJson<Array<{ ifname: string }>>(links.stdout).map((l) => l.ifname);
      return {
        namespaces: names.filter((n) => n.startsWith(`${prefix}-`)),
        links: linkNames.filter((n) => n.startsWith(prefix)),
      };
    },

    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await Promise.all([...processes].map((p) => p.stop()));
      const before = await lab.leftovers();
      for (const link of before.links) await ip(null, ['link', 'del', link], { allowFailure: true });
      for (const ns of new Set([...namespaces, ...before.namespaces])) {
        await run(['ip', 'netns', 'del', ns], { allowFailure: true });
      }
      // Deleting a namespace destroys its veths, whose peers may sit in the root namespace: re-check.
      const after = await waitFor(async () => {
        const left = await lab.leftovers();
        return left.namespaces.length + left.links.length === 0 ? null : left;
      }, 3000);
      if (after) {
        for (const link of after.links) await ip(null, ['link', 'del', link], { allowFailure: true });
        const last = await lab.leftovers();
        if (last.namespaces.length + last.links.length > 0) {
          throw new Error(`lab ${prefix} left things behind: ${JSON.stringify(last)}`);
        }
      }
    },
  };
  return lab;
}

/** Runs `fn` with a fresh lab and always cleans it up (cleanup errors surface after `fn`'s own). */
export async function withLab<T>(fn: (lab: Lab) => Promise<T>, prefix?: string): Promise<T> {
  const lab = createLab(prefix);
  try {
    return await fn(lab);
  } finally {
    await lab.cleanup();
  }
}

function startProcess(argv: string[]): NsProcess {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  let done = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      wake();
      resolve({ code, signal });
    });
    child.on('error', () => {
      done = true;
      wake();
      resolve({ code: null, signal: null });
    });
  });

  const waitForLines = (match: RegExp | ((line: string) => boolean), count: number, timeoutMs = 10_000) => {
    const test = typeof match === 'function' ? match : (l: string) => match.test(l);
    return new Promise<string[]>((resolve, reject) => {
      const check = () => {
        const hits = lines.filter(test);
        if (hits.length >= count) return finish(() => resolve(hits.slice(0, count)));
        if (done) {
          finish(() =>
            reject(
              new Error(`${argv.join(' ')} exited after ${hits.length} of ${count} lines; stderr: ${stderr}`),
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        const n = lines.filter(test).length;
        finish(() =>
          reject(
            new Error(`timed out with ${n} of ${count} lines from ${argv.join(' ')}; stderr: ${stderr}`),
          ),
        );
      }, timeoutMs);
      const finish = (f: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });
  };

  return {
    child,
    pid: child.pid ?? -1,
    lines,
    stderr: () => stderr,
    exited,
    async waitForLine(match, timeoutMs = 10_000) {
      const [line] = await waitForLines(match, 1, timeoutMs);
      return line!;
    },
    waitForLines,
    async stop(graceMs = 2000) {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (last !== null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    last = await probe();
  }
  return last;
}

function parseJson<T>(text: string): T {
  try {
    return (text.trim() ? JSON.parse(text) : []) as T;
  } catch {
    return [] as unknown as T;
  }
}
