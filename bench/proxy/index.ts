/**
 * `npm run bench -- proxy [--quick] [--duration S] [--rounds N] [--idle-conns N] [--warmup S] [--peers a,b]`
 *
 * The tslvs socket proxy against HAProxy (`mode tcp`, 1 thread), nginx `stream` (1 process, also UDP)
 * and a naive Node pipe() proxy, on loopback, in one run. The proxy under test is pinned to CPU 0; load
 * generators, backends and this process to CPU 1. Rounds alternate the peers (haproxy, nginx, naive,
 * tslvs, repeat), each started fresh, and medians are reported. Every rate is also divided by the CPU
 * time the proxy process used (utime + stime from /proc), and the ratios compare those per-CPU-second
 * figures. See bench/proxy/README.md.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../../src/tools/exec.js';
import { type Backends, startBackends } from './backends.js';
import {
  httpRequests,
  idleMemory,
  type LoadEnv,
  type Measured,
  tcpThroughput,
  udpDatagrams,
} from './load.js';
import { PEERS, type Peer, type PeerName, startPeer } from './peers.js';
import { clkTck, killAll, pinSelf } from './proc.js';
import { emptySamples, report, type Samples } from './summary.js';

const PROXY_CPU = 0;
const LOAD_CPU = 1;
const APT = 'apt-get install -y haproxy nginx libnginx-mod-stream iperf3 wrk gcc';

interface Options {
  seconds: number;
  rounds: number;
  idleConns: number;
  warmup: number;
  peers: PeerName[];
}

const USAGE = `usage: npm run bench -- proxy [--quick] [--duration S] [--rounds N] [--idle-conns N] [--warmup S] [--peers LIST]
  --duration S     seconds per load test (default 5; --quick 2)
  --rounds N       rounds over all peers; medians are reported (default 3; --quick 1)
  --idle-conns N   idle connections for the memory test (default 4000; --quick 1000)
  --warmup S       seconds of keep-alive load before measuring each peer (default 1; 0 = none)
  --peers LIST     subset of ${PEERS.join(',')} (ratios need haproxy and nginx)`;

function options(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      'idle-conns': { type: 'string' },
      warmup: { type: 'string' },
      peers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, dflt: number, lo: number, hi: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi)
      throw new Error(`--${name}: an integer in ${lo}..${hi}, got '${v}'`);
    return n;
  };
  const quick = values.quick === true;
  const peers = (values.peers ?? PEERS.join(',')).split(',').map((p) => p.trim());
  for (const p of peers) {
    if (!(PEERS as readonly string[]).includes(p))
      throw new Error(`--peers: unknown peer '${p}' (${PEERS.join(', ')})`);
  }
  return {
    seconds: int('duration', values.duration, quick ? 2 : 5, 1, 600),
    rounds: int('rounds', values.rounds, quick ? 1 : 3, 1, 50),
    idleConns: int('idle-conns', values['idle-conns'], quick ? 1000 : 4000, 10, 8000),
    warmup: int('warmup', values.warmup, 1, 0, 60),
    peers: PEERS.filter((p) => peers.includes(p)),
  };
}

async function missingTools(): Promise<string | null> {
  if (cpus().length < 2) return 'needs two CPUs (one for the proxy, one for load and backends)';
  const missing: string[] = [];
  for (const tool of ['haproxy', 'nginx', 'iperf3', 'wrk', 'cc', 'taskset', 'getconf']) {
    const r = await run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFailure: true });
    if (r.code !== 0) missing.push(tool);
  }
  if (!existsSync('/usr/lib/nginx/modules/ngx_stream_module.so')) missing.push('libnginx-mod-stream');
  return missing.length ? `missing ${missing.join(', ')} (${APT})` : null;
}

async function measurePeer(env: LoadEnv, name: PeerName, dir: string, opts: Options, s: Samples) {
  let peer: Peer;
  try {
    peer = await startPeer(name, dir, env.backends, PROXY_CPU);
  } catch (err) {
    // Ports are picked free just before the start; a busy machine may take one meanwhile. Once more.
    console.log(`  ${name} did not start (${(err as Error).message.split('\n')[0]}); retrying on new ports`);
    peer = await startPeer(name, dir, env.backends, PROXY_CPU);
  }
  const { pid, fronts } = peer;
  const rates = s.rates[name];
  // One failed test costs its sample, not the run: medians take what the rounds delivered.
  const attempt = async (what: string, test: () => Promise<void>) => {
    if (peer.ended()) return;
    try {
      await test();
    } catch (err) {
      const said = peer.output().trim().split('\n').slice(-5).join('\n    ');
      console.log(`  ${name.padEnd(8)} ${what.padEnd(11)} FAILED: ${(err as Error).message}`);
      if (said) console.log(`    ${name} printed: ${said}`);
      const ended = peer.ended();
      if (ended) console.log(`    ${name} is no longer running (${ended})`);
    }
  };
  const measure = (what: string, into: Measured[], test: () => Promise<Measured>) =>
    attempt(what, async () => {
      const m = await test();
      into.push(m);
      const cpu = ((100 * m.cpuSeconds) / m.wallSeconds).toFixed(0);
      console.log(`  ${name.padEnd(8)} ${what.padEnd(11)} ${m.note}; proxy CPU ${cpu}%`);
    });
  try {
    await attempt('idle conns', async () => {
      const mem = await idleMemory(env, pid, fronts.idle, opts.idleConns);
      s.mem[name].push(mem);
      console.log(`  ${name.padEnd(8)} ${'idle conns'.padEnd(11)} ${(mem / 1024).toFixed(2)} KiB/conn`);
    });
    if (opts.warmup > 0) {
      await attempt('warm-up', async () => {
        await httpRequests(env, pid, fronts.http, 'keepalive', opts.warmup);
      });
    }
    await measure('tcp', rates.tcp, () => tcpThroughput(env, pid, fronts.iperf));
    await measure('keep-alive', rates.keepalive, () => httpRequests(env, pid, fronts.http, 'keepalive'));
    await measure('new conns', rates.newconn, () => httpRequests(env, pid, fronts.http, 'close'));
    const udp = fronts.udp;
    if (udp !== null) await measure('udp', rates.udp, () => udpDatagrams(env, pid, udp));
  } finally {
    await peer.stop();
  }
}

export async function main(args: string[]): Promise<void> {
  const opts = options(args);
  const skip = await missingTools();
  if (skip) {
    console.error(`proxy benchmark cannot run: ${skip}`);
    process.exitCode = 2;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tslvs-proxybench-'));
  const cleanup = () => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', cleanup);
  let backends: Backends | null = null;
  try {
    await pinSelf(LOAD_CPU);
    backends = await startBackends(dir, LOAD_CPU);
    const env: LoadEnv = { loadCpu: LOAD_CPU, seconds: opts.seconds, clkTck: await clkTck(), backends };
    console.log(
      `proxy under test on CPU ${PROXY_CPU}; load generators, backends and this process on CPU ${LOAD_CPU}; ` +
        `${opts.rounds} round(s) of ${opts.peers.join(', ')}; ${opts.seconds} s per test, ` +
        `${opts.idleConns} idle connections`,
    );
    const started = Date.now();
    const samples = emptySamples();
    for (let round = 1; round <= opts.rounds; round++) {
      console.log(`round ${round}/${opts.rounds}`);
      // The order turns each round: connection tests leave tens of thousands of TIME_WAIT sockets for a
      // minute, which slow the next peer's connect()s, so no peer should always come after the others.
      const shift = (round - 1) % opts.peers.length;
      const order = [...opts.peers.slice(shift), ...opts.peers.slice(0, shift)];
      console.log(`  order: ${order.join(', ')}`);
      for (const name of order) {
        // A peer that will not start costs its round, not the run.
        await measurePeer(env, name, dir, opts, samples).catch((err: Error) =>
          console.log(`  ${name.padEnd(8)} not measured this round: ${err.message}`),
        );
      }
    }
    console.log(`\nmeasured in ${Math.round((Date.now() - started) / 1000)} s`);
    const missing = report(samples, opts.peers, opts.rounds);
    if (missing.length) {
      console.error(`not measured: ${missing.join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await backends?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}
