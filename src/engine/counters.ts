/**
 * Traffic counters as IPVS keeps them (`struct ip_vs_kstats`): connections, packets and bytes in each
 * direction, one block of five float64 per service or real server. Float64 counts exactly up to 2^53, far
 * past what a u32 would hold, and the hot path adds to it without allocating.
 */
export const Counter = Object.freeze({ CONNS: 0, INPKTS: 1, OUTPKTS: 2, INBYTES: 3, OUTBYTES: 4 });
export const COUNTER_STRIDE = 5;
export const COUNTER_NAMES = Object.freeze(['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'] as const);

export interface CounterSnapshot {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

export class CounterBlock {
  #v: Float64Array;

  constructor(capacity: number) {
    this.#v = new Float64Array(capacity * COUNTER_STRIDE);
  }

  /** The raw array; re-read it after `ensure()` may have grown it. */
  get values(): Float64Array {
    return this.#v;
  }

  ensure(capacity: number): void {
    if (capacity * COUNTER_STRIDE <= this.#v.length) return;
    const next = new Float64Array(Math.max(capacity, (this.#v.length / COUNTER_STRIDE) * 2) * COUNTER_STRIDE);
    next.set(this.#v);
    this.#v = next;
  }

  inPacket(id: number, bytes: number): void {
    const b = id * COUNTER_STRIDE;
    this.#v[b + Counter.INPKTS]! += 1;
    this.#v[b + Counter.INBYTES]! += bytes;
  }

  outPacket(id: number, bytes: number): void {
    const b = id * COUNTER_STRIDE;
    this.#v[b + Counter.OUTPKTS]! += 1;
    this.#v[b + Counter.OUTBYTES]! += bytes;
  }

  /** `packets` packets of `bytes` bytes in all, counted elsewhere (the XDP fast path). */
  addPackets(id: number, input: boolean, packets: number, bytes: number): void {
    const b = id * COUNTER_STRIDE;
    this.#v[b + (input ? Counter.INPKTS : Counter.OUTPKTS)]! += packets;
    this.#v[b + (input ? Counter.INBYTES : Counter.OUTBYTES)]! += bytes;
  }

  conn(id: number): void {
    this.#v[id * COUNTER_STRIDE + Counter.CONNS]! += 1;
  }

  reset(id: number): void {
    this.#v.fill(0, id * COUNTER_STRIDE, (id + 1) * COUNTER_STRIDE);
  }

  snapshot(id: number): CounterSnapshot {
    const b = id * COUNTER_STRIDE;
    const v = this.#v;
    return { conns: v[b]!, inpkts: v[b + 1]!, outpkts: v[b + 2]!, inbytes: v[b + 3]!, outbytes: v[b + 4]! };
  }
}
