/**
 * Session sync between directors (issue 7 item 3), run next to the engine (in the packet worker): the
 * master streams new and changed sessions to its peers, the others install them, so that after a
 * failover established flows keep their real server and their Full-NAT mappings.
 *
 *   master  each tick: journalled changes (store.takeChanged) + a slice of the refresh walk (the whole
 *           table every refreshInterval, so a peer's copy of an idle session never expires before ours),
 *           batched into SESSIONS datagrams to every peer
 *   anyone  answers SNAPSHOT_REQUEST with a paced snapshot stream (snapshot.ts); installs what peers send
 *   start   asks every peer for a snapshot (`requestSnapshot`) and reports `waiting` until it has one
 *
 * Receiving: the source must be a configured peer, the HMAC tag must verify, the (epoch, sequence) pair
 * must be new (replay.ts), the records must parse (all of them, before any is installed); each refusal is
 * counted. Installed copies expire `refreshInterval` after the master's own expiry as of the record, so
 * the next refresh always arrives first. Deletions are not sent: a copy expires on its own, as in IPVS.
 */
import type { Endpoint } from '../../engine/addr.js';
import { formatEndpoint, formatIp } from '../../engine/addr.js';
import { InstallFail, newSyncedSession } from '../../engine/conntable/sync.js';
import { SyncAuth } from './auth.js';
import { Emitter, Outbox } from './outbox.js';
import { ReplayVerdict, ReplayWindow } from './replay.js';
import { SNAPSHOT_RETRY_MS, SnapshotRequest, SnapshotStream } from './snapshot.js';
import type { SyncPeerAddress, SyncSocket } from './socket.js';
import type { SessionStore } from './store.js';
import {
  DEFAULT_SNAPSHOT_RATE,
  SYNC_COUNTER_NAMES,
  SyncCounter,
  type SyncOptions,
  type SyncStatus,
} from './types.js';
import {
  decodeRecord,
  HeaderFlag,
  newSyncHeader,
  readSyncHeader,
  SYNC_HEADER_LEN,
  SYNC_TAG_LEN,
  type SyncHeader,
  SyncType,
  WireError,
} from './wire.js';

const INSTALL_FAIL_COUNTER: Record<number, number> = {
  [InstallFail.UNKNOWN_SERVICE]: SyncCounter.UNKNOWN_SERVICE,
  [InstallFail.UNKNOWN_DEST]: SyncCounter.UNKNOWN_DEST,
  [InstallFail.UNKNOWN_LOCAL_ADDRESS]: SyncCounter.UNKNOWN_LOCAL_ADDRESS,
  [InstallFail.TABLE_FULL]: SyncCounter.TABLE_FULL,
  [InstallFail.INVALID]: SyncCounter.INVALID_RECORD,
};

interface Peer {
  address: SyncPeerAddress;
  label: string;
  window: ReplayWindow;
  lastHeard: number;
}

function peerAddress(e: Endpoint): SyncPeerAddress {
  return { address: formatIp(e.addr), port: e.port };
}

export class SessionSync {
  readonly counters = new Float64Array(SYNC_COUNTER_NAMES.length);
  readonly #o: SyncOptions;
  readonly #store: SessionStore;
  readonly #socket: SyncSocket;
  readonly #auth: SyncAuth;
  readonly #peers: Peer[];
  readonly #emitter: Emitter;
  readonly #deltas = new Outbox();
  readonly #rec = newSyncedSession();
  readonly #h = newSyncHeader();
  readonly #request: SnapshotRequest;
  #streams: SnapshotStream[] = [];
  #master = false;
  #lastTick = -1;
  #refreshCursor = 1;
  #refreshCredit = 0;
  #now = 0;
  readonly #clock: (() => number) | null;

