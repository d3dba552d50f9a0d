/**
 * PacketRing: one AF_PACKET SOCK_RAW socket bound to one interface, with TPACKET_V2 RX and TX rings in one
 * mapping (RX first, TX at +rx.bytes; reference §1.3). The API hands out slot numbers and byte offsets
 * into `buf`, a Buffer over the whole mapping, so the per-frame path allocates nothing and copies only
 * when the caller copies.
 *
 * RX: `rxNext()` returns the next filled slot (or -1) and advances; read it through the rx* accessors,
 * then `rxRelease(slot)`. The kernel fills strictly in order, so release promptly and in order.
 * TX: `txAcquire()` returns the next free slot (or -1 when full) without taking it; write the frame at
 * `txDataOffset(slot)`, then `txCommit(slot, len, vnet)` (validated, status written last). `txFlush()`
 * hands every committed frame to the kernel with one non-blocking send().
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import { MSG_DONTWAIT, RxStatus, Tp2, TX_DATA_OFFSET, TxStatus, VNET_HDR_LEN, Vnet } from './constants.js';
import { type FdWatcher, POLLIN, PollSet, type Readiness, watchFd } from './fdwatch.js';
import { interfaceInfo, validateIfname } from './ifinfo.js';
import { Errno, libc, syscallError } from './libc.js';
import { frameOffsets, type RingGeometry, resolveGeometry } from './ring-geometry.js';
import { openRingSocket, type PacketRingOptions, readPacketStats } from './ring-setup.js';
import { TxProblem, txFrameProblem, type VnetFields, writeVnet } from './vnet.js';

export type { FanoutOptions, PacketRingOptions } from './ring-setup.js';

/** Rings of one group share a mapping addressed by Uint32 offsets. */
const MAX_GROUP_BYTES = 2 ** 31;

interface SharedMapping {
  buf: Buffer;
  i32: Int32Array;
  u32: Uint32Array;
  u16: Uint16Array;
}

/** Reserves (without committing memory) an address range the rings are then mapped into. */
function reserveAddressRange(bytes: number): number {
  const c = libc();
  const PROT_NONE = 0;
  const MAP_PRIVATE_ANON_NORESERVE = 0x02 | 0x20 | 0x4000;
  const addr = c.mmap(null, bytes, PROT_NONE, MAP_PRIVATE_ANON_NORESERVE, -1, 0);
  if (addr === -1) throw syscallError('mmap(reserve ring address range)', c.errno(), { bytes });
  return addr;
}

/** Counters kept by the ring itself; plain numbers updated in place. */
export interface RingCounters {
  /** Frames and bytes (without vnet header) handed to the kernel by txFlush. */
  txFrames: number;
  txBytes: number;
  /** txAcquire found no free slot. */
  txRingFull: number;
  /** txCommit refused a frame the kernel or the device would reject (oversize, bad vnet header). */
  txInvalid: number;
  /** Frames the kernel skipped under PACKET_LOSS (WRONG_FORMAT) despite our checks. */
  txKernelSkipped: number;
  /** send() said EAGAIN/ENOBUFS: frames stay queued for the next flush. */
  txAgain: number;
  /** send() failed otherwise (e.g. ENETDOWN); frames stay queued. */
  txErrors: number;
  /** Kernel RX statistics accumulated from PACKET_STATISTICS. */
  kernelPackets: number;
  kernelDrops: number;
}

export class PacketRing {
  readonly fd: number;
  readonly ifname: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  readonly vnetHdr: boolean;
  readonly rx: RingGeometry;
  readonly tx: RingGeometry;
  /**
   * The mapping holding this ring (RX frames, then TX frames), shared with the other rings of its group;
   * every offset the ring hands out is relative to it. Invalid (unsafe to touch) after close().
   */
  readonly buf: Buffer;
  /** Largest frame (without vnet header) a TX slot holds. */
  readonly txCapacity: number;
  readonly counters: RingCounters = {
    txFrames: 0,
    txBytes: 0,
    txRingFull: 0,
    txInvalid: 0,
    txKernelSkipped: 0,
    txAgain: 0,
    txErrors: 0,
    kernelPackets: 0,
    kernelDrops: 0,
  };
  /** Reason of the last refused txCommit (TxProblem). */
  lastTxProblem: number = TxProblem.NONE;
  /** MTU used to validate TX frames; refreshMtu() re-reads it. */
  mtu: number;

  readonly #address: number;
  readonly #length: number;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;
  readonly #u16: Uint16Array;
  readonly #rxOff: Uint32Array;
  readonly #txOff: Uint32Array;
  readonly #txData: number;
  readonly #poll: PollSet;
  #rxHead = 0;
  #txHead = 0;
  /** Oldest committed frame the kernel has not consumed yet, and how many there are. */
  #txOldest = 0;
  #txQueued = 0;
  #closed = false;

