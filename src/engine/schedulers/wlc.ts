/**
 * Weighted least connection (`ip_vs_wlc.c`): the dest with the least overhead / weight, compared as
 * cross-multiplied 64-bit products (see load.ts), ties to the earliest in list order.
 */
import { wlcPick } from './load.js';
import type { SchedService, Scheduler } from './scheduler.js';

export const wlc: Scheduler = {
  name: 'wlc',
  description: 'weighted least connection',
  create(svc: SchedService) {
    return {
      schedule() {
        return wlcPick(svc.dests, svc.list);
      },
    };
  },
};
