/**
 * The session-sync journal: ids of entries created or changed since the sync sender last looked, in a
 * fixed ring of ids (no allocation on the packet path). The entry's SYNC_PENDING bit makes an id queue
 * once however often the entry changes before the sender takes it; the sender reads the entry as it is
 * then, so changes coalesce. A full ring counts an overflow and leaves the entry unmarked: the sender's
 * periodic refresh walk sends it later (IPVS has no journal; it sends from the packet path itself).
 */
import { CF, STRIDE, W } from './layout.js';
export class SyncJournal {
  readonly #ids: Uint32Array;
  readonly #mask: number;
  #head = 0;
  #tail = 0;
  /** Marking happens only while active (this director is the sync master). */
  active = false;
  /** Changes not queued because the ring was full. */
  overflows = 0;

  /** `capacity` is rounded up to a power of two (at least 16). */
  constructor(capacity: number) {
    let n = 16;
    while (n < capacity && n < 1 << 30) n *= 2;
    this.#ids = new Uint32Array(n);
    this.#mask = n - 1;
  }

  get capacity(): number {
    return this.#ids.length;
  }

  get length(): number {
    return (this.#tail - this.#head) >>> 0;
  }

  /** Queues `id`; false (counted) when full. */
  push(id: number): boolean {
    if (this.length === this.#ids.length) {
      this.overflows++;
      return false;
    }
    this.#ids[this.#tail & this.#mask] = id;
    this.#tail = (this.#tail + 1) >>> 0;
    return true;
  }

  /** The oldest queued id, or 0 when empty. */
  shift(): number {
    if (this.#head === this.#tail) return 0;
    const id = this.#ids[this.#head & this.#mask]!;
    this.#head = (this.#head + 1) >>> 0;
    return id;
  }
}

/** The session table as the journal's consumer sees it. */
interface Journalled {
  readonly e: Uint32Array;
  readonly journal: SyncJournal | null;
}

/** The next queued entry still live and pending (its mark cleared), or 0 when the journal is empty. */
export function takeChanged(t: Journalled): number {
  const j = t.journal;
  if (j === null) return 0;
  for (;;) {
    const id = j.shift();
    if (id === 0) return 0;
    const b = id * STRIDE + W.STATE;
    const st = t.e[b]!;
    // Freed (state word zeroed) or already taken through an earlier queue position: skip.
    if (!(st & CF.SYNC_PENDING)) continue;
    t.e[b] = (st & ~CF.SYNC_PENDING) >>> 0;
    return id;
  }
}

/** Stops journalling and forgets what is queued (this director stopped being the sync master). */
export function stopJournal(t: Journalled): void {
  const j = t.journal;
  if (j === null) return;
  j.active = false;
  while (takeChanged(t) !== 0);
}
