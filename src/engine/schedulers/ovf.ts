/**
 * Overflow connection (`ip_vs_ovf.c`): the highest-weight dest that still has no more active connections
 * than its weight; ties go to the earliest in list order. Only active connections count, so UDP (always
 * inactive) never overflows.
 */
import type { SchedService, Scheduler } from './scheduler.js';

export const ovf: Scheduler = {
  name: 'ovf',
  description: 'overflow connection',
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
          if (dests.isOverloaded(d) || dests.activeConns[d]! > w || w === 0) continue;
          if (best < 0 || w > hw) {
            best = d;
            hw = w;
          }
        }
        return best;
      },
    };
  },
};
