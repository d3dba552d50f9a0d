/**
 * Builds bench/packet/udpgen.c (and the C forwarding peers, cforward.c and xdpforward.c) with the system C compiler into a
 * temporary directory and runs the generator inside the generator namespace, pinned with taskset. Every
 * run is bounded by a duration and a packet count.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../test/helpers/netns.js';
import type { Topology } from './topology.js';

const sourceDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'packet');
const source = join(sourceDir, 'udpgen.c');

export interface Generator {
  readonly binary: string;
  /** The C AF_PACKET forwarder (cforward.c), the peer that shows what the rings cost without JavaScript. */
  readonly forwarder: string;
  /** The same forwarder over AF_XDP (xdpforward.c): what a different I/O layer would lift that ceiling to. */
  readonly xdpForwarder: string;
  dispose(): void;
}

export interface GenResult {
  sent: number;
  seconds: number;
  pps: number;
  errors: number;
}

/** Null (with the reason) when no compiler or source is available. */
export async function buildGenerator(): Promise<Generator | string> {
  if (!existsSync(source)) return `generator source not found at ${source}`;
  const cc = (
    await run(['sh', '-c', 'command -v cc || command -v gcc'], { allowFailure: true })
  ).stdout.trim();
  if (!cc) return 'no C compiler (cc/gcc) to build the traffic generator';
  const dir = mkdtempSync(join(tmpdir(), 'tslvs-udpgen-'));
  const binary = join(dir, 'udpgen');
  const forwarder = join(dir, 'cforward');
  await run([cc, '-O2', '-o', binary, source]);
  await run([cc, '-O2', '-o', forwarder, join(sourceDir, 'cforward.c')]);
  const xdpForwarder = join(dir, 'xdpforward');
  await run([cc, '-O2', '-o', xdpForwarder, join(sourceDir, 'xdpforward.c')]);
  return { binary, forwarder, xdpForwarder, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Burst {
  dstIp: string;
  dstPort: number;
  flows: number;
  frameLen: number;
  seconds: number;
  maxPackets: number;
  /** Scheduling nice value (negative: ahead of unrelated processes on a shared machine). */
  nice: number;
  /** Total packets per second to pace to (split across generators); 0 = as fast as possible. */
  pps: number;
}

/** Runs one generator per side CPU in parallel (distinct source ports) and sums what they sent. */
export async function runBurst(gen: Generator, t: Topology, b: Burst): Promise<GenResult> {
  const results = await Promise.all(
    t.generatorCpus.map((cpu, i) => runOne(gen, t, b, cpu, 10000 + i * b.flows)),
  );
  return {
    sent: results.reduce((a, r) => a + r.sent, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    seconds: Math.max(...results.map((r) => r.seconds)),
    pps: results.reduce((a, r) => a + r.pps, 0),
  };
}

async function runOne(
  gen: Generator,
  t: Topology,
  b: Burst,
  cpu: number,
  sportBase: number,
): Promise<GenResult> {
  const perGenerator = Math.ceil(b.maxPackets / t.generatorCpus.length);
  const r = await t.lab.exec(
    t.gen,
    [
      'nice',
      '-n',
      String(b.nice),
      'taskset',
      '-c',
      String(cpu),
      gen.binary,
      t.genIf,
      t.genMac,
      t.dirInMac,
      t.genIp,
      b.dstIp,
      String(b.dstPort),
      String(b.flows),
      String(b.frameLen),
      String(b.seconds),
      String(perGenerator),
      String(sportBase),
      String(Math.round(b.pps / t.generatorCpus.length)),
      t.generator,
    ],
    { timeoutMs: (b.seconds + 10) * 1000 },
  );
  const m = /sent (\d+) seconds ([\d.]+) pps (\d+) errors (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`unexpected generator output: ${r.stdout} ${r.stderr}`);
  return { sent: Number(m[1]), seconds: Number(m[2]), pps: Number(m[3]), errors: Number(m[4]) };
}
