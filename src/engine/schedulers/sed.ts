/**
 * Shortest expected delay (`ip_vs_sed.c`): wlc with overhead = activeconns + 1, inactive connections
 * ignored. Products are 64-bit as in current kernels (old ones multiplied unsigned 32-bit values).
 */
import { mulGreater } from './load.js';
import type { SchedService, Scheduler } from './scheduler.js';

export const sed: Scheduler = {
  name: 'sed',
  description: 'shortest expected delay',
  create(svc: SchedService) {
    const dests = svc.dests;
    return {
      schedule() {
        const list = svc.list;
        const n = list.length;
        const weight = dests.weight;
        let i = 0;
        let least = -1;
        for (; i < n; i++) {
          const d = list[i]!;
          if (!dests.isOverloaded(d) && weight[d]! > 0) {
            least = d;
            break;
          }
        }
        if (least < 0) return -1;
        let loh = (dests.activeConns[least]! + 1) | 0;
        for (i++; i < n; i++) {
          const d = list[i]!;
          if (dests.isOverloaded(d)) continue;
          const doh = (dests.activeConns[d]! + 1) | 0;
          if (mulGreater(loh, weight[d]!, doh, weight[least]!)) {
            least = d;
            loh = doh;
          }
        }
        return least;
      },
    };
  },
};