  private constructor(
    fd: number,
    opts: Required<Pick<PacketRingOptions, 'ifname' | 'vnetHdr'>>,
    info: {
      ifindex: number;
      mac: Uint8Array;
      mtu: number;
      rx: RingGeometry;
      tx: RingGeometry;
      address: number;
    },
    shared: SharedMapping,
    base: number,
  ) {
    this.fd = fd;
    this.ifname = opts.ifname;
    this.vnetHdr = opts.vnetHdr;
    this.ifindex = info.ifindex;
    this.mac = info.mac;
    this.mtu = info.mtu;
    this.rx = info.rx;
    this.tx = info.tx;
    this.#address = info.address;
    this.#length = info.rx.bytes + info.tx.bytes;
    this.buf = shared.buf;
    this.#i32 = shared.i32;
    this.#u32 = shared.u32;
    this.#u16 = shared.u16;
    this.#rxOff = frameOffsets(info.rx, base);
    this.#txOff = frameOffsets(info.tx, base + info.rx.bytes);
    this.#txData = TX_DATA_OFFSET + (opts.vnetHdr ? VNET_HDR_LEN : 0);
    this.txCapacity = info.tx.frameSize - this.#txData;
    this.#poll = new PollSet([{ fd, events: POLLIN }]);
  }

  /** Opens, configures, maps and binds a ring; everything is undone if a step fails. */
  static open(opts: PacketRingOptions): PacketRing {
    return PacketRing.openGroup([opts])[0]!;
  }

