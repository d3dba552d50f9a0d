/**
 * The hot loop, run inside a worker thread: take RX frames in batches from every ring, run the handler on
 * each, flush TX once per batch, and block in poll() when idle. The loop runs in slices and returns to the
 * event loop between them (setImmediate) so control messages posted to the worker are delivered; a
 * wake-up eventfd in the poll set lets the main thread cut a blocking poll short, and the poll timeout is
 * bounded so a stop request is always noticed.
 */

import { BATCH_MAX } from '../../engine/conntable/flow-batch.js';
import { RxStatus, VNET_HDR_LEN } from './constants.js';
import { Counter } from './counters.js';
import { POLLIN, PollSet } from './fdwatch.js';
import { type FrameHandler, RxFrame, TxPort, Verdict } from './handler.js';
import { libc } from './libc.js';
import type { PacketRing } from './ring.js';

/** Frames taken from one ring per batch by default: the largest batch the pipeline looks up at once. */
export const DEFAULT_BATCH_SIZE = BATCH_MAX;

export interface LoopOptions {
  /** Frames taken from one ring before moving on (and before each TX flush). Default DEFAULT_BATCH_SIZE. */
  batchSize?: number;
  /** Longest blocking poll() while idle. Default 50 ms. */
  pollTimeoutMs?: number;
  /** Longest run of batches before yielding to the event loop. Default 20 ms. */
  sliceMs?: number;
  /** How often PACKET_STATISTICS is read. Default 1000 ms. */
  statsIntervalMs?: number;
}

const STOP = 0;
const wakeBuf = Buffer.alloc(8);

export class PacketLoop {
  readonly #rings: readonly PacketRing[];
  readonly #handler: FrameHandler;
  readonly #shared: Float64Array;
  readonly #acc: Float64Array;
  readonly #control: Int32Array;
  readonly #wakeFd: number;
  readonly #poll: PollSet;
  readonly #frame = new RxFrame();
  /** For batch handlers: one frame object per batch position, and the RX slots they came from. */
  readonly #frames: RxFrame[] = [];
  readonly #slots: Int32Array;
  readonly #verdicts: Uint8Array;
  readonly #batch: number;
  readonly #pollTimeout: number;
  readonly #slice: number;
  readonly #statsEvery: number;
  #nextStats = 0;

