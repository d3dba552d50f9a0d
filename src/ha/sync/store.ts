/**
 * What session sync needs of the engine, narrowed to one interface so the sync logic runs against a plain
 * Balancer in tests and against the packet worker's engine in production: the journal of changed
 * entries, reading an entry into a record, installing a record. `balancerStore` adds the Full-NAT
 * forwarder's per-session first data sequence number (kept beside the session table, not in it).
 */
import type { Balancer } from '../../engine/balancer.js';
import { SyncJournal, stopJournal, takeChanged } from '../../engine/conntable/journal.js';
import { CF } from '../../engine/conntable/layout.js';
import { readSynced, type SyncedSession } from '../../engine/conntable/sync.js';

export interface SessionStore {
  /** Ids 1..highWater cover every live entry. */
  readonly highWater: number;
  readonly count: number;
  isTemplate(id: number): boolean;
  /** A peer's session this director has not forwarded a packet of (CF.SYNCED): not ours to refresh. */
  isCopy(id: number): boolean;
  /** Starts or stops journalling new and changed entries. */
  setJournal(active: boolean): void;
  /** The next journalled entry (0 = none) and the journal's state. */
  takeChanged(): number;
  readonly journal: { readonly length: number; readonly capacity: number; readonly overflows: number };
  read(id: number, now: number, out: SyncedSession): boolean;
  /** > 0: installed (the entry id); <= 0: a negated InstallFail. */
  install(r: SyncedSession, now: number, graceMs: number): number;
}

/** Full-NAT first-data-sequence storage (the forwarder's FnatState). */
export interface IsnStore {
  isn(conn: number): number;
  setIsn(conn: number, v: number): void;
}

export function balancerStore(b: Balancer, isns: IsnStore | null, journalCapacity = 65536): SessionStore {
  const conns = b.conns;
  const journal = conns.journal ?? new SyncJournal(journalCapacity);
  conns.journal = journal;
  return {
    get highWater() {
      return conns.highWater;
    },
    get count() {
      return conns.count;
    },
    isTemplate: (id) => conns.isTemplate(id),
    isCopy: (id) => (conns.flags(id) & CF.SYNCED) !== 0,
    setJournal(active) {
      if (active) journal.active = true;
      else stopJournal(conns);
    },
    takeChanged: () => takeChanged(conns),
    journal,
    read(id, now, out) {
      if (!readSynced(conns, id, now, out)) return false;
      if (isns !== null && out.seqDelta !== 0) out.isn = isns.isn(id);
      return true;
    },
    install(r, now, graceMs) {
      const id = b.installSynced(r, now, graceMs);
      if (id > 0 && isns !== null && r.seqDelta !== 0) isns.setIsn(id, r.isn);
      return id;
    },
  };
}
