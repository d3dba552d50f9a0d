/**
 * Full snapshots, both ends. A director that starts asks every peer for its table (SNAPSHOT_REQUEST with
 * a fresh stream id); each peer answers with a paced stream of SESSIONS datagrams flagged SNAPSHOT for
 * that id (templates first, so connections find their template), then SNAPSHOT_END carrying the number of
 * records sent. The requester prefers the master's stream: once a master's datagram of the stream has
 * arrived, a backup's are ignored. It is done when a master's stream ended complete, or every peer ended
 * (an empty table is an immediate END); a short stream (datagrams lost) asks again while time remains.
 * This is what keepalived's IPVS sync lacks: it only ever sends changes, so a rejoining backup holds
 * nothing of the connections that were established before it came.
 */
import type { SyncedSession } from '../../engine/conntable/sync.js';
import { type Emitter, Outbox } from './outbox.js';
import type { SessionStore } from './store.js';
import type { SnapshotState } from './types.js';
import { HeaderFlag, SyncType } from './wire.js';

/** Ids looked at per pump at most, so one tick never walks a whole large table. */
const SCAN_PER_PUMP = 65536;

/** One snapshot being sent to one peer. */
export class SnapshotStream {
  readonly peer: number;
  readonly stream: number;
  sent = 0;
  #cursor = 1;
  /** 0: templates, 1: connections, 2: finished. */
  #phase = 0;
  #tokens = 1;
  readonly #box = new Outbox();

  constructor(peer: number, stream: number) {
    this.peer = peer;
    this.stream = stream;
  }

  /**
   * Sends what the pace allows (`rate` datagrams per second over `dtMs`); true once the END is out.
   * `master` goes into every datagram's flags.
   */
  pump(
    store: SessionStore,
    now: number,
    dtMs: number,
    rate: number,
    emitter: Emitter,
    rec: SyncedSession,
    master: boolean,
  ): boolean {
    this.#tokens = Math.min(this.#tokens + (rate * dtMs) / 1000, Math.max(1, rate / 10));
    const flags = HeaderFlag.SNAPSHOT | (master ? HeaderFlag.MASTER : 0);
    const box = this.#box;
    let scanned = 0;
    while (this.#tokens >= 1 && scanned < SCAN_PER_PUMP) {
      if (this.#phase === 2) {
        if (box.count > 0) this.#send(emitter, flags);
        emitter.emit(this.peer, SyncType.SNAPSHOT_END, flags, this.stream, this.sent, null);
        return true;
      }
      const hw = store.highWater;
      let full = false;
      while (this.#cursor <= hw && scanned < SCAN_PER_PUMP) {
        const id = this.#cursor;
        scanned++;
        if (store.isTemplate(id) === (this.#phase === 0) && store.read(id, now, rec)) {
          if (!box.add(rec)) {
            full = true;
            break; // this id goes into the next datagram
          }
          this.sent++;
        }
        this.#cursor++;
      }
      if (full) {
        this.#send(emitter, flags);
        continue;
      }
      if (this.#cursor > hw) {
        this.#phase++;
        this.#cursor = 1;
      }
    }
    return false;
  }

  #send(emitter: Emitter, flags: number): void {
    emitter.emit(this.peer, SyncType.SESSIONS, flags, this.stream, 0, this.#box);
    this.#box.clear();
    this.#tokens--;
  }
}

/** After this long without a datagram of the stream, the request is repeated (lost request or END). */
export const SNAPSHOT_RETRY_MS = 1000;

/** The requesting side: which stream we asked for, who answered, and when we are done. */
export class SnapshotRequest {
  state: SnapshotState = 'idle';
  stream = 0;
  /** Peer whose records were taken last (-1: none yet). */
  from = -1;
  received = 0;
  deadline = 0;
  lastProgress = 0;
  #masterSeen = false;
  readonly #ended: boolean[];
  readonly #expected: number[];
  readonly #got: number[];

  constructor(peers: number) {
    this.#ended = new Array<boolean>(peers).fill(false);
    this.#expected = new Array<number>(peers).fill(0);
    this.#got = new Array<number>(peers).fill(0);
  }

  /** Starts a round with a fresh stream id; the caller sends the requests. */
  begin(now: number, deadline: number): void {
    let id = 0;
    while (id === 0) id = (Math.random() * 0x100000000) >>> 0;
    this.stream = id;
    this.state = 'waiting';
    this.deadline = deadline;
    this.lastProgress = now;
    this.#masterSeen = false;
    this.#ended.fill(false);
    this.#expected.fill(0);
    this.#got.fill(0);
  }

  /** Peers still to answer (the caller repeats the request to them). */
  pending(): number[] {
    const out: number[] = [];
    this.#ended.forEach((e, i) => {
      if (!e) out.push(i);
    });
    return out;
  }

  /** Whether the records of a SNAPSHOT datagram from `peer` are to be installed; counts them if so. */
  take(peer: number, stream: number, master: boolean, count: number, now: number): boolean {
    if (stream !== this.stream || this.stream === 0) return false;
    if (!master && this.#masterSeen) return false;
    if (master) this.#masterSeen = true;
    this.#got[peer]! += count;
    this.received += count;
    this.from = peer;
    this.lastProgress = now;
    return true;
  }

  /**
   * A SNAPSHOT_END from `peer`. Returns 'done' (finished), 'again' (a stream came up short: ask anew) or
   * null (wait for more).
   */
  end(peer: number, stream: number, master: boolean, expected: number, now: number): 'done' | 'again' | null {
    if (stream !== this.stream || this.state !== 'waiting') return null;
    this.lastProgress = now;
    this.#ended[peer] = true;
    this.#expected[peer] = expected;
    if (master) this.#masterSeen = true;
    const complete = (i: number) => this.#got[i]! >= this.#expected[i]!;
    if (master) return complete(peer) ? this.#finish() : 'again';
    if (this.#masterSeen || !this.#ended.every(Boolean)) return null;
    return this.#ended.every((_, i) => complete(i)) ? this.#finish() : 'again';
  }

  #finish(): 'done' {
    this.state = 'done';
    return 'done';
  }
}
