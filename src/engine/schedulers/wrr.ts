/**
 * Weighted round robin (`ip_vs_wrr.c`). Passes over the list with a falling current weight `cw`: the
 * first pass takes dests with weight >= mw, each later pass lowers cw by di (the gcd of the weights),
 * the last pass is at cw = 1, then it starts over. `cl` is the last chosen node, -1 standing for the
 * list head. Any list change resets cl to the head and recomputes di and mw (`ip_vs_wrr_dest_changed`).
 */
import type { DestTable } from '../dest-table.js';
import type { SchedService, Scheduler } from './scheduler.js';

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** `ip_vs_wrr_gcd_weight`: gcd of the weights > 0, or 1 when there are none. */
function gcdWeight(dests: DestTable, list: readonly number[]): number {
  let g = 0;
  for (const d of list) {
    const w = dests.weight[d]!;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
  }
  return g > 0 ? g : 1;
}

function maxWeight(dests: DestTable, list: readonly number[]): number {
  let m = 0;
  for (const d of list) if (dests.weight[d]! > m) m = dests.weight[d]!;
  return m;
}

const HEAD = -1;
const NONE = -2;

export const wrr: Scheduler = {
  name: 'wrr',
  description: 'weighted round robin',
  create(svc: SchedService) {
    const dests = svc.dests;
    let cl = HEAD;
    // mw is lowered by di - 1 so that the last pass runs at cw = 1 and still finds a dest whose weight
    // dropped below di while passes were under way.
    let di = gcdWeight(dests, svc.list);
    let mw = maxWeight(dests, svc.list) - (di - 1);
    let cw = mw;

    const changed = (): void => {
      cl = HEAD;
      di = gcdWeight(dests, svc.list);
      mw = maxWeight(dests, svc.list) - (di - 1);
      if (cw > mw || cw === 0) cw = mw;
      else if (di > 1) cw = Math.trunc(cw / di) * di + 1;
    };

    return {
      schedule() {
        if (mw === 0) return -1;
        const list = svc.list;
        const n = list.length;
        const weight = dests.weight;
        const last = cl;
        let stop = NONE;
        let lastPass = false;
        let restarted = false;
        let i = cl;
        for (;;) {
          for (i++; i < n; i++) {
            const d = list[i]!;
            if (!dests.isOverloaded(d) && weight[d]! >= cw) {
              cl = i;
              return d;
            }
            if (i === stop) {
              cl = i;
              return -1;
            }
          }
          i = HEAD;
          cw -= di;
          if (cw <= 0) {
            cw = mw;
            // Every dest was already tried at cw = 1: in this call's last pass, or because the scan
            // started at the head and the only traversal so far was the cw = 1 one.
            if (lastPass || last === HEAD) {
              cl = HEAD;
              return -1;
            }
            restarted = true;
          }
          lastPass = cw <= di;
          // The first cw = 1 traversal only covered the dests after `last`; finish with those up to it.
          if (lastPass && restarted && last !== HEAD) stop = last;
        }
      },
      onAdd: changed,
      onRemove: changed,
      onUpdate: changed,
    };
  },
};
