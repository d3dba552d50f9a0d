/** The keys of one RX batch, column-wise, for the session table's batched lookups (hash-index.ts). */

/** Largest batch `findInBatch` takes. */
export const BATCH_MAX = 64;

/** Keys of up to BATCH_MAX client -> VIP packets, column-wise (the packet loop fills one per RX batch). */
export interface FlowBatch {
  count: number;
  readonly proto: Uint8Array;
  readonly af: Uint8Array;
  readonly saddr: Uint32Array;
  readonly sport: Uint16Array;
  readonly daddr: Uint32Array;
  readonly dport: Uint16Array;
}

export function newFlowBatch(): FlowBatch {
  return {
    count: 0,
    proto: new Uint8Array(BATCH_MAX),
    af: new Uint8Array(BATCH_MAX),
    saddr: new Uint32Array(BATCH_MAX * 4),
    sport: new Uint16Array(BATCH_MAX),
    daddr: new Uint32Array(BATCH_MAX * 4),
    dport: new Uint16Array(BATCH_MAX),
  };
}
