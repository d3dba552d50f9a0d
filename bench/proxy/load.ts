/**
 * Load drivers of the proxy benchmark. Each runs one bounded test through a proxy's frontend with the
 * load generator pinned to the load CPU, and measures what the proxy process spent meanwhile (its
 * utime + stime from /proc), so a rate can be stated per wall second and per CPU-second of the proxy.
 */
import net from 'node:net';
import { run } from '../../src/tools/exec.js';
import { type Backends, startIperfServer } from './backends.js';
import { parseIperf3, parseUdpLoad, parseWrk, type WrkResult } from './parse.js';
import { cpuTicks, HOST, poll, pssBytes, settle } from './proc.js';

export interface Measured {
  /** Work done: bytes, requests, connections or datagrams. */
  count: number;
  wallSeconds: number;
  /** CPU-seconds the proxy spent. */
  cpuSeconds: number;
  note: string;
}

export interface LoadEnv {
  loadCpu: number;
  seconds: number;
  clkTck: number;
  backends: Backends;
}

/** Runs `fn` and reports the proxy's CPU time over it. */
async function withCpu(
  pid: number,
  hz: number,
  fn: () => Promise<{ count: number; seconds: number; note: string }>,
): Promise<Measured> {
  const before = cpuTicks(pid);
  const r = await fn();
  const ticks = cpuTicks(pid) - before;
  return { count: r.count, wallSeconds: r.seconds, cpuSeconds: ticks / hz, note: r.note };
}

const taskset = (cpu: number, argv: string[]) => ['taskset', '-c', String(cpu), ...argv];

/** Bytes through the proxy in one iperf3 TCP stream (client -> server). */
export async function tcpThroughput(env: LoadEnv, pid: number, port: number): Promise<Measured> {
  const argv = taskset(env.loadCpu, [
    'iperf3',
    '-c',
    HOST,
    '-p',
    String(port),
    '-t',
    String(env.seconds),
    '-J',
  ]);
  const server = await startIperfServer(env.backends.iperf, env.loadCpu);
  try {
    return await withCpu(pid, env.clkTck, async () => {
      const r = await run(argv, { allowFailure: true, timeoutMs: (env.seconds + 20) * 1000 });
      const res = parseIperf3(r.stdout);
      return {
        count: res.bytes,
        seconds: res.seconds,
        note: `${(res.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`,
      };
    });
  } finally {
    await server.stop();
  }
}

/** HTTP requests through the proxy with wrk: keep-alive, or one connection per request. */
export async function httpRequests(
  env: LoadEnv,
  pid: number,
  port: number,
  mode: 'keepalive' | 'close',
  seconds = env.seconds,
): Promise<Measured & { wrk: WrkResult }> {
  const argv = taskset(env.loadCpu, [
    'wrk',
    '-t1',
    '-c50',
    `-d${seconds}s`,
    '--timeout',
    '5s',
    ...(mode === 'close' ? ['-H', 'Connection: close'] : []),
    `http://${HOST}:${port}/`,
  ]);
  let wrk: WrkResult | null = null;
  const m = await withCpu(pid, env.clkTck, async () => {
    const r = await run(argv, { timeoutMs: (seconds + 20) * 1000 });
    wrk = parseWrk(r.stdout);
    if (!wrk) throw new Error(`unexpected wrk output: ${r.stdout} ${r.stderr}`);
    const e = wrk.socketErrors;
    const errors = e.connect + e.read + e.write + e.timeout;
    const note =
      `${Math.round(wrk.rps)} req/s` +
      (errors
        ? `, socket errors ${e.connect}/${e.read}/${e.write}/${e.timeout} (connect/read/write/timeout)`
        : '') +
      (wrk.non2xx ? `, ${wrk.non2xx} non-2xx` : '');
    // Only answered requests count.
    return { count: wrk.requests - wrk.non2xx, seconds: wrk.seconds, note };
  });
  return { ...m, wrk: wrk! };
}

/** UDP datagram round trips through the proxy (client -> proxy -> echo -> proxy -> client). */
export async function udpDatagrams(env: LoadEnv, pid: number, port: number): Promise<Measured> {
  const flows = 8;
  const window = 16;
  const maxDatagrams = 50_000_000;
  const argv = taskset(env.loadCpu, [
    env.backends.udptool,
    'load',
    String(port),
    String(flows),
    String(window),
    String(env.seconds),
    String(maxDatagrams),
    '64',
  ]);
  return withCpu(pid, env.clkTck, async () => {
    const r = await run(argv, { timeoutMs: (env.seconds + 20) * 1000 });
    const u = parseUdpLoad(r.stdout);
    if (!u) throw new Error(`unexpected udptool output: ${r.stdout} ${r.stderr}`);
    const note = `${Math.round(u.received / u.seconds)} dgram/s answered, ${u.lost} lost of ${u.sent}`;
    return { count: u.received, seconds: u.seconds, note };
  });
}

/**
 * Memory per idle connection: opens `n` connections through the proxy to the hold server, waits until
 * the proxy has connected every one upstream and gone quiet, and divides the growth of its proportional
 * set size by `n`. The connections are closed again before returning.
 */
export async function idleMemory(env: LoadEnv, pid: number, port: number, n: number): Promise<number> {
  const hold = env.backends.holdServer;
  await settle(pid);
  const before = pssBytes(pid);
  const socks: net.Socket[] = [];
  try {
    // Batches keep the listen backlog from overflowing (a dropped SYN costs a 1 s retransmit).
    for (let i = 0; i < n; i += 250) {
      const batch = Array.from({ length: Math.min(250, n - i) }, () => connect(port));
      socks.push(...(await Promise.all(batch)));
    }
    await poll(`${n} idle connections to reach the backend`, () => hold.open >= n, 30_000);
    await settle(pid);
    const after = pssBytes(pid);
    return (after - before) / n;
  } finally {
    for (const s of socks) s.destroy();
    await poll('the idle connections to close', () => hold.open === 0, 30_000);
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port });
    s.once('connect', () => {
      s.removeListener('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
    s.once('error', reject);
  });
}
