/**
 * Table-driven pipeline tests: every scenario of test/fixtures/pipeline/scenarios.json (built by scapy in
 * make-fixtures.py, independently of this code) runs through a fresh Balancer + Pipeline; each step's
 * verdict, reason, output frames (bytes, interface, vnet header) and named counters must match exactly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DROP_NAMES, MutableFrame, PASS_NAMES, VERDICT_NAMES } from '../../../src/engine/pipeline/index.js';
import { build, fromHex, loadScenarios, type Setup, toHex } from './harness.js';

interface Step {
  desc: string;
  now: number | null;
  in: { port: number; hex: string; status: number; tci: number; vnet: Record<string, number> | null };
  verdict: string;
  reason: string | null;
  out: { port: number; hex: string; vnet: Record<string, number> | null }[];
  counters: Record<string, number>;
}

interface Scenario {
  name: string;
  setup: Setup;
  steps: Step[];
}

const { topology, scenarios } = loadScenarios() as { topology: never; scenarios: Scenario[] };

function frameOf(s: Step): MutableFrame {
  const bytes = fromHex(s.in.hex);
  // Off an odd offset inside a larger buffer: the pipeline must honour offset/len.
  const buf = new Uint8Array(bytes.length + 64).fill(0x5c);
  buf.set(bytes, 21);
  const f = new MutableFrame().set(buf, 21, bytes.length, s.in.port, s.in.status);
  f.vlanTci = s.in.tci;
  if (s.in.vnet) {
    f.vnetFlags = s.in.vnet.vnetFlags!;
    f.gsoType = s.in.vnet.gsoType!;
    f.hdrLen = s.in.vnet.hdrLen!;
    f.gsoSize = s.in.vnet.gsoSize!;
    f.csumStart = s.in.vnet.csumStart!;
    f.csumOffset = s.in.vnet.csumOffset!;
  }
  return f;
}

describe('pipeline scenarios (scapy fixtures)', () => {
  assert.ok(scenarios.length >= 20, 'fixtures are missing: run test/fixtures/pipeline/make-fixtures.py');
  for (const sc of scenarios) {
    test(sc.name, () => {
      const { pipeline, log } = build(topology, sc.setup);
      sc.steps.forEach((s, i) => {
        const where = `${sc.name} / step ${i + 1}: ${s.desc}`;
        const input = frameOf(s);
        const copy = input.buf.slice();
        log.length = 0;
        const v = pipeline.process(input, s.now ?? 1000 + i * 10);
        assert.equal(VERDICT_NAMES[v], s.verdict, `${where}: verdict (last reason ${pipeline.lastReason})`);
        if (s.reason !== null) {
          const names = s.verdict === 'drop' ? DROP_NAMES : PASS_NAMES;
          assert.equal(names[pipeline.lastReason], s.reason, `${where}: reason`);
        }
        assert.deepEqual(input.buf, copy, `${where}: the input frame must not be modified`);
        assert.equal(log.length, s.out.length, `${where}: number of frames sent`);
        s.out.forEach((o, k) => {
          assert.equal(log[k]!.port, o.port, `${where}: frame ${k} interface`);
          assert.equal(toHex(log[k]!.bytes), o.hex, `${where}: frame ${k} bytes`);
          assert.deepEqual(log[k]!.vnet, o.vnet, `${where}: frame ${k} vnet header`);
        });
        const counters = pipeline.counters();
        for (const [name, want] of Object.entries(s.counters)) {
          assert.equal(counters[name] ?? 0, want, `${where}: counter ${name}`);
        }
      });
    });
  }
});
