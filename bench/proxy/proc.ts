/**
 * Processes for the proxy benchmark: long-running children started from argv arrays (never a shell),
 * tracked so that every one is killed on exit, error or Ctrl-C; readers for a process's CPU time and
 * memory; readiness polls (an HTTP answer, a UDP echo) with bounded retries.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/tools/exec.js';
import { parsePssBytes, parseStatTicks } from './parse.js';

export const HOST = '127.0.0.1';

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly output: () => string;
  readonly exited: Promise<void>;
  /** How it ended ('exit code 1', 'signal SIGKILL'), or null while it runs. */
  readonly ended: () => string | null;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kills every child still running (synchronously: also usable from an 'exit' handler). */
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

/** Starts argv pinned to `cpu` (taskset execs, so the pid is the program's own). */
export function startPinned(name: string, cpu: number, argv: string[]): Child {
  const child = spawn('taskset', ['-c', String(cpu), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${argv[0]}`);
  live.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let ended: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      ended = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(child);
      resolve();
    });
    child.on('error', (err) => {
      out += `\n${err.message}`;
      ended = err.message;
      live.delete(child);
      resolve();
    });
  });
  return {
    name,
    pid: child.pid,
    output: () => out,
    exited,
    ended: () => ended,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Rejects with the child's output if it exits before `ready` settles. */
export async function whileAlive<T>(c: Child, ready: Promise<T>): Promise<T> {
  let settled = false;
  const died = c.exited.then(() => {
    if (!settled) throw new Error(`${c.name} ended (${c.ended()}) during start-up:\n${c.output().trim()}`);
  });
  try {
    return (await Promise.race([ready, died])) as T;
  } finally {
    settled = true;
  }
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on mainstream builds). */
export async function clkTck(): Promise<number> {
  const r = await run(['getconf', 'CLK_TCK'], { allowFailure: true }).catch(() => null);
  const n = Number(r?.stdout.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

/** utime + stime of a process in clock ticks. */
export function cpuTicks(pid: number): number {
  const t = parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (t === null) throw new Error(`cannot read the CPU time of pid ${pid}`);
  return t;
}

export function pssBytes(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  }
  const b = parsePssBytes(text);
  if (b === null) throw new Error(`no Pss for pid ${pid}`);
  return b;
}

/** Polls until `check` is true, every 25 ms, for at most `timeoutMs`. */
export async function poll(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * True once an HTTP request through `port` is answered. The probe closes only after the answer: a client
 * that closes while a proxy is still connecting upstream is a case of its own, not a readiness check.
 */
export function httpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    const timer = setTimeout(() => s.destroy(), 2000);
    let got = '';
    s.once('connect', () => s.write('GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'));
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) s.destroy();
    });
    s.once('error', () => {});
    s.once('close', () => {
      clearTimeout(timer);
      resolve(/^HTTP\/1\.[01] 200 /.test(got));
    });
  });
}

/** True once a datagram to `port` comes back (through a proxy to an echo backend). */
export async function udpEchoes(port: number, timeoutMs = 10_000): Promise<void> {
  const sock = dgram.createSocket('udp4');
  let got = false;
  sock.on('message', () => (got = true));
  sock.on('error', () => {}); // ICMP port unreachable while the proxy is not up yet: keep asking.
  await new Promise<void>((r) => sock.bind(0, HOST, () => r()));
  try {
    await poll(
      `a UDP echo through port ${port}`,
      () => {
        if (!got) sock.send('ping', port, HOST);
        return got;
      },
      timeoutMs,
    );
  } finally {
    sock.close();
  }
}

/** Waits (bounded) until a process has used no CPU for `quietMs`: its reaction to the last event is done. */
export async function settle(pid: number, quietMs = 300, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = cpuTicks(pid);
  while (Date.now() < deadline) {
    await sleep(quietMs);
    const now = cpuTicks(pid);
    if (now === last) return;
    last = now;
  }
}

const handedOut = new Set<number>();

/**
 * A port free on 127.0.0.1 for both TCP and UDP a moment ago, and never handed out before in this run
 * (the kernel may offer a just-closed port again).
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen({ host: HOST, port: 0 }, () => r()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    if (handedOut.has(port)) continue;
    const u = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      u.once('error', () => resolve(false));
      u.bind(port, HOST, () => resolve(true));
    });
    u.close();
    if (!ok) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no port free for both TCP and UDP on 127.0.0.1');
}

/** Pins every thread of this process to `cpu`. */
export async function pinSelf(cpu: number): Promise<void> {
  await run(['taskset', '-a', '-p', '-c', String(cpu), String(process.pid)]);
}
