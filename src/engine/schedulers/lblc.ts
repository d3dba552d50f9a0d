/**
 * Locality-based least connection (`ip_vs_lblc.c`), for cache clusters: a cache maps each packet
 * destination address to a dest. A hit is reused while that dest is available, has weight > 0 and is not
 * "overloaded" in lblc's sense (more active connections than its weight while another dest is under half
 * of its own; the OVERLOAD flag is not consulted); otherwise wlc picks and the entry is replaced.
 *
 * Differences from IPVS, none visible in picks: removing a dest drops its entries at once (IPVS keeps
 * them until used, then replaces them), and the entry count stays exact where IPVS's replacement path
 * increments it without a matching decrement.
 */
import { seedFrom } from '../hash.js';
import { isLocalityOverloaded, wlcPick } from './load.js';
import { DEFAULT_EXPIRATION_MS, LocalityTable } from './locality-table.js';
import type { FlowKey, SchedEnv, SchedService, Scheduler } from './scheduler.js';

export const lblc: Scheduler = {
  name: 'lblc',
  description: 'locality-based least connection',
  create(svc: SchedService, env: SchedEnv) {
    const dests = svc.dests;
    const cache = new LocalityTable(seedFrom(() => env.random()));

    return {
      schedule(flow: FlowKey, now: number) {
        const list = svc.list;
        const e = cache.find(flow.af, flow.daddr);
        if (e >= 0) {
          cache.lastUse[e] = now;
          const d = cache.value[e]!;
          if (dests.isAvailable(d) && dests.weight[d]! > 0 && !isLocalityOverloaded(dests, list, d)) return d;
        }
        const d = wlcPick(dests, list);
        if (d < 0) return -1;
        if (e >= 0) {
          cache.value[e] = d;
        } else {
          const fresh = cache.add(flow.af, flow.daddr, now);
          if (fresh >= 0) cache.value[fresh] = d; // a full cache still answers, it just does not learn
        }
        return d;
      },
      onRemove(dest: number) {
        cache.forEach((e) => {
          if (cache.value[e] === dest) cache.delete(e);
        });
      },
      tick(now: number) {
        cache.tick(now, DEFAULT_EXPIRATION_MS);
      },
    };
  },
};
