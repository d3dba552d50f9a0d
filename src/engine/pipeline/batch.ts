/**
 * Session lookups for a batch of frames, done together before the frames are handled: hashing every key
 * first, then loading every bucket, then every first entry issues the cache misses back to back so the
 * CPU overlaps them (ConnTable.lookupInBatch / lookupOutBatch). Client -> VIP packets go to the in-index,
 * other TCP/UDP packets (candidate NAT/FNAT replies) to the out-index.
 *
 * A result is only as fresh as the table it was read from: handling an earlier frame of the batch may
 * create a session (a miss may no longer be one) or free one (a hit may name a reused slot). The
 * pipeline counts both and `pre` answers "look it up again" (-1) when either happened since `run`.
 */

import { IpProto } from '../../wire/ipv4.js';
import { BATCH_MAX, newFlowBatch } from '../conntable/hash-index.js';
import type { ConnTable } from '../conntable/table.js';
import type { ServiceTable } from '../service-table.js';
import { Kind, type Packet } from './packet.js';

const NONE = 0;
const IN = 1;
const OUT = 2;

export class BatchLookups {
  readonly #in = newFlowBatch();
  readonly #out = newFlowBatch();
  readonly #foundIn = new Uint32Array(BATCH_MAX);
  readonly #foundOut = new Uint32Array(BATCH_MAX);
  readonly #dir = new Uint8Array(BATCH_MAX);
  readonly #slot = new Uint8Array(BATCH_MAX);
  /** Per frame: its destination is a VIP (1), is not (0), or it was not looked at (-1). */
  readonly vip = new Int8Array(BATCH_MAX);
  #epoch = 0;
  #created = 0;

  reset(): void {
    this.#in.count = 0;
    this.#out.count = 0;
  }

  /** Records the lookup frame `k` (parsed into `p`, parse result `r`) will need, if any. */
  add(k: number, r: number, p: Packet, services: ServiceTable): void {
    this.#dir[k] = NONE;
    this.vip[k] = -1;
    if (r !== 0 || p.kind !== Kind.IP || p.frag || !p.portsOk) return;
    if (p.proto !== IpProto.TCP && p.proto !== IpProto.UDP) return;
    const vip = services.isVip(p.af, p.daddr, 0);
    this.vip[k] = vip ? 1 : 0;
    const b = vip ? this.#in : this.#out;
    const m = b.count++;
    b.proto[m] = p.proto;
    b.af[m] = p.af;
    b.sport[m] = p.sport;
    b.dport[m] = p.dport;
    const s = p.saddr;
    const d = p.daddr;
    const o = m * 4;
    b.saddr[o] = s[0]!;
    b.saddr[o + 1] = s[1]!;
    b.saddr[o + 2] = s[2]!;
    b.saddr[o + 3] = s[3]!;
    b.daddr[o] = d[0]!;
    b.daddr[o + 1] = d[1]!;
    b.daddr[o + 2] = d[2]!;
    b.daddr[o + 3] = d[3]!;
    this.#dir[k] = vip ? IN : OUT;
    this.#slot[k] = m;
  }

  /** Looks every recorded key up; `epoch`/`created`: the pipeline's counters of frees and creations now. */
  run(conns: ConnTable, now: number, epoch: number, created: number): void {
    if (this.#in.count > 0) conns.lookupInBatch(this.#in, this.#foundIn, now);
    if (this.#out.count > 0) conns.lookupOutBatch(this.#out, this.#foundOut, now);
    this.#epoch = epoch;
    this.#created = created;
  }

  /**
   * The session of frame `k`: > 0 a session, 0 known to have none, -1 look it up (no batch result, or
   * sessions were freed — any result may be stale — or created — a miss may be stale — since `run`).
   */
  pre(k: number, epoch: number, created: number): number {
    const dir = this.#dir[k]!;
    if (dir === NONE || epoch !== this.#epoch) return -1;
    const id = dir === IN ? this.#foundIn[this.#slot[k]!]! : this.#foundOut[this.#slot[k]!]!;
    if (id !== 0) return id;
    return created === this.#created ? 0 : -1;
  }
}
