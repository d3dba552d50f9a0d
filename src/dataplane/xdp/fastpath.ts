/**
 * The XDP fast path beside the packet worker's pipeline (fastpath-prog.ts has the program and why).
 * Runs in the worker thread: it observes what the pipeline forwards (Pipeline.setForwardObserver) and
 * installs a session direction in the map once its packets are plain rewrites; it removes the entry
 * when the session goes (ConnTable.onExpire), closes (FIN/RST go through the pipeline) or its real server
 * becomes unavailable; and, a bounded slice per tick, it reads the entries' counters back so that the
 * session's timer is re-armed and the service and real-server counters grow as if the pipeline had seen
 * the packets. Nothing is lost when the map is full or an entry is refused: the pipeline forwards.
 */

import { CF } from '../../engine/conntable/layout.js';
import type { ConnTable } from '../../engine/conntable/table.js';
import { Dir, TcpState } from '../../engine/conntable/tcp-states.js';
import type { DestTable } from '../../engine/dest-table.js';
import { Forwarding } from '../../engine/forwarding.js';
import type { ForwardObserver } from '../../engine/pipeline/frame.js';
import { RxStatus } from '../../engine/pipeline/frame.js';
import type { Packet } from '../../engine/pipeline/packet.js';
import type { ServiceTable } from '../../engine/service-table.js';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { type BatchCursor, Bpf, MapFlags, MapType, ProgType, XdpFlags } from './bpf.js';
import { C, FAST_PATH_COUNTERS, refusal } from './fastpath-counters.js';
import { fastPathProgram, KEY, REWRITE, VAL } from './fastpath-prog.js';
import { KEY6, VAL6 } from './fastpath-prog6.js';
import { offloadEntry } from './offload-entry.js';
import { offloadEntry6 } from './offload-entry6.js';

export { FAST_PATH_COUNTERS } from './fastpath-counters.js';

export type XdpMode = 'native' | 'generic';

export interface FastPathOptions {
  /** null: maps and program only, attached nowhere (tests drive `forwarded` themselves). */
  mode: XdpMode | null;
  /** Per pipeline interface (port): its ifindex, name and MTU. */
  ports: readonly { ifindex: number; ifname: string; mtu: number }[];
  conns: ConnTable;
  /** The Full-NAT session's first client data sequence number when it sends a PROXY header, else 0. */
  isn?: (conn: number) => number;
  services: ServiceTable;
  dests: DestTable;
  /**
   * TCP sessions other than DR stay with the pipeline (default: offloaded). For the generic hook on an
   * interface with GRO or LRO on: it runs after aggregation, so a TCP aggregate arrives with a
   * CHECKSUM_PARTIAL sum, which a NAT/Full-NAT rewrite must update the other way, and as one GSO packet,
   * which an IP-in-IP header added in XDP would leave segmented as plain TCP. DR changes neither. UDP is
   * not aggregated when forwarded.
   */
  keepTcp?: boolean;
}

const SYN_FIN_RST = 0x07;
const REFUSAL_BACKOFF = 63;
/** Entries whose counters are read back per tick and map: one BPF_MAP_LOOKUP_BATCH call. */
const REFRESH_PER_TICK = 1024;
const ETH_LEN = 14;

export class XdpFastPath implements ForwardObserver {
  readonly counters = new Float64Array(FAST_PATH_COUNTERS.length);
  readonly #bpf: Bpf;
  readonly #map: number;
  readonly #map6: number;
  readonly #prog: number;
  readonly #links: number[] = [];
  readonly #o: FastPathOptions;
  /**
   * Per slot (conn * 2 + dir): installed (4 or 6: the family, whose map holds it), the key (KEY6.LEN
   * stride), packets and bytes already folded into the counters.
   */
  readonly #installed: Uint8Array;
  /**
   * Per slot: packets to let pass before trying again after a refusal. A refusal is often temporary (TOA
   * rides only on the first segments of a Full-NAT connection), but trying on every packet would cost the
   * pipeline a frame comparison per packet of a session that stays in it.
   */
  readonly #backoff: Uint8Array;
  readonly #keys: Uint8Array;
  readonly #seenPackets: Float64Array;
  readonly #seenBytes: Float64Array;
  /** The installed slots, dense (with each slot's position in it): their count, and what setKeepTcp walks. */
  readonly #list: Int32Array;
  readonly #pos: Int32Array;
  #count = 0;
  /** Where the read-back's walk of each map stands. */
  readonly #cursor4: BatchCursor = { token: 0, started: false };
  readonly #cursor6: BatchCursor = { token: 0, started: false };
  /** Sessions a read-back found to remove (after its batches: not while walking the maps). */
  readonly #leaving = new Int32Array(REFRESH_PER_TICK * 2);
  /** FastPathOptions.keepTcp, as it is now (setKeepTcp: GRO can be turned on while the director runs). */
  #keepTcp: boolean;
  readonly #key = new Uint8Array(KEY.LEN);
  readonly #value = new Uint8Array(VAL.LEN);
  readonly #key6 = new Uint8Array(KEY6.LEN);
  readonly #value6 = new Uint8Array(VAL6.LEN);
  /** The first VAL.LEN bytes of #value6: an IPv4 value read back (the counters sit at the same offsets). */
  readonly #value6Head = this.#value6.subarray(0, VAL.LEN);
  readonly #valueView = new DataView(this.#value6.buffer);

