/**
 * Maglev hashing (`ip_vs_mh.c`). The lookup table (maglev.ts) is rebuilt from scratch on every list
 * change, weighted by last_weight so a quiesced dest keeps its slots: lookups landing there fail (or,
 * with mh-fallback, probe on) instead of moving every other client. The client address (plus its port
 * with mh-port) picks the slot.
 *
 * Table size: any prime (IPVS compiles in one of 251 ... 131071, default 4093; tslvs defaults to 65537
 * for smoother weights and less disruption with many dests). Where IPVS refuses to rebuild for more
 * dests than slots and keeps the stale table, tslvs builds anyway: the surplus dests get no slot.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { anyUsable, flowPort, foldDest, foldWords } from './keys.js';
import { isPrime, type MaglevDest, MH_KEY1, maglevTable, mhHash } from './maglev.js';
import type { FlowKey, SchedService, Scheduler } from './scheduler.js';

/** Largest accepted table (64 MiB of Int32 slots would be silly for a scheduler). */
const MAX_SIZE = 1 << 24;

function checkSize(m: number): number {
  if (!isPrime(m) || m > MAX_SIZE) {
    throw new TslvsError(
      ErrorCodes.SCHEDULER,
      `mh table size ${m} must be a prime up to ${MAX_SIZE} (IPVS uses 251, 509, 1021, 2039, 4093, ` +
        '8191, 16381, 32749, 65521 or 131071)',
      { option: 'mhTableSize', value: m },
    );
  }
  return m;
}

export const mh: Scheduler = {
  name: 'mh',
  description: 'maglev hashing',
  create(svc: SchedService) {
    const dests = svc.dests;
    const m = checkSize(svc.options.mhTableSize);
    const slots = new Int32Array(m);

    const rebuild = (): void => {
      const list = svc.list;
      const input: MaglevDest[] = list.map((d) => ({
        fold: foldDest(dests, d),
        port: dests.port[d]!,
        weight: dests.lastWeight[d]!,
      }));
      const t = maglevTable(input, m);
      for (let i = 0; i < m; i++) slots[i] = t[i]! < 0 ? -1 : list[t[i]!]!;
    };
    rebuild();

    const usable = (d: number): boolean => dests.weight[d]! > 0 && !dests.isOverloaded(d);

    return {
      schedule(flow: FlowKey) {
        const port = svc.options.port ? flowPort(flow) : 0;
        const fold = foldWords(flow.saddr, flow.af);
        const ihash = mhHash(fold, port, 0, MH_KEY1) % m;
        const d = slots[ihash]!;
        if (d < 0) return -1;
        if (usable(d)) return d;
        if (!svc.options.fallback || !anyUsable(dests, svc.list)) return -1;
        // ip_vs_mh_get_fallback: rehash with offsets ihash, ihash+1, ... until a usable dest; an empty
        // slot ends the search. (The check above gives the same answer as the kernel's full M-probe
        // walk when no dest is usable, without up to M SipHashes per connection.)
        for (let off = 0; off < m; off++) {
          const roffset = (off + ihash) % m;
          const b = slots[mhHash(fold, port, roffset, MH_KEY1) % m]!;
          if (b < 0) return -1;
          if (usable(b)) return b;
        }
        return -1;
      },
      onAdd: rebuild,
      onRemove: rebuild,
      onUpdate: rebuild,
    };
  },
};
