/**
 * Building and sending datagrams: an `Outbox` collects records into one datagram body (up to 1400 bytes
 * on the wire, 255 records); the `Emitter` wraps a body in a header with the next sequence number for
 * its destination, signs it and hands it to the socket. Sequence numbers are per destination, so each
 * receiver sees its own gap-free sequence.
 */
import type { SyncedSession } from '../../engine/conntable/sync.js';
import type { SyncAuth } from './auth.js';
import type { SyncPeerAddress, SyncSocket } from './socket.js';
import { SyncCounter } from './types.js';
import {
  encodeRecord,
  newSyncHeader,
  SYNC_HEADER_LEN,
  SYNC_MAX_BODY,
  SYNC_TAG_LEN,
  writeSyncHeader,
} from './wire.js';

export class Outbox {
  readonly body = new Uint8Array(SYNC_MAX_BODY);
  len = 0;
  count = 0;

  /** Adds a record; false when it does not fit (send this body first). */
  add(r: SyncedSession): boolean {
    if (this.count === 255) return false;
    const o = encodeRecord(this.body, this.len, this.body.length, r);
    if (o < 0) return false;
    this.len = o;
    this.count++;
    return true;
  }

  clear(): void {
    this.len = 0;
    this.count = 0;
  }
}

export class Emitter {
  readonly #socket: SyncSocket;
  readonly #auth: SyncAuth;
  #epoch: number;
  readonly #peers: readonly SyncPeerAddress[];
  readonly #seq: Uint32Array;
  readonly #counters: Float64Array;
  readonly #h = newSyncHeader();
  readonly #maxSeq: number;

  /** `maxSeq`: the last sequence number of an epoch (the u32 maximum; smaller in tests of the wrap). */
  constructor(
    socket: SyncSocket,
    auth: SyncAuth,
    epoch: number,
    peers: readonly SyncPeerAddress[],
    counters: Float64Array,
    maxSeq = 0xffffffff,
  ) {
    this.#maxSeq = maxSeq;
    this.#socket = socket;
    this.#auth = auth;
    this.#epoch = epoch;
    this.#peers = peers;
    this.#seq = new Uint32Array(peers.length);
    this.#counters = counters;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Sends one datagram to peer `peer`; `box` is the body (null for a bodiless request or END). */
  emit(peer: number, type: number, flags: number, stream: number, value: number, box: Outbox | null): void {
    if (this.#seq[peer]! >= this.#maxSeq) {
      // Sequence numbers never wrap within an epoch (a receiver would take the restart for replays): a
      // new epoch, one ms later, starts every destination over (days of sustained sending at 10k/s).
      this.#epoch++;
      this.#seq.fill(0);
    }
    const seq = this.#seq[peer]! + 1;
    this.#seq[peer] = seq;
    const bodyLen = box?.len ?? 0;
    const b = Buffer.allocUnsafe(SYNC_HEADER_LEN + bodyLen + SYNC_TAG_LEN);
    const h = this.#h;
    h.type = type;
    h.flags = flags;
    h.count = box?.count ?? 0;
    h.bodyLen = bodyLen;
    h.epoch = this.#epoch;
    h.seq = seq;
    h.stream = stream;
    h.value = value;
    writeSyncHeader(b, h);
    if (box) b.set(box.body.subarray(0, bodyLen), SYNC_HEADER_LEN);
    this.#auth.sign(b, SYNC_HEADER_LEN + bodyLen);
    this.#socket.send(b, this.#peers[peer]!);
    this.#counters[SyncCounter.DATAGRAMS_SENT]!++;
    this.#counters[SyncCounter.RECORDS_SENT]! += h.count;
  }
}
