/**
 * Weighted failover (`ip_vs_fo.c`): the non-overloaded dest with the highest weight; ties go to the
 * earliest in list order and weight 0 never wins.
 */
import type { SchedService, Scheduler } from './scheduler.js';

export const fo: Scheduler = {
  name: 'fo',
  description: 'weighted failover',
  create(svc: SchedService) {
    const dests = svc.dests;
    return {
      schedule() {
        const list = svc.list;
        let best = -1;
        let hw = 0;
        for (let i = 0; i < list.length; i++) {
          const d = list[i]!;
          const w = dests.weight[d]!;
          if (!dests.isOverloaded(d) && w > hw) {
            best = d;
            hw = w;
          }
        }
        return best;
      },
    };
  },
};
