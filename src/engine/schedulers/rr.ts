/**
 * Round robin (`ip_vs_rr.c`). State is the last chosen node; -1 stands for the list head. A pick scans
 * circularly from the node after it, up to and including it, for the first dest that is not overloaded
 * and has weight > 0.
 */
import { isEligible, type SchedService, type Scheduler } from './scheduler.js';

export const rr: Scheduler = {
  name: 'rr',
  description: 'round robin',
  create(svc: SchedService) {
    let pos = -1;
    return {
      schedule() {
        const list = svc.list;
        const n = list.length;
        for (let k = 1; k <= n; k++) {
          const i = (pos + k) % n;
          const d = list[i]!;
          if (isEligible(svc.dests, d)) {
            pos = i;
            return d;
          }
        }
        return -1;
      },
      onAdd() {
        if (pos >= 0) pos++; // the pointed-to node moved one place down the array
      },
      onRemove(_dest, formerIndex) {
        // ip_vs_rr_del_dest: a pointer on the removed dest moves to its predecessor (maybe the head).
        if (formerIndex <= pos) pos--;
      },
    };
  },
};