  /** `clock`: the engine's time base (ms, monotonic); by default the time of the last tick. */
  constructor(o: SyncOptions, store: SessionStore, socket: SyncSocket, clock: (() => number) | null = null) {
    this.#clock = clock;
    this.#o = o;
    this.#store = store;
    this.#socket = socket;
    this.#auth = new SyncAuth(o.key);
    this.#peers = o.peers.map((p) => ({
      address: peerAddress(p),
      label: formatEndpoint(p),
      window: new ReplayWindow(),
      lastHeard: -1,
    }));
    this.#emitter = new Emitter(
      socket,
      this.#auth,
      o.epoch ?? Date.now(),
      this.#peers.map((p) => p.address),
      this.counters,
    );
    this.#request = new SnapshotRequest(this.#peers.length);
    socket.onMessage((b, from) => this.receive(b, b.length, from));
  }

  /** This director's start time as its datagrams say (bumped by one if a sequence would wrap). */
  get epoch(): number {
    return this.#emitter.epoch;
  }

  get master(): boolean {
    return this.#master;
  }

  get snapshotState(): SnapshotRequest['state'] {
    return this.#request.state;
  }

  /** Master: send changes and refreshes; otherwise only install (and answer snapshot requests). */
  setRole(master: boolean): void {
    if (master === this.#master) return;
    this.#master = master;
    this.#store.setJournal(master);
    this.#refreshCursor = 1;
    this.#refreshCredit = 0;
  }

  /** Asks every peer for its whole table; `snapshotState` is `waiting` until done or snapshotWait ran out. */
  requestSnapshot(now: number): void {
    this.#request.begin(now, now + this.#o.snapshotWaitMs);
    for (let i = 0; i < this.#peers.length; i++) this.#ask(i);
  }

  #ask(peer: number): void {
    const flags = this.#master ? HeaderFlag.MASTER : 0;
    this.#emitter.emit(peer, SyncType.SNAPSHOT_REQUEST, flags, this.#request.stream, 0, null);
    this.counters[SyncCounter.SNAPSHOT_REQUESTS_SENT]!++;
  }

  /** Periodic work (the packet loop calls it between batches): deltas, refresh, snapshots, retries. */
  tick(now: number): void {
    this.#now = now;
    const dt = this.#lastTick < 0 ? 0 : Math.min(Math.max(0, now - this.#lastTick), 1000);
    this.#lastTick = now;
    if (this.#master) {
      this.#sendChanges(now);
      this.#refresh(now, dt);
      this.#flushDeltas();
    }
    if (this.#streams.length > 0) {
      const rate = this.#o.snapshotRate ?? DEFAULT_SNAPSHOT_RATE;
      this.#streams = this.#streams.filter((s) => {
        const done = s.pump(this.#store, now, dt, rate, this.#emitter, this.#rec, this.#master);
        if (done) this.counters[SyncCounter.SNAPSHOTS_SERVED]!++;
        return !done;
      });
    }
    const req = this.#request;
    if (req.state === 'waiting') {
      if (now >= req.deadline) req.state = 'timed-out';
      else if (now - req.lastProgress >= SNAPSHOT_RETRY_MS) {
        req.lastProgress = now;
        for (const i of req.pending()) this.#ask(i);
      }
    }
  }

  #addDelta(counter: number): void {
    if (!this.#deltas.add(this.#rec)) {
      this.#flushDeltas();
      this.#deltas.add(this.#rec);
    }
    this.counters[counter]!++;
  }

  #sendChanges(now: number): void {
    const store = this.#store;
    for (let id = store.takeChanged(); id !== 0; id = store.takeChanged()) {
      if (store.read(id, now, this.#rec)) this.#addDelta(SyncCounter.DELTA_RECORDS_SENT);
    }
  }

  /** A slice of the walk over the table: highWater x dt / refreshInterval ids per tick. */
  #refresh(now: number, dt: number): void {
    const store = this.#store;
    const hw = store.highWater;
    if (hw === 0) return;
    this.#refreshCredit += (hw * dt) / this.#o.refreshIntervalMs;
    let n = Math.floor(this.#refreshCredit);
    this.#refreshCredit -= n;
    while (n-- > 0) {
      if (this.#refreshCursor > hw) this.#refreshCursor = 1;
      const id = this.#refreshCursor++;
      // Copies of a peer's sessions are the peer's to refresh (both directors send when each is master of
      // an instance): echoing them back would overwrite its live state with ours.
      if (!store.isCopy(id) && store.read(id, now, this.#rec))
        this.#addDelta(SyncCounter.REFRESH_RECORDS_SENT);
    }
  }

  #flushDeltas(): void {
    const box = this.#deltas;
    if (box.count === 0) return;
    for (let i = 0; i < this.#peers.length; i++)
      this.#emitter.emit(i, SyncType.SESSIONS, HeaderFlag.MASTER, 0, 0, box);
    box.clear();
  }

  /** One datagram from the network (`len` bytes of `b`). Never throws: every refusal is counted. */
  receive(b: Uint8Array, len: number, from: SyncPeerAddress): void {
    if (this.#clock !== null) this.#now = this.#clock();
    const c = this.counters;
    const peer = this.#peers.findIndex(
      (p) => p.address.address === from.address && p.address.port === from.port,
    );
    if (peer < 0) {
      c[SyncCounter.UNKNOWN_PEER]!++;
      return;
    }
    if (len < SYNC_HEADER_LEN + SYNC_TAG_LEN) {
      c[SyncCounter.MALFORMED]!++;
      return;
    }
    if (!this.#auth.verify(b, len)) {
      c[SyncCounter.BAD_AUTH]!++;
      return;
    }
    const h = this.#h;
    if (readSyncHeader(b, len, h) !== WireError.OK || !this.#recordsParse(b, h)) {
      c[SyncCounter.MALFORMED]!++;
      return;
    }
    const p = this.#peers[peer]!;
    const known = p.window.epoch;
    const v = p.window.accept(h.epoch, h.seq);
    if (v === ReplayVerdict.REPLAY || v === ReplayVerdict.STALE_EPOCH) {
      c[v === ReplayVerdict.REPLAY ? SyncCounter.REPLAYED : SyncCounter.STALE_EPOCH]!++;
      return;
    }
    if (v === ReplayVerdict.NEW_EPOCH && known !== 0) c[SyncCounter.PEER_RESTARTS]!++;
    c[SyncCounter.DATAGRAMS_RECEIVED]!++;
    p.lastHeard = this.#now;
    const master = (h.flags & HeaderFlag.MASTER) !== 0;
    if (h.type === SyncType.SNAPSHOT_REQUEST) {
      c[SyncCounter.SNAPSHOT_REQUESTS_RECEIVED]!++;
      if (!this.#streams.some((s) => s.peer === peer && s.stream === h.stream)) {
        this.#streams = this.#streams.filter((s) => s.peer !== peer);
        this.#streams.push(new SnapshotStream(peer, h.stream));
      }
    } else if (h.type === SyncType.SNAPSHOT_END) {
      const r = this.#request.end(peer, h.stream, master, h.value, this.#now);
      if (r === 'done') c[SyncCounter.SNAPSHOTS_RECEIVED]!++;
      else if (r === 'again') this.requestSnapshot(this.#now);
    } else if (h.flags & HeaderFlag.SNAPSHOT) {
      if (this.#request.take(peer, h.stream, master, h.count, this.#now)) {
        c[SyncCounter.SNAPSHOT_RECORDS_RECEIVED]! += h.count;
        this.#install(b, h);
      } else {
        c[SyncCounter.SNAPSHOT_RECORDS_IGNORED]! += h.count;
      }
    } else {
      this.#install(b, h);
    }
  }

  /** Every record of the body parses and the count matches (checked before anything is installed). */
  #recordsParse(b: Uint8Array, h: SyncHeader): boolean {
    const end = SYNC_HEADER_LEN + h.bodyLen;
    let off = SYNC_HEADER_LEN;
    for (let k = 0; k < h.count; k++) {
      off = decodeRecord(b, off, end, this.#rec);
      if (off < 0) return false;
    }
    return off === end;
  }

  #install(b: Uint8Array, h: SyncHeader): void {
    const rec = this.#rec;
    const c = this.counters;
    const end = SYNC_HEADER_LEN + h.bodyLen;
    let off = SYNC_HEADER_LEN;
    for (let k = 0; k < h.count; k++) {
      off = decodeRecord(b, off, end, rec);
      const id = this.#store.install(rec, this.#now, this.#o.refreshIntervalMs);
      if (id > 0) c[SyncCounter.RECORDS_INSTALLED]!++;
      else c[INSTALL_FAIL_COUNTER[-id] ?? SyncCounter.INVALID_RECORD]!++;
    }
  }

  status(now: number): SyncStatus {
    const counters: Record<string, number> = {};
    SYNC_COUNTER_NAMES.forEach((n, i) => {
      counters[n] = this.counters[i]!;
    });
    const j = this.#store.journal;
    const req = this.#request;
    return {
      role: this.#master ? 'master' : 'backup',
      listen: formatEndpoint(this.#o.listen),
      epoch: this.epoch,
      sessions: this.#store.count,
      journal: { queued: j.length, capacity: j.capacity, overflows: j.overflows },
      snapshot: {
        state: req.state,
        stream: req.stream,
        received: req.received,
        from: req.from >= 0 ? this.#peers[req.from]!.label : null,
      },
      serving: this.#streams.map((s) => ({
        peer: this.#peers[s.peer]!.label,
        stream: s.stream,
        sent: s.sent,
      })),
      peers: this.#peers.map((p) => ({
        peer: p.label,
        epoch: p.window.epoch === 0 ? null : p.window.epoch,
        lastSeq: p.window.highest,
        lost: p.window.gaps,
        lastHeardMsAgo: p.lastHeard < 0 ? null : Math.round(now - p.lastHeard),
      })),
      counters,
      sendErrors: this.#socket.sendErrors,
      lastError: this.#socket.lastError,
    };
  }

  /** A master sends what it still has journalled first (the last changes before a graceful stop). */
  close(): Promise<void> {
    if (this.#master) {
      this.#sendChanges(this.#clock?.() ?? this.#now);
      this.#flushDeltas();
    }
    this.#store.setJournal(false);
    return this.#socket.close();
  }
}
