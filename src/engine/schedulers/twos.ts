/**
 * Power of two choices (`ip_vs_twos.c`). Two uniform draws r1, r2 in [0, sum of eligible weights] each
 * select a dest by walking the eligible dests and subtracting weights (the first dest with r <= 0 wins,
 * so r = 0..w1 all land on the first). Choice 2 is taken iff w2 * oh1 > w1 * oh2, as C `int` products.
 * The kernel's random source is not reproducible; tslvs draws from the injected `env.random()`.
 */
import { connOverhead } from './load.js';
import type { SchedEnv, SchedService, Scheduler } from './scheduler.js';

/** `get_random_u32_below(bound)` from a uniform [0, 1) source; a misbehaving source is clamped. */
function randomBelow(env: SchedEnv, bound: number): number {
  const r = Math.floor(env.random() * bound);
  return r >= 0 && r < bound ? r : r >= bound ? bound - 1 : 0;
}

export const twos: Scheduler = {
  name: 'twos',
  description: 'weighted power of two choices',
  create(svc: SchedService, env: SchedEnv) {
    const dests = svc.dests;
    return {
      schedule() {
        const list = svc.list;
        const n = list.length;
        const weight = dests.weight;
        let total = 0;
        for (let i = 0; i < n; i++) {
          const d = list[i]!;
          if (!dests.isOverloaded(d) && weight[d]! > 0) total += weight[d]!;
        }
        if (total === 0) return -1;
        let r1 = randomBelow(env, total + 1);
        let r2 = randomBelow(env, total + 1);
        let c1 = -1;
        let c2 = -1;
        for (let i = 0; i < n && (c1 < 0 || c2 < 0); i++) {
          const d = list[i]!;
          const w = weight[d]!;
          if (dests.isOverloaded(d) || w <= 0) continue;
          r1 -= w;
          r2 -= w;
          if (r1 <= 0 && c1 < 0) c1 = d;
          if (r2 <= 0 && c2 < 0) c2 = d;
        }
        const oh1 = connOverhead(dests, c1);
        const oh2 = connOverhead(dests, c2);
        return Math.imul(weight[c2]!, oh1) > Math.imul(weight[c1]!, oh2) ? c2 : c1;
      },
    };
  },
};
