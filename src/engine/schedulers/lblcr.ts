/**
 * Locality-based least connection with replication (`ip_vs_lblcr.c`): each packet destination address
 * maps to a set of dests. The least loaded usable member serves (wlc rule within the set); when there is
 * none, or it is overloaded in lblc's sense, wlc over the service picks and joins the set. A set with
 * several members that was not modified for `lblcr_expiration` (24 h) sheds its most loaded member.
 *
 * Difference from IPVS: removing a dest takes it out of every set at once; IPVS keeps it as an unusable
 * member until it is shed or the entry expires (it still counts towards the set size there).
 */
import { seedFrom } from '../hash.js';
import { DestSets } from './dest-sets.js';
import { isLocalityOverloaded, wlcPick } from './load.js';
import { DEFAULT_EXPIRATION_MS, LocalityTable } from './locality-table.js';
import type { FlowKey, SchedEnv, SchedService, Scheduler } from './scheduler.js';

export const lblcr: Scheduler = {
  name: 'lblcr',
  description: 'locality-based least connection with replication',
  create(svc: SchedService, env: SchedEnv) {
    const dests = svc.dests;
    let sets: DestSets;
    const cache = new LocalityTable(
      seedFrom(() => env.random()),
      (e) => sets.eraseAll(e),
    );
    sets = new DestSets(cache, dests);

    return {
      schedule(flow: FlowKey, now: number) {
        const list = svc.list;
        const e = cache.find(flow.af, flow.daddr);
        if (e >= 0) {
          cache.lastUse[e] = now;
          const least = sets.min(e);
          if (cache.setSize[e]! > 1 && now > cache.setLastMod[e]! + DEFAULT_EXPIRATION_MS) {
            const most = sets.max(e);
            if (most >= 0) sets.erase(e, most, now);
          }
          // `least` serves even if it was the member just shed, as in IPVS.
          if (least >= 0 && !isLocalityOverloaded(dests, list, least)) return least;
          const d = wlcPick(dests, list);
          if (d < 0) return -1;
          sets.insert(e, d, true, now);
          return d;
        }
        const d = wlcPick(dests, list);
        if (d < 0) return -1;
        const fresh = cache.add(flow.af, flow.daddr, now);
        if (fresh >= 0) sets.insert(fresh, d, false, now);
        return d;
      },
      onRemove(dest: number) {
        cache.forEach((e) => {
          sets.erase(e, dest, -1);
        });
      },
      tick(now: number) {
        cache.tick(now, DEFAULT_EXPIRATION_MS);
      },
    };
  },
};
