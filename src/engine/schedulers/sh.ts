/**
 * Source hashing (`ip_vs_sh.c`). A table of 2^bits buckets is filled in list order, each dest holding
 * max(weight, 1) consecutive buckets per cycle (weight 0 still takes one), rebuilt on every list change.
 * The client address (plus its port with sh-port) picks a bucket; without sh-fallback an unusable dest
 * (weight 0 or overloaded) means no dest, with it the probe walks on from the home bucket.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { anyUsable, bucketHash, flowPort, foldWords } from './keys.js';
import type { FlowKey, SchedService, Scheduler } from './scheduler.js';

/** `CONFIG_IP_VS_SH_TAB_BITS` range in the kernel's Kconfig. */
const MIN_BITS = 4;
const MAX_BITS = 20;

function checkBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS) {
    throw new TslvsError(
      ErrorCodes.SCHEDULER,
      `sh table bits ${bits} out of range ${MIN_BITS}-${MAX_BITS} (table of 2^bits buckets)`,
      { option: 'shTableBits', value: bits },
    );
  }
  return bits;
}

export const sh: Scheduler = {
  name: 'sh',
  description: 'source hashing',
  create(svc: SchedService) {
    const dests = svc.dests;
    const bits = checkBits(svc.options.shTableBits);
    const size = 1 << bits;
    const mask = size - 1;
    const legacy = svc.options.legacyHash;
    const buckets = new Int32Array(size);

    /** `ip_vs_sh_reassign`. */
    const reassign = (): void => {
      const list = svc.list;
      if (list.length === 0) {
        buckets.fill(-1);
        return;
      }
      let p = 0;
      let count = 0;
      for (let i = 0; i < size; i++) {
        const d = list[p]!;
        buckets[i] = d;
        if (++count >= dests.weight[d]!) {
          p = p + 1 === list.length ? 0 : p + 1;
          count = 0;
        }
      }
    };
    reassign();

    const usable = (d: number): boolean => dests.weight[d]! > 0 && !dests.isOverloaded(d);
    const home = (key: number, offset: number): number => (offset + bucketHash(key, bits, legacy)) & mask;

    return {
      schedule(flow: FlowKey) {
        const port = svc.options.port ? flowPort(flow) : 0;
        const key = (port + foldWords(flow.saddr, flow.af)) >>> 0;
        const ihash = home(key, 0);
        const d = buckets[ihash]!;
        if (d < 0) return -1;
        if (usable(d)) return d;
        if (!svc.options.fallback || !anyUsable(dests, svc.list)) return -1; // same answer, no full walk
        // ip_vs_sh_get_fallback: offsets ihash, ihash+1, ... added to the home hash again.
        for (let off = 0; off < size; off++) {
          const b = buckets[home(key, (off + ihash) & mask)]!;
          if (b < 0) return -1;
          if (usable(b)) return b;
        }
        return -1;
      },
      onAdd: reassign,
      onRemove: reassign,
      onUpdate: reassign,
    };
  },
};