  /**
   * `shared` receives the counters; `control[0]` becomes non-zero to ask the loop to stop; `wakeFd` (an
   * eventfd owned by the main thread, or -1) is polled alongside the rings.
   */
  constructor(
    rings: readonly PacketRing[],
    handler: FrameHandler,
    shared: Float64Array,
    control: Int32Array,
    wakeFd: number,
    opts: LoopOptions = {},
  ) {
    this.#rings = rings;
    this.#handler = handler;
    this.#shared = shared;
    this.#acc = new Float64Array(shared.length);
    this.#control = control;
    this.#wakeFd = wakeFd;
    this.#batch = opts.batchSize ?? DEFAULT_BATCH_SIZE;
    this.#pollTimeout = opts.pollTimeoutMs ?? 50;
    this.#slice = opts.sliceMs ?? 20;
    this.#statsEvery = opts.statsIntervalMs ?? 1000;
    this.#slots = new Int32Array(this.#batch);
    this.#verdicts = new Uint8Array(this.#batch);
    if (handler.handleBatch) for (let i = 0; i < this.#batch; i++) this.#frames.push(new RxFrame());
    const entries = rings.map((r) => ({ fd: r.fd, events: POLLIN }));
    if (wakeFd >= 0) entries.push({ fd: wakeFd, events: POLLIN });
    this.#poll = new PollSet(entries);
  }

  /** Builds the ports a handler transmits through (one per ring, same order). */
  static ports(rings: readonly PacketRing[]): TxPort[] {
    return rings.map((r, i) => new TxPort(r, i));
  }

  get stopRequested(): boolean {
    return Atomics.load(this.#control, STOP) !== 0;
  }

  /** Runs slices until a stop is requested; the returned promise settles after the final publication. */
  run(): Promise<void> {
    return new Promise((resolve, reject) => {
      const step = () => {
        try {
          if (this.runSlice()) {
            setImmediate(step);
          } else {
            this.publish();
            resolve();
          }
        } catch (err) {
          reject(err);
        }
      };
      step();
    });
  }

  /**
   * Processes batches for up to one slice, blocking in poll() while idle. Returns false once a stop is
   * requested, true when it yields (slice over, poll timeout, or a wake-up from the main thread).
   */
  runSlice(): boolean {
    const deadline = performance.now() + this.#slice;
    for (;;) {
      if (this.stopRequested) return false;
      const n = this.processBatch();
      if (n === 0) {
        this.publish();
        let timeout = this.#pollTimeout;
        for (const r of this.#rings) if (r.txQueued > 0) timeout = 1; // frames wait for socket buffer room
        const ready = this.#poll.wait(timeout);
        if (ready === 0) {
          this.#acc[Counter.POLL_TIMEOUTS]!++;
          return true;
        }
        this.#acc[Counter.POLL_WAKEUPS]!++;
        if (this.#wakeFd >= 0 && this.#poll.revents(this.#rings.length) !== 0) {
          libc().read(this.#wakeFd, wakeBuf, 8);
          return true;
        }
      } else if (performance.now() >= deadline) {
        this.publish();
        return true;
      }
    }
  }

  /** One pass over every ring: up to batchSize frames each, then one TX flush per ring. */
  processBatch(): number {
    if (this.#handler.handleBatch) return this.#processBatchWhole();
    const rings = this.#rings;
    const frame = this.#frame;
    const handler = this.#handler;
    const acc = this.#acc;
    let total = 0;
    for (let p = 0; p < rings.length; p++) {
      const ring = rings[p]!;
      const buf = ring.buf;
      frame.buf = buf;
      frame.port = p;
      for (let k = 0; k < this.#batch; k++) {
        const slot = ring.rxNext();
        if (slot < 0) break;
        total++;
        const len = ring.rxLen(slot);
        acc[Counter.RX_FRAMES]!++;
        acc[Counter.RX_BYTES]! += len;
        if (ring.rxSnaplen(slot) < len) {
          acc[Counter.RX_TRUNCATED]!++;
          ring.rxRelease(slot);
          continue;
        }
        fillFrame(frame, ring, slot, len);
        let verdict: number;
        try {
          verdict = handler.handle(frame);
        } catch {
          verdict = -1;
        }
        ring.rxRelease(slot);
        if (verdict === Verdict.DROP) acc[Counter.HANDLER_DROPS]!++;
        else if (verdict === Verdict.PASS) acc[Counter.HANDLER_PASS]!++;
        else if (verdict !== Verdict.SENT) acc[Counter.HANDLER_ERRORS]!++;
      }
    }
    for (let p = 0; p < rings.length; p++) {
      const ring = rings[p]!;
      if (ring.txQueued > 0) ring.txFlush();
    }
    if (total > 0) acc[Counter.BATCHES]!++;
    return total;
  }

  /**
   * The same pass for a handler that takes a whole batch (`handleBatch`): the RX slots stay held until the
   * handler returns, so it can look all their sessions up at once before writing any output.
   */
  #processBatchWhole(): number {
    const rings = this.#rings;
    const handler = this.#handler;
    const acc = this.#acc;
    const frames = this.#frames;
    const slots = this.#slots;
    const verdicts = this.#verdicts;
    let total = 0;
    for (let p = 0; p < rings.length; p++) {
      const ring = rings[p]!;
      let n = 0;
      for (let k = 0; k < this.#batch; k++) {
        const slot = ring.rxNext();
        if (slot < 0) break;
        const len = ring.rxLen(slot);
        acc[Counter.RX_FRAMES]!++;
        acc[Counter.RX_BYTES]! += len;
        if (ring.rxSnaplen(slot) < len) {
          acc[Counter.RX_TRUNCATED]!++;
          ring.rxRelease(slot);
          continue;
        }
        const frame = frames[n]!;
        frame.buf = ring.buf;
        frame.port = p;
        fillFrame(frame, ring, slot, len);
        slots[n++] = slot;
      }
      if (n === 0) continue;
      total += n;
      try {
        handler.handleBatch!(frames, n, verdicts);
      } catch {
        verdicts.fill(255, 0, n);
      }
      for (let k = 0; k < n; k++) {
        ring.rxRelease(slots[k]!);
        const v = verdicts[k]!;
        if (v === Verdict.DROP) acc[Counter.HANDLER_DROPS]!++;
        else if (v === Verdict.PASS) acc[Counter.HANDLER_PASS]!++;
        else if (v !== Verdict.SENT) acc[Counter.HANDLER_ERRORS]!++;
      }
    }
    for (let p = 0; p < rings.length; p++) {
      const ring = rings[p]!;
      if (ring.txQueued > 0) ring.txFlush();
    }
    if (total > 0) acc[Counter.BATCHES]!++;
    return total;
  }

  /** Copies the counters (loop + rings) to the shared array; reads kernel statistics when due. */
  publish(): void {
    const now = Date.now();
    const acc = this.#acc;
    const out = this.#shared;
    if (now >= this.#nextStats) {
      this.#nextStats = now + this.#statsEvery;
      for (const r of this.#rings) r.stats();
    }
    let txFrames = 0;
    let txBytes = 0;
    let ringFull = 0;
    let invalid = 0;
    let skipped = 0;
    let again = 0;
    let errors = 0;
    let kDrops = 0;
    let kPackets = 0;
    for (const r of this.#rings) {
      const c = r.counters;
      txFrames += c.txFrames;
      txBytes += c.txBytes;
      ringFull += c.txRingFull;
      invalid += c.txInvalid;
      skipped += c.txKernelSkipped;
      again += c.txAgain;
      errors += c.txErrors;
      kDrops += c.kernelDrops;
      kPackets += c.kernelPackets;
    }
    acc[Counter.TX_FRAMES] = txFrames;
    acc[Counter.TX_BYTES] = txBytes;
    acc[Counter.TX_RING_FULL] = ringFull;
    acc[Counter.TX_INVALID] = invalid;
    acc[Counter.TX_KERNEL_SKIPPED] = skipped;
    acc[Counter.TX_AGAIN] = again;
    acc[Counter.TX_ERRORS] = errors;
    acc[Counter.KERNEL_DROPS] = kDrops;
    acc[Counter.KERNEL_PACKETS] = kPackets;
    acc[Counter.UPDATED_AT_MS] = now;
    for (let i = 0; i < acc.length; i++) out[i] = acc[i]!;
    this.#handler.tick?.(now);
  }

  /** Counts a handled control message (the worker calls this). */
  countControl(): void {
    this.#acc[Counter.CONTROL_MESSAGES]!++;
  }
}

function fillFrame(frame: RxFrame, ring: PacketRing, slot: number, len: number): void {
  const buf = frame.buf;
  const off = ring.rxDataOffset(slot);
  frame.offset = off;
  frame.len = len;
  const status = ring.rxStatus(slot);
  frame.status = status;
  frame.pktType = ring.rxPktType(slot);
  if (status & RxStatus.VLAN_VALID) {
    frame.vlanTci = ring.rxVlanTci(slot);
    frame.vlanTpid = ring.rxVlanTpid(slot);
  } else {
    frame.vlanTci = 0;
    frame.vlanTpid = 0;
  }
  if (ring.vnetHdr) {
    const v = off - VNET_HDR_LEN;
    frame.vnetFlags = buf[v]!;
    frame.gsoType = buf[v + 1]!;
    frame.hdrLen = buf[v + 2]! | (buf[v + 3]! << 8);
    frame.gsoSize = buf[v + 4]! | (buf[v + 5]! << 8);
    frame.csumStart = buf[v + 6]! | (buf[v + 7]! << 8);
    frame.csumOffset = buf[v + 8]! | (buf[v + 9]! << 8);
  } else {
    frame.vnetFlags = frame.gsoType = frame.hdrLen = frame.gsoSize = frame.csumStart = frame.csumOffset = 0;
  }
}
