/**
 * Least connection (`ip_vs_lc.c`): the dest with the smallest overhead, compared as unsigned, ties to the
 * earliest in list order. Weight only gates (0 = quiesced); overloaded dests are skipped.
 */
import { connOverhead } from './load.js';
import type { SchedService, Scheduler } from './scheduler.js';

export const lc: Scheduler = {
  name: 'lc',
  description: 'least connection',
  create(svc: SchedService) {
    const dests = svc.dests;
    return {
      schedule() {
        const list = svc.list;
        let least = -1;
        let loh = 0;
        for (let i = 0; i < list.length; i++) {
          const d = list[i]!;
          if (dests.isOverloaded(d) || dests.weight[d] === 0) continue;
          const doh = connOverhead(dests, d) >>> 0;
          if (least < 0 || doh < loh) {
            least = d;
            loh = doh;
          }
        }
        return least;
      },
    };
  },
};
