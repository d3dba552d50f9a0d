import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CounterBlock } from '../../src/engine/counters.js';
import { RateEstimator } from '../../src/engine/estimator.js';

test('rates converge to the traffic rate with IPVS smoothing (1/4 per 2 s tick)', () => {
  const c = new CounterBlock(2);
  const est = new RateEstimator(c);
  let t = 0;
  est.tick(t);
  const expected = [25, 43.75, 57.8125, 68.359375];
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 200; k++) {
      c.conn(1);
      c.inPacket(1, 1000);
    }
    t += 2000;
    est.tick(t);
    assert.equal(est.rates(1).cps, Math.round(expected[i]!));
    assert.equal(est.rates(1).inbps, Math.round(expected[i]! * 1000));
  }
  assert.equal(est.rates(0).cps, 0, 'other ids unaffected');
  for (let i = 0; i < 30; i++) {
    t += 2000;
    est.tick(t);
  }
  assert.equal(est.rates(1).cps, 0, 'decays to zero when idle');
});
