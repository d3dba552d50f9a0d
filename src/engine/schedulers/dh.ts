/**
 * Destination hashing (`ip_vs_dh.c`): 256 buckets, bucket i holding the (i mod n)-th dest in list order,
 * weights ignored; the packet's destination address picks the bucket. No fallback: a deleted, quiesced
 * or overloaded dest there means no dest. Rebuilt on add and delete only, as the kernel has no
 * `upd_dest` for dh (weights do not shape the table).
 */
import { bucketHash, foldWords } from './keys.js';
import type { FlowKey, SchedService, Scheduler } from './scheduler.js';

/** `IP_VS_DH_TAB_BITS`: fixed, no Kconfig knob. */
const BITS = 8;
const SIZE = 1 << BITS;

export const dh: Scheduler = {
  name: 'dh',
  description: 'destination hashing',
  create(svc: SchedService) {
    const dests = svc.dests;
    const legacy = svc.options.legacyHash;
    const buckets = new Int32Array(SIZE);

    const reassign = (): void => {
      const list = svc.list;
      for (let i = 0; i < SIZE; i++) buckets[i] = list.length === 0 ? -1 : list[i % list.length]!;
    };
    reassign();

    return {
      schedule(flow: FlowKey) {
        const d = buckets[bucketHash(foldWords(flow.daddr, flow.af), BITS, legacy)]!;
        if (d < 0 || !dests.isAvailable(d) || dests.weight[d]! <= 0 || dests.isOverloaded(d)) return -1;
        return d;
      },
      onAdd: reassign,
      onRemove: reassign,
    };
  },
};
