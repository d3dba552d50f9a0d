/**
 * Never queue (`ip_vs_nq.c`): one pass in list order; the first idle dest (no active connections) is
 * taken at once, otherwise the sed rule (overhead = activeconns + 1) decides.
 */
import { mulGreater } from './load.js';
import type { SchedService, Scheduler } from './scheduler.js';

export const nq: Scheduler = {
  name: 'nq',
  description: 'never queue',
  create(svc: SchedService) {
    const dests = svc.dests;
    return {
      schedule() {
        const list = svc.list;
        const weight = dests.weight;
        let least = -1;
        let loh = 0;
        for (let i = 0; i < list.length; i++) {
          const d = list[i]!;
          if (dests.isOverloaded(d) || weight[d] === 0) continue;
          const active = dests.activeConns[d]!;
          if (active === 0) return d;
          const doh = (active + 1) | 0;
          if (least < 0 || mulGreater(loh, weight[d]!, doh, weight[least]!)) {
            least = d;
            loh = doh;
          }
        }
        return least;
      },
    };
  },
};
