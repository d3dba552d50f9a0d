/**
 * The contract between the packet loop and the code that decides what to do with each frame (a test
 * reflector today, the forwarding pipeline later). A handler module exports
 * `createHandler(ctx: HandlerContext): FrameHandler | Promise<FrameHandler>`; the worker imports it by path.
 *
 * Per frame the loop fills one reused `RxFrame` and calls `handle(frame)`. The handler transmits 0..n
 * frames through `ctx.ports` (one TxPort per ring, so it can answer on the same interface or send out of
 * another) and returns a Verdict. Nothing here allocates per frame: frames are copied straight from the
 * RX slot into a TX slot (`port.forward`), or built in place at `port.acquire()`.
 */
import type { PacketRing } from './ring.js';
import type { VnetFields } from './vnet.js';

export const Verdict = Object.freeze({
  /** Dropped on purpose (counted as handlerDrops). */
  DROP: 0,
  /** Transmitted (or consumed) by the handler. */
  SENT: 1,
  /** Not ours: ignored here; the kernel stack sees every frame anyway (counted as handlerPass). */
  PASS: 2,
});

/** The frame being handled: a view valid only during `handle()`. Implements VnetFields for pass-through. */
export class RxFrame implements VnetFields {
  /** The mapping holding the frame (the ring's `buf`). */
  buf: Buffer = Buffer.alloc(0);
  /** Offset of the Ethernet header in `buf`. */
  offset = 0;
  /** Frame length; truncated frames never reach a handler, so all `len` bytes are present. */
  len = 0;
  /** tp_status bits (RxStatus): CSUMNOTREADY, CSUM_VALID, VLAN_VALID, LOSING... */
  status = 0;
  /** Index of the port (ring) it arrived on. */
  port = 0;
  /** sll_pkttype (PacketType). */
  pktType = 0;
  /** VLAN tag stripped by the kernel, when status has VLAN_VALID. */
  vlanTci = 0;
  vlanTpid = 0;
  vnetFlags = 0;
  gsoType = 0;
  hdrLen = 0;
  gsoSize = 0;
  csumStart = 0;
  csumOffset = 0;
}

/** Transmit side of one ring, as handlers see it. */
export class TxPort {
  readonly index: number;
  readonly ring: PacketRing;
  readonly buf: Buffer;
  readonly ifname: string;
  readonly mac: Uint8Array;
  #slot = -1;

  constructor(ring: PacketRing, index: number) {
    this.ring = ring;
    this.index = index;
    this.buf = ring.buf;
    this.ifname = ring.ifname;
    this.mac = ring.mac;
  }

  get mtu(): number {
    return this.ring.mtu;
  }

  /** Largest frame a slot holds. */
  get capacity(): number {
    return this.ring.txCapacity;
  }

  /**
   * Offset in `buf` where the next frame goes, or -1 when the ring is full (counted). Calling it again
   * without send() returns the same slot.
   */
  acquire(): number {
    const slot = this.ring.txAcquire();
    this.#slot = slot;
    return slot < 0 ? -1 : this.ring.txDataOffset(slot);
  }

  /** Queues the `len` bytes written at the offset acquire() returned; false if refused (counted). */
  send(len: number, vnet: VnetFields | null = null): boolean {
    const slot = this.#slot;
    if (slot < 0) return false;
    this.#slot = -1;
    return this.ring.txCommit(slot, len, vnet);
  }

  /**
   * Copies `frame` unchanged into a TX slot and queues it, carrying `vnet` (default: the frame's own
   * offload state, so NEEDS_CSUM/GSO frames leave with their checksum still to be finished by the kernel).
   */
  forward(frame: RxFrame, vnet: VnetFields | null = frame): boolean {
    const dst = this.acquire();
    if (dst < 0) return false;
    // Rings of one group (the worker's) share `buf`, so this is a memmove. Buffer.copy between two
    // mappings allocates a view per call: only rings opened separately take that path.
    if (frame.buf === this.buf) this.buf.copyWithin(dst, frame.offset, frame.offset + frame.len);
    else frame.buf.copy(this.buf, dst, frame.offset, frame.offset + frame.len);
    return this.send(frame.len, vnet);
  }
}

export interface HandlerContext {
  /** One port per configured ring, in configuration order. */
  readonly ports: readonly TxPort[];
  /** `handlerOptions` as given to PacketWorker.start (structured-cloned). */
  readonly options: unknown;
}

export interface FrameHandler {
  /** Decides one frame; returns a Verdict. Must not keep `frame` (or its bytes) after returning. */
  handle(frame: RxFrame): number;
  /**
   * Optional: decides a whole batch of frames (all from one ring) at once, writing each frame's Verdict to
   * `verdicts[k]`. The frames stay valid until it returns. When present it is used instead of `handle`.
   */
  handleBatch?(frames: readonly RxFrame[], count: number, verdicts: Uint8Array): void;
  /** Called between batches with the current time, for timers (connection expiry...). */
  tick?(nowMs: number): void;
  /** A control message from the main thread ("load new config/state"); the result is posted back. */
  control?(message: unknown): unknown;
  close?(): void;
}

export type CreateHandler = (ctx: HandlerContext) => FrameHandler | Promise<FrameHandler>;
