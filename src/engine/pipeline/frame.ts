/**
 * What the pipeline reads and writes, as interfaces the packet I/O layer satisfies structurally: an RX
 * frame (`RxFrame` in src/dataplane/packet/handler.ts is one) and a TX sink (`TxPort` is one). The engine
 * may not import the data plane, so the few AF_PACKET / virtio constants it needs are repeated here with
 * their source (linux-packet.md §1.5, §1.7).
 */
import type { Packet } from './packet.js';

/** tp_status bits of an RX frame (TP_STATUS_*). */
export const RxStatus = Object.freeze({
  /** CHECKSUM_PARTIAL: the L4 checksum field holds the uncomplemented pseudo-header sum. */
  CSUMNOTREADY: 8,
  /** The outer VLAN tag was stripped into vlanTci. */
  VLAN_VALID: 0x10,
  /** The kernel (or NIC) already verified the checksums. */
  CSUM_VALID: 0x80,
});

/** virtio_net_hdr flags and GSO types. */
export const VnetFlag = Object.freeze({ NEEDS_CSUM: 1, DATA_VALID: 2 });
export const VnetGso = Object.freeze({ NONE: 0, TCPV4: 1, UDP: 3, TCPV6: 4, UDP_L4: 5, ECN: 0x80 });

/** The offload state of a frame (virtio_net_hdr fields; csumStart counts from the Ethernet header). */
export interface VnetState {
  readonly vnetFlags: number;
  readonly gsoType: number;
  readonly hdrLen: number;
  readonly gsoSize: number;
  readonly csumStart: number;
  readonly csumOffset: number;
}

/** One received frame. Valid only during the call that is given it. */
export interface PipelineFrame extends VnetState {
  readonly buf: Uint8Array;
  /** Offset of the Ethernet header in `buf`. */
  readonly offset: number;
  readonly len: number;
  /** RxStatus bits. */
  readonly status: number;
  /** Index of the interface (ring) it arrived on: an index into the pipeline's interfaces and sinks. */
  readonly port: number;
  /** The stripped outer VLAN tag when status has VLAN_VALID. */
  readonly vlanTci: number;
}

/**
 * Where output frames go, one per interface. `acquire()` returns the offset in `buf` where the next frame
 * may be written (or -1 when the ring is full); calling it again before `send` returns the same place;
 * `send(len, vnet)` queues the frame written there. A TxPort is one.
 */
/**
 * Told of every packet of a session that the pipeline forwarded as exactly one frame (the XDP fast path
 * offloads sessions from it). `dir`: Dir.INPUT (client -> real server) or Dir.OUTPUT; the frame sent is
 * `outLen` bytes at `outOff` in `outBuf`, on interface `outIface`. Must not keep `p` or the buffers.
 */
export interface ForwardObserver {
  forwarded(
    conn: number,
    dir: number,
    p: Packet,
    outBuf: Uint8Array,
    outOff: number,
    outLen: number,
    outIface: number,
  ): void;
}

export interface FrameSink {
  readonly buf: Uint8Array;
  /** Largest frame one slot holds. */
  readonly capacity: number;
  acquire(): number;
  send(len: number, vnet?: VnetState | null): boolean;
}

/** The mutable vnet header the pipeline hands to `send` (one per pipeline, refilled per frame). */
export class OutVnet implements VnetState {
  vnetFlags = 0;
  gsoType = 0;
  hdrLen = 0;
  gsoSize = 0;
  csumStart = 0;
  csumOffset = 0;
}

/** A plain mutable frame for tests, benchmarks and the batch API. */
export class MutableFrame implements PipelineFrame {
  buf: Uint8Array = new Uint8Array(0);
  offset = 0;
  len = 0;
  status = 0;
  port = 0;
  vlanTci = 0;
  vnetFlags = 0;
  gsoType = 0;
  hdrLen = 0;
  gsoSize = 0;
  csumStart = 0;
  csumOffset = 0;

  /** Points at `len` bytes of `buf` from `offset`, with no offload state. */
  set(buf: Uint8Array, offset: number, len: number, port = 0, status = 0): this {
    this.buf = buf;
    this.offset = offset;
    this.len = len;
    this.port = port;
    this.status = status;
    this.vlanTci = 0;
    this.vnetFlags = 0;
    this.gsoType = 0;
    this.hdrLen = 0;
    this.gsoSize = 0;
    this.csumStart = 0;
    this.csumOffset = 0;
    return this;
  }
}

/**
 * What the pipeline did with a frame. A packet handler maps FORWARD and REPLY to its SENT (frames went
 * out through a sink), DROP and PASS to its own.
 */
export const Verdict = Object.freeze({
  /** Dropped on purpose; the reason is counted. */
  DROP: 0,
  /** Forwarded (rewritten) towards a real server or a client. */
  FORWARD: 1,
  /** Not ours: the kernel, which sees every frame anyway, decides. */
  PASS: 2,
  /** Answered by the director itself (ARP, neighbour advertisement). */
  REPLY: 3,
});
export type VerdictValue = (typeof Verdict)[keyof typeof Verdict];
export const VERDICT_NAMES = Object.freeze(['drop', 'forward', 'pass', 'reply'] as const);
