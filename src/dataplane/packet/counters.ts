/**
 * Packet worker counters: one Float64Array over a SharedArrayBuffer, written by the worker once per batch
 * and read by the main thread whenever it likes, so no message is ever sent per packet. Float64 holds
 * integers exactly up to 2^53, far beyond any counter's lifetime.
 */

/** Index of every counter in the shared array. Append only: the index is the ABI between threads. */
export const Counter = Object.freeze({
  /** Frames taken from RX rings (all ports), and their wire bytes. */
  RX_FRAMES: 0,
  RX_BYTES: 1,
  /** Frames and bytes handed to the kernel by TX flushes (all ports). */
  TX_FRAMES: 2,
  TX_BYTES: 3,
  /** A handler asked for a TX slot and every slot was busy. */
  TX_RING_FULL: 4,
  /** The handler returned DROP. */
  HANDLER_DROPS: 5,
  /** The handler returned PASS (not ours: left to the kernel stack, which sees every frame anyway). */
  HANDLER_PASS: 6,
  /** The handler threw; the frame counts as dropped and the loop carries on. */
  HANDLER_ERRORS: 7,
  /** RX frames longer than their slot (snaplen < len): dropped before the handler. */
  RX_TRUNCATED: 8,
  /** TX frames refused by validation (oversize without GSO, bad vnet header). */
  TX_INVALID: 9,
  /** TX frames the kernel skipped under PACKET_LOSS. */
  TX_KERNEL_SKIPPED: 10,
  /** Flushes that met EAGAIN/ENOBUFS (frames stay queued) and other send() failures. */
  TX_AGAIN: 11,
  TX_ERRORS: 12,
  /** poll() returned because something was ready, or because the timeout expired. */
  POLL_WAKEUPS: 13,
  POLL_TIMEOUTS: 14,
  /** PACKET_STATISTICS: frames the kernel dropped because the RX ring was full, and all it offered. */
  KERNEL_DROPS: 15,
  KERNEL_PACKETS: 16,
  /** Loop batches that processed at least one frame. */
  BATCHES: 17,
  /** Control messages handled. */
  CONTROL_MESSAGES: 18,
  /** Date.now() of the last publication, so a reader can tell a stalled worker from an idle one. */
  UPDATED_AT_MS: 19,
});

export const COUNTER_COUNT = 20;

export type CounterName =
  | 'rxFrames'
  | 'rxBytes'
  | 'txFrames'
  | 'txBytes'
  | 'txRingFull'
  | 'handlerDrops'
  | 'handlerPass'
  | 'handlerErrors'
  | 'rxTruncated'
  | 'txInvalid'
  | 'txKernelSkipped'
  | 'txAgain'
  | 'txErrors'
  | 'pollWakeups'
  | 'pollTimeouts'
  | 'kernelDrops'
  | 'kernelPackets'
  | 'batches'
  | 'controlMessages'
  | 'updatedAtMs';

const NAMES: readonly CounterName[] = [
  'rxFrames',
  'rxBytes',
  'txFrames',
  'txBytes',
  'txRingFull',
  'handlerDrops',
  'handlerPass',
  'handlerErrors',
  'rxTruncated',
  'txInvalid',
  'txKernelSkipped',
  'txAgain',
  'txErrors',
  'pollWakeups',
  'pollTimeouts',
  'kernelDrops',
  'kernelPackets',
  'batches',
  'controlMessages',
  'updatedAtMs',
];

export type PacketCounters = Record<CounterName, number>;

export function createCounterArray(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(COUNTER_COUNT * Float64Array.BYTES_PER_ELEMENT));
}

/** A plain-object copy of the counters (for metrics and tests; allocates). */
export function snapshotCounters(arr: Float64Array): PacketCounters {
  const out = {} as PacketCounters;
  NAMES.forEach((name, i) => {
    out[name] = arr[i]!;
  });
  return out;
}