  /**
   * Opens several rings mapped back to back in one reserved address range, so all of them share one
   * `buf`: a frame moves from one ring's RX slot to another ring's TX slot with `buf.copyWithin()`
   * (native memmove, no allocation). Every ring is closed again if one fails to open.
   */
  static openGroup(list: readonly PacketRingOptions[]): PacketRing[] {
    const plans = list.map((opts) => {
      validateIfname(opts.ifname);
      return {
        opts,
        vnetHdr: opts.vnetHdr ?? true,
        rx: resolveGeometry(opts.rx, `${opts.ifname} RX ring`),
        tx: resolveGeometry(opts.tx, `${opts.ifname} TX ring`),
      };
    });
    const total = plans.reduce((a, p) => a + p.rx.bytes + p.tx.bytes, 0);
    if (plans.length === 0 || total > MAX_GROUP_BYTES) {
      throw new TslvsError(
        ErrorCodes.INVALID_ARGUMENT,
        `a ring group needs 1+ rings and at most ${MAX_GROUP_BYTES} bytes`,
        {
          rings: plans.length,
          bytes: total,
        },
      );
    }
    const region = reserveAddressRange(total);
    const opened: Array<{ fd: number; address: number; bytes: number }> = [];
    try {
      const sockets: Array<ReturnType<typeof openRingSocket> & { base: number }> = [];
      let offset = 0;
      for (const p of plans) {
        const s = openRingSocket(p.opts, p.vnetHdr, p.rx, p.tx, region + offset);
        opened.push({ fd: s.fd, address: s.address, bytes: p.rx.bytes + p.tx.bytes });
        sockets.push({ ...s, base: offset });
        offset += p.rx.bytes + p.tx.bytes;
      }
      const ab = libc().view(region, total);
      const shared = {
        buf: Buffer.from(ab),
        i32: new Int32Array(ab),
        u32: new Uint32Array(ab),
        u16: new Uint16Array(ab),
      };
      return plans.map((p, i) => {
        const s = sockets[i]!;
        const info = { ifindex: s.ifindex, mac: s.mac, mtu: s.mtu, rx: p.rx, tx: p.tx, address: s.address };
        return new PacketRing(s.fd, { ifname: p.opts.ifname, vnetHdr: p.vnetHdr }, info, shared, s.base);
      });
    } catch (err) {
      const c = libc();
      for (const o of opened) c.close(o.fd);
      c.munmap(region, total);
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---- RX ----

  /** The next filled RX slot, advancing the head; -1 when the kernel has not filled it yet. */
  rxNext(): number {
    if (this.#closed) return -1;
    const slot = this.#rxHead;
    if ((Atomics.load(this.#i32, this.#rxOff[slot]! >>> 2) & RxStatus.USER) === 0) return -1;
    this.#rxHead = slot + 1 === this.rx.frameCount ? 0 : slot + 1;
    return slot;
  }

  /** Whether rxNext() would return a slot, without taking it. */
  rxReady(): boolean {
    return !this.#closed && (Atomics.load(this.#i32, this.#rxOff[this.#rxHead]! >>> 2) & RxStatus.USER) !== 0;
  }

  /** Gives the slot back to the kernel. */
  rxRelease(slot: number): void {
    if (!this.#closed) Atomics.store(this.#i32, this.#rxOff[slot]! >>> 2, RxStatus.KERNEL);
  }

  rxFrameOffset(slot: number): number {
    return this.#rxOff[slot]!;
  }
  /** tp_status: USER plus CSUMNOTREADY, CSUM_VALID, VLAN_VALID, LOSING... (RxStatus). */
  rxStatus(slot: number): number {
    return this.#i32[this.#rxOff[slot]! >>> 2]! >>> 0;
  }
  /** Length on the wire (after VLAN untagging). */
  rxLen(slot: number): number {
    return this.#u32[(this.#rxOff[slot]! + Tp2.LEN) >>> 2]!;
  }
  /** Bytes stored; less than rxLen when the frame did not fit the slot. */
  rxSnaplen(slot: number): number {
    return this.#u32[(this.#rxOff[slot]! + Tp2.SNAPLEN) >>> 2]!;
  }
  /** Absolute offset in `buf` of the Ethernet header. */
  rxDataOffset(slot: number): number {
    return this.#rxOff[slot]! + this.#u16[(this.#rxOff[slot]! + Tp2.MAC) >>> 1]!;
  }
  /** Absolute offset in `buf` of the network header. */
  rxNetOffset(slot: number): number {
    return this.#rxOff[slot]! + this.#u16[(this.#rxOff[slot]! + Tp2.NET) >>> 1]!;
  }
  rxVlanTci(slot: number): number {
    return this.#u16[(this.#rxOff[slot]! + Tp2.VLAN_TCI) >>> 1]!;
  }
  rxVlanTpid(slot: number): number {
    return this.#u16[(this.#rxOff[slot]! + Tp2.VLAN_TPID) >>> 1]!;
  }
  /** sll_pkttype: HOST, BROADCAST, MULTICAST, OTHERHOST (PacketType). */
  rxPktType(slot: number): number {
    return this.buf[this.#rxOff[slot]! + Tp2.SLL_PKTTYPE]!;
  }
  /** Absolute offset of the slot's virtio_net_hdr (just before the Ethernet header); -1 without VNET_HDR. */
  rxVnetOffset(slot: number): number {
    return this.vnetHdr ? this.rxDataOffset(slot) - VNET_HDR_LEN : -1;
  }

  // ---- TX ----

  /** The next free TX slot, or -1 (counted as txRingFull) while every slot is queued or in flight. */
  txAcquire(): number {
    if (this.#closed) return -1;
    const slot = this.#txHead;
    if (Atomics.load(this.#i32, this.#txOff[slot]! >>> 2) !== TxStatus.AVAILABLE) {
      this.counters.txRingFull++;
      return -1;
    }
    return slot;
  }

  /** Absolute offset in `buf` where the frame (Ethernet header first) goes. */
  txDataOffset(slot: number): number {
    return this.#txOff[slot]! + this.#txData;
  }

  /**
   * Queues `len` bytes written at txDataOffset(slot). `slot` must be the one txAcquire() returned. With
   * VNET_HDR the frame carries `vnet` (null = no offload). A frame the kernel or device would refuse is not
   * queued: returns false, counts txInvalid and leaves the slot free for the next frame.
   */
  txCommit(slot: number, len: number, vnet: VnetFields | null = null): boolean {
    if (slot !== this.#txHead || this.#closed) {
      throw new TslvsError(
        ErrorCodes.INTERNAL,
        `txCommit(${slot}) without txAcquire (next free slot is ${this.#txHead})`,
        {
          ifname: this.ifname,
        },
      );
    }
    const base = this.#txOff[slot]!;
    const data = base + this.#txData;
    const etherType = len >= 14 ? (this.buf[data + 12]! << 8) | this.buf[data + 13]! : 0;
    const offload = vnet !== null && (vnet.vnetFlags !== 0 || vnet.gsoType !== 0);
    const problem =
      offload && !this.vnetHdr
        ? TxProblem.BAD_GSO
        : txFrameProblem(len, this.mtu, this.txCapacity, etherType, this.vnetHdr ? vnet : null);
    if (problem !== TxProblem.NONE) {
      this.lastTxProblem = problem;
      this.counters.txInvalid++;
      return false;
    }
    if (this.vnetHdr) writeVnet(this.buf, base + TX_DATA_OFFSET, vnet);
    this.#u32[(base + Tp2.LEN) >>> 2] = len + (this.vnetHdr ? VNET_HDR_LEN : 0);
    Atomics.store(this.#i32, base >>> 2, TxStatus.SEND_REQUEST);
    this.#txHead = slot + 1 === this.tx.frameCount ? 0 : slot + 1;
    this.#txQueued++;
    return true;
  }

  /** Committed frames not yet consumed by the kernel. */
  get txQueued(): number {
    return this.#txQueued;
  }

  /**
   * One send(MSG_DONTWAIT) for everything committed. Never blocks and never throws on the hot path:
   * EAGAIN/ENOBUFS leave frames queued for the next flush (txAgain), other errors count as txErrors.
   * Returns the number of frames the kernel consumed.
   */
  txFlush(): number {
    if (this.#txQueued === 0 || this.#closed) return 0;
    const c = libc();
    const ret = c.send(this.fd, null, 0, MSG_DONTWAIT);
    const errno = ret < 0 ? c.errno() : 0;
    // Walk the queue from the kernel's head: slots no longer SEND_REQUEST were consumed (sent or skipped).
    let consumed = 0;
    let consumedBytes = 0;
    const vnetLen = this.vnetHdr ? VNET_HDR_LEN : 0;
    let slot = this.#txOldest;
    while (consumed < this.#txQueued) {
      const base = this.#txOff[slot]!;
      if (Atomics.load(this.#i32, base >>> 2) === TxStatus.SEND_REQUEST) break;
      consumedBytes += this.#u32[(base + Tp2.LEN) >>> 2]! - vnetLen;
      consumed++;
      slot = slot + 1 === this.tx.frameCount ? 0 : slot + 1;
    }
    const skipped =
      ret >= 0 && ret < consumedBytes ? this.#countSkipped(this.#txOldest, consumed, consumedBytes - ret) : 0;
    this.#txOldest = slot;
    this.#txQueued -= consumed;
    this.counters.txFrames += consumed - skipped;
    if (ret >= 0) {
      this.counters.txBytes += ret;
    } else {
      this.counters.txBytes += consumedBytes;
      if (errno === Errno.EAGAIN || errno === Errno.ENOBUFS) this.counters.txAgain++;
      else this.counters.txErrors++;
    }
    return consumed;
  }

  /**
   * send() reported fewer bytes than the frames it consumed: PACKET_LOSS skipped some. Usually the MTU
   * shrank under us, so re-read it and count the frames that fail the checks now; at least one.
   */
  #countSkipped(from: number, count: number, missingBytes: number): number {
    this.refreshMtu();
    let skipped = 0;
    let skippedBytes = 0;
    let slot = from;
    for (let i = 0; i < count; i++) {
      const base = this.#txOff[slot]!;
      const len = this.#u32[(base + Tp2.LEN) >>> 2]! - (this.vnetHdr ? VNET_HDR_LEN : 0);
      const data = base + this.#txData;
      const etherType = (this.buf[data + 12]! << 8) | this.buf[data + 13]!;
      const gso = this.vnetHdr ? this.buf[base + TX_DATA_OFFSET + Vnet.GSO_TYPE]! : 0;
      if (gso === 0 && txFrameProblem(len, this.mtu, this.txCapacity, etherType, null) !== TxProblem.NONE) {
        skipped++;
        skippedBytes += len;
      }
      slot = slot + 1 === this.tx.frameCount ? 0 : slot + 1;
    }
    const counted = skipped > 0 && skippedBytes === missingBytes ? skipped : Math.max(1, skipped);
    this.counters.txKernelSkipped += counted;
    return Math.min(counted, count);
  }

  /** Re-reads the interface MTU used to validate TX frames. */
  refreshMtu(): number {
    if (!this.#closed) this.mtu = interfaceInfo(this.ifname, this.fd).mtu;
    return this.mtu;
  }

  // ---- waiting, statistics, lifetime ----

  /** Blocks until RX has a frame (or an error) or `timeoutMs` passes; returns poll revents (0 on timeout). */
  poll(timeoutMs: number): number {
    if (this.#closed) return 0;
    return this.#poll.wait(timeoutMs) > 0 ? this.#poll.revents(0) : 0;
  }

  /** Main-thread readiness via libuv: `onReady` runs while the fd is readable (drain it, or close the watch). */
  watch(onReady: (ready: Readiness) => void): FdWatcher {
    return watchFd(this.fd, { readable: true }, onReady);
  }

  /** Reads PACKET_STATISTICS (which resets the kernel's counts) into the accumulated counters. */
  stats(): { packets: number; drops: number } {
    if (!this.#closed) {
      const s = readPacketStats(this.fd, this.ifname);
      this.counters.kernelPackets += s.packets;
      this.counters.kernelDrops += s.drops;
    }
    return { packets: this.counters.kernelPackets, drops: this.counters.kernelDrops };
  }

  /** Unmaps the rings and closes the socket, once. `buf` and every view of it must not be used afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const c = libc();
    c.munmap(this.#address, this.#length);
    c.close(this.fd);
  }
}
