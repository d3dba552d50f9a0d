/**
 * Seeded, bounded fuzzing of the whole pipeline (see fuzz-lib.ts): nothing throws, no output depends on
 * bytes outside the frame, every frame sent re-parses with correct checksums. One million frames
 * (about 10 s on one core: three pipelines in lockstep).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from './fuzz-lib.js';

const FRAMES = 1_000_000;

test(`pipeline fuzz: ${FRAMES} random and mutated frames`, () => {
  const r = runFuzz(FRAMES, 0x5eed_7001);
  assert.deepEqual(r.problems, []);
  // The mix must reach every forwarding path, not only the parsers.
  for (const c of [
    'forwarded_in',
    'forwarded_out',
    'icmp_relayed',
    'toa_inserted',
    'proxy_headers',
    'proxy_split',
    'arp_replies',
    'nd_adverts',
    'icmp_errors_sent',
    'conns_reused',
  ]) {
    assert.ok((r.counters[c] ?? 0) > 100, `${c}: ${r.counters[c] ?? 0}`);
  }
  assert.ok(r.sent > FRAMES / 10, `sent only ${r.sent} frames`);
});
