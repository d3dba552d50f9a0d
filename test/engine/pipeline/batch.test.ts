/**
 * processBatch must give exactly what process gives frame by frame: every scenario of the fixtures run in
 * batches of several sizes (sessions created, removed and reused inside one batch included) against the
 * single-frame path with the same clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIp } from '../../../src/engine/addr.js';
import { DROP_NAMES, MutableFrame, Verdict } from '../../../src/engine/pipeline/index.js';
import { build, fromHex, loadScenarios, type Setup, toHex } from './harness.js';

interface Step {
  now: number | null;
  in: { port: number; hex: string; status: number; tci: number; vnet: Record<string, number> | null };
}

const { topology, scenarios } = loadScenarios() as {
  topology: never;
  scenarios: { name: string; setup: Setup; steps: Step[] }[];
};

function frame(s: Step): MutableFrame {
  const b = fromHex(s.in.hex);
  const f = new MutableFrame().set(b, 0, b.length, s.in.port, s.in.status);
  f.vlanTci = s.in.tci;
  if (s.in.vnet) Object.assign(f, s.in.vnet);
  return f;
}

function trace(log: { port: number; bytes: Uint8Array; vnet: unknown }[]): string[] {
  return log.map((f) => `${f.port}:${toHex(f.bytes)}:${JSON.stringify(f.vnet)}`);
}

describe('processBatch equals process', () => {
  for (const size of [2, 3, 64]) {
    test(`batches of ${size}`, () => {
      for (const sc of scenarios) {
        const one = build(topology, sc.setup);
        const many = build(topology, sc.setup);
        const frames = sc.steps.map(frame);
        const oneVerdicts: number[] = [];
        const out = new Uint8Array(frames.length);
        for (let i = 0; i < frames.length; i += size) {
          const n = Math.min(size, frames.length - i);
          const now = sc.steps[i]!.now ?? 1000 + i * 10;
          for (let k = 0; k < n; k++) oneVerdicts.push(one.pipeline.process(frames[i + k]!, now));
          many.pipeline.processBatch(frames.slice(i, i + n), n, now, out.subarray(i));
        }
        assert.deepEqual([...out], oneVerdicts, `${sc.name}: verdicts`);
        assert.deepEqual(trace(many.log), trace(one.log), `${sc.name}: frames sent`);
        assert.deepEqual(many.pipeline.counters(), one.pipeline.counters(), `${sc.name}: counters`);
      }
    });
  }
});

test('a batch lookup result is not used after its session was freed and its slot reused', () => {
  const nat = scenarios.find((s) => s.name.startsWith('nat: DNAT in'))!;
  const dr = scenarios.find((s) => s.name.startsWith('dr: handshake'))!;
  const synA = frame(nat.steps[0]!);
  const ackA = frame(nat.steps[2]!);
  const synB = frame(dr.steps[0]!);
  const { pipeline, balancer, log } = build(topology, {}, 4096, { expireNodestConn: true });
  assert.equal(pipeline.process(synA, 1000), Verdict.FORWARD);
  const svc = balancer.services.byEndpoint('tcp', parseIp('198.51.100.11'), 80)!;
  svc.removeDest(svc.list[0]!);
  log.length = 0;
  const out = new Uint8Array(3);
  // ackA removes its session (its RS is gone); synB takes the freed slot; the second ackA's batch result
  // names that slot and must not be used.
  pipeline.processBatch([ackA, synB, ackA], 3, 1010, out);
  assert.deepEqual([...out], [Verdict.DROP, Verdict.FORWARD, Verdict.DROP]);
  assert.equal(DROP_NAMES[pipeline.lastReason], 'not_syn_no_session');
  assert.equal(log.length, 1, 'only the SYN of B goes out');
});