  constructor(o: FastPathOptions) {
    this.#o = o;
    this.#keepTcp = o.keepTcp ?? false;
    const slots = (o.conns.capacity + 1) * 2;
    this.#installed = new Uint8Array(slots);
    this.#keys = new Uint8Array(slots * KEY6.LEN);
    this.#backoff = new Uint8Array(slots);
    this.#seenPackets = new Float64Array(slots);
    this.#seenBytes = new Float64Array(slots);
    this.#list = new Int32Array(slots);
    this.#pos = new Int32Array(slots);
    this.#bpf = new Bpf();
    let map = -1;
    let map6 = -1;
    let prog = -1;
    try {
      // Room for both directions of every session, allocated as entries come: preallocated, a 1M-session
      // table would pin some 700 MB of kernel memory at start.
      const entries = Math.min(slots, 1 << 22);
      const lazy = MapFlags.NO_PREALLOC;
      map = this.#bpf.mapCreate(MapType.HASH, KEY.LEN, VAL.LEN, entries, 'tslvs_sessions', lazy);
      map6 = this.#bpf.mapCreate(MapType.HASH, KEY6.LEN, VAL6.LEN, entries, 'tslvs_sessions6', lazy);
      prog = this.#bpf.progLoad(ProgType.XDP, fastPathProgram(map, map6).bytes(), 'tslvs_fastpath');
      const flags = o.mode === 'native' ? XdpFlags.DRV_MODE : XdpFlags.SKB_MODE;
      const seen = new Set<number>();
      for (const p of o.ports) {
        if (o.mode === null || seen.has(p.ifindex)) continue;
        seen.add(p.ifindex);
        this.#links.push(this.#bpf.attachXdp(prog, p.ifindex, flags, p.ifname));
      }
    } catch (err) {
      for (const l of this.#links) this.#bpf.close(l);
      this.#bpf.close(prog);
      this.#bpf.close(map);
      this.#bpf.close(map6);
      this.#bpf.dispose();
      throw new TslvsError(
        ErrorCodes.ENVIRONMENT,
        `XDP fast path (${o.mode}) unavailable: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    this.#map = map;
    this.#map6 = map6;
    this.#prog = prog;
  }

  /** Session directions in the map. */
  get installed(): number {
    return this.#count;
  }

  forwarded(
    conn: number,
    dir: number,
    p: Packet,
    outBuf: Uint8Array,
    outOff: number,
    outLen: number,
    outIface: number,
  ): void {
    const conns = this.#o.conns;
    const tcp = p.proto === 6;
    const slot = conn * 2 + (dir === Dir.INPUT ? 0 : 1);
    if (tcp && (p.tcpFlags & SYN_FIN_RST) !== 0) {
      // A closing session, or a new one on the same addresses: the map must not outlive the pipeline's view.
      if (this.#installed[conn * 2] || this.#installed[conn * 2 + 1]) this.forget(conn);
      return;
    }
    if (this.#installed[slot]) return;
    if (tcp && conns.state(conn) !== TcpState.ESTABLISHED) return;
    if (conns.flags(conn) & (CF.ONE_PACKET | CF.TEMPLATE)) return;
    if (this.#backoff[slot]! > 0) {
      this.#backoff[slot]!--;
      return;
    }
    if (p.gso) {
      this.#refuse(slot, C.GSO);
      return;
    }
    // DR leaves L4 alone and its output is the packet itself, aggregate or not.
    if (tcp && this.#keepTcp && conns.fwd(conn) !== Forwarding.DR) {
      this.#refuse(slot, C.TCP_AFTER_GRO);
      return;
    }
    if (p.l2Len !== ETH_LEN || (p.status & RxStatus.VLAN_VALID) !== 0) {
      this.#refuse(slot, C.VLAN);
      return;
    }
    const port = this.#o.ports[outIface];
    if (!port) return;
    const v4 = p.af === 4;
    const isn = this.#o.isn?.(conn) ?? 0;
    const key = v4 ? this.#key : this.#key6;
    const value = v4 ? this.#value : this.#value6;
    // One signature for both families: the IPv6 builder fills the IPv6 key and value.
    const build = v4 ? offloadEntry : offloadEntry6;
    const r = build(
      p.buf,
      p.frameOff,
      p.frameLen,
      outBuf,
      outOff,
      outLen,
      port.ifindex,
      port.mtu,
      isn,
      key,
      value,
    );
    if (r !== 0) {
      // A partial sum fails the entry's checksum comparison whenever L4 is rewritten: say so.
      this.#refuse(slot, p.partial ? C.PARTIAL : refusal(r));
      return;
    }
    // A CHECKSUM_PARTIAL frame (a sender on this host, through veth) holds a pseudo-header sum, which a
    // rewrite would have to update differently from a finished checksum, and XDP cannot tell the two
    // apart: such sessions are offloaded only when their L4 checksum is not touched (DR).
    if (p.partial && value[VAL.FLAGS]! & REWRITE) {
      this.#refuse(slot, C.PARTIAL);
      return;
    }
    const slotAt = v4 ? VAL.SLOT : VAL6.SLOT;
    value[slotAt] = slot & 0xff;
    value[slotAt + 1] = (slot >>> 8) & 0xff;
    value[slotAt + 2] = (slot >>> 16) & 0xff;
    value[slotAt + 3] = slot >>> 24;
    try {
      this.#bpf.mapUpdate(v4 ? this.#map : this.#map6, key, value);
    } catch {
      this.counters[C.MAP_FULL]!++;
      return;
    }
    this.#keys.set(key, slot * KEY6.LEN);
    this.#installed[slot] = p.af;
    this.#seenPackets[slot] = 0;
    this.#seenBytes[slot] = 0;
    this.#pos[slot] = this.#count;
    this.#list[this.#count++] = slot;
    this.counters[C.INSTALLED]!++;
  }

  get keepTcp(): boolean {
    return this.#keepTcp;
  }

  /**
   * Changes `keepTcp` while running (GRO or LRO turned on or off on a generic-hook interface). Turning it
   * on takes the TCP sessions it covers out of the map at once: from the next aggregate on, their map
   * entries would rewrite packets they cannot. Returns how many sessions left the map.
   */
  setKeepTcp(on: boolean): number {
    this.#keepTcp = on;
    if (!on) return 0;
    const conns = this.#o.conns;
    let withdrawn = 0;
    for (let i = this.#count - 1; i >= 0; i--) {
      // `forget` moves the last listed slot into the freed place: walking down, every slot is seen once.
      if (i >= this.#count) continue;
      const conn = this.#list[i]! >>> 1;
      if ((conns.flags(conn) & CF.UDP) !== 0 || conns.fwd(conn) === Forwarding.DR) continue;
      this.forget(conn);
      withdrawn++;
    }
    return withdrawn;
  }

  /** Counts a refusal; the slot's next REFUSAL_BACKOFF packets do not try again. */
  #refuse(slot: number, counter: number): void {
    this.counters[counter]!++;
    this.#backoff[slot] = REFUSAL_BACKOFF;
  }

  /** Takes both directions of `conn` out of the map (folding their last counts in). */
  forget(conn: number): void {
    this.#backoff[conn * 2] = 0;
    this.#backoff[conn * 2 + 1] = 0;
    for (let s = conn * 2; s <= conn * 2 + 1; s++) {
      if (!this.#installed[s]) continue;
      this.#fold(s);
      const v4 = this.#installed[s] === 4;
      this.#bpf.mapDelete(v4 ? this.#map : this.#map6, this.#keyOf(s, v4));
      this.#installed[s] = 0;
      const at = this.#pos[s]!;
      const last = this.#list[--this.#count]!;
      this.#list[at] = last;
      this.#pos[last] = at;
      this.counters[C.REMOVED]!++;
    }
  }

  /**
   * Reads back a slice of each map (one BPF_MAP_LOOKUP_BATCH each, the walk going on where the last tick
   * left it): sessions with new packets are re-armed, and entries of sessions that are no longer
   * established or whose real server is unavailable are removed (the pipeline then decides for their next
   * packet, as IPVS would: drop, or expire_nodest_conn).
   */
  tick(now: number): void {
    let n = this.#readBack(this.#map, 4, VAL.LEN, KEY.LEN, VAL.SLOT, this.#cursor4, now, 0);
    n = this.#readBack(this.#map6, 6, VAL6.LEN, KEY6.LEN, VAL6.SLOT, this.#cursor6, now, n);
    for (let i = 0; i < n; i++) this.forget(this.#leaving[i]!);
  }

  /** One batch of `fd`'s entries; sessions to remove are queued in #leaving from `queued` on. */
  #readBack(
    fd: number,
    family: number,
    valueLen: number,
    keyLen: number,
    slotAt: number,
    cursor: BatchCursor,
    now: number,
    queued: number,
  ): number {
    if (this.#count === 0) return queued;
    let read = 0;
    try {
      read = this.#bpf.mapLookupBatch(fd, keyLen, valueLen, REFRESH_PER_TICK, cursor);
    } catch {
      // (ENOSPC: a bucket longer than a batch.) Start over next tick; the table's keepAlive stays exact.
      cursor.started = false;
      return queued;
    }
    const conns = this.#o.conns;
    const view = this.#bpf.view;
    for (let i = 0; i < read; i++) {
      const at = this.#bpf.batchValueAt(i, valueLen);
      const slot = view.getUint32(at + slotAt, true);
      if (slot >= this.#installed.length || this.#installed[slot] !== family) continue;
      const conn = slot >>> 1;
      const tcp = (conns.flags(conn) & CF.UDP) === 0;
      if (
        (tcp && conns.state(conn) !== TcpState.ESTABLISHED) ||
        !this.#o.dests.isAvailable(conns.dest(conn))
      ) {
        this.#leaving[queued++] = conn;
        continue;
      }
      if (this.#account(slot, view, at)) conns.touch(conn, now);
    }
    return queued;
  }

  /**
   * Whether `conn`'s map entries forwarded packets since their counters were last read (they are folded
   * in now): the session table asks before expiring it (ConnTable.keepAlive). Not for a session the
   * pipeline would no longer forward that way (not established, real server unavailable).
   */
  sawPackets(conn: number): boolean {
    const conns = this.#o.conns;
    if (!this.#installed[conn * 2] && !this.#installed[conn * 2 + 1]) return false;
    const tcp = (conns.flags(conn) & CF.UDP) === 0;
    if ((tcp && conns.state(conn) !== TcpState.ESTABLISHED) || !this.#o.dests.isAvailable(conns.dest(conn)))
      return false;
    let saw = false;
    for (let s = conn * 2; s <= conn * 2 + 1; s++) if (this.#installed[s] && this.#fold(s)) saw = true;
    return saw;
  }

  /** The program's descriptor (test runs: BPF_PROG_TEST_RUN). */
  get programFd(): number {
    return this.#prog;
  }

  /** The key of `slot` in the scratch key of its family. */
  #keyOf(slot: number, v4: boolean): Uint8Array {
    const k = v4 ? this.#key : this.#key6;
    const o = slot * KEY6.LEN;
    for (let i = 0; i < k.length; i++) k[i] = this.#keys[o + i]!;
    return k;
  }

  /** Adds the entry's new packets and bytes to the counters; true when there were any. */
  #fold(slot: number): boolean {
    const v4 = this.#installed[slot] === 4;
    // Both value layouts keep the counters at the same offsets: read into the larger buffer.
    const into = v4 ? this.#value6Head : this.#value6;
    if (!this.#bpf.mapLookup(v4 ? this.#map : this.#map6, this.#keyOf(slot, v4), into)) return false;
    return this.#account(slot, this.#valueView, 0);
  }

  /** `#fold` for a value already read: the one at `view` offset `at`. */
  #account(slot: number, view: DataView, at: number): boolean {
    // (Two halves rather than getBigUint64: no BigInt per entry read; exact up to 2^53.)
    const packets =
      view.getUint32(at + VAL.PACKETS, true) + view.getUint32(at + VAL.PACKETS + 4, true) * 2 ** 32;
    const bytes = view.getUint32(at + VAL.BYTES, true) + view.getUint32(at + VAL.BYTES + 4, true) * 2 ** 32;
    const dp = packets - this.#seenPackets[slot]!;
    if (dp <= 0) return false;
    const db = bytes - this.#seenBytes[slot]! - dp * ETH_LEN;
    this.#seenPackets[slot] = packets;
    this.#seenBytes[slot] = bytes;
    const conns = this.#o.conns;
    const conn = slot >>> 1;
    const input = (slot & 1) === 0;
    this.#o.services.stats.addPackets(conns.svc(conn), input, dp, db);
    this.#o.dests.stats.addPackets(conns.dest(conn), input, dp, db);
    this.counters[C.PACKETS]! += dp;
    this.counters[C.BYTES]! += db;
    return true;
  }

  /** Detaches the program (the links' descriptors) and frees the map. */
  close(): void {
    for (const l of this.#links) this.#bpf.close(l);
    this.#links.length = 0;
    this.#bpf.close(this.#prog);
    this.#bpf.close(this.#map);
    this.#bpf.close(this.#map6);
    this.#bpf.dispose();
  }
}
