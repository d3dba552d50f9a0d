/**
 * Reading and writing the fields of session-table entries (layout.ts): what every user of the table
 * needs, kept apart from the table's machinery (hashing, timers, allocation) in table.ts.
 */
import type { Family } from '../addr.js';
import { CF, STRIDE, W } from './layout.js';

/** From this size on the entries get a memory of their own (below, page-aligned and so line-aligned). */
const ALIGNED_FROM_BYTES = 1 << 20;
const WASM_PAGE = 65536;
const WASM_MAX_PAGES = 65536;
/** The one WebAssembly API used here (a JavaScript global, not in the ES library types). */
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
};

/**
 * `words` zeroed 32-bit words whose first byte is on a 64-byte boundary, so each 64-byte entry is one
 * cache line as layout.ts intends. A large typed array gets no such alignment: glibc hands out big
 * allocations at a page + 16 bytes, which splits every entry over two lines (words 12-15 — chain links,
 * template, FNAT sequence delta — in the second), one more cache miss for a chain walk or a Full-NAT
 * packet. A WebAssembly.Memory is page-aligned by construction; it is used as plain memory (never grown,
 * so its buffer is never detached). Falls back to a plain array (small, or beyond 4 GiB, or no wasm).
 */
function cacheAlignedWords(words: number): Uint32Array {
  const bytes = words * 4;
  const pages = Math.ceil(bytes / WASM_PAGE);
  if (bytes >= ALIGNED_FROM_BYTES && pages <= WASM_MAX_PAGES && typeof WebAssembly === 'object') {
    try {
      return new Uint32Array(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, words);
    } catch {
      // No address space for it: the plain array below.
    }
  }
  return new Uint32Array(words);
}

export abstract class ConnEntries {
  readonly capacity: number;
  /** The entries: STRIDE words each, ids from 1. */
  readonly e: Uint32Array;
  /** Highest id handed out so far. */
  protected hw = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 0x7ffffffe) {
      throw new RangeError(`session table capacity ${capacity} out of range`);
    }
    this.capacity = capacity;
    this.e = cacheAlignedWords((capacity + 1) * STRIDE);
  }

  /** Highest id ever handed out: ids 1..highWater cover every live entry (sync walks). */
  get highWater(): number {
    return this.hw;
  }

  /** Queues a new or changed entry for session sync. */
  abstract markChanged(id: number): void;

  state(id: number): number {
    return this.e[id * STRIDE + W.STATE]! & 0xff;
  }
  flags(id: number): number {
    return this.e[id * STRIDE + W.STATE]! & ~0xff;
  }
  fwd(id: number): number {
    return (this.e[id * STRIDE + W.STATE]! & CF.FWD_MASK) >>> CF.FWD_SHIFT;
  }
  dest(id: number): number {
    return this.e[id * STRIDE + W.DEST]!;
  }
  svc(id: number): number {
    return this.e[id * STRIDE + W.SVC_LIP]! & 0xffff;
  }
  lip(id: number): number {
    return this.e[id * STRIDE + W.SVC_LIP]! >>> 16;
  }
  cport(id: number): number {
    return this.e[id * STRIDE + W.PORTS]! & 0xffff;
  }
  vport(id: number): number {
    return this.e[id * STRIDE + W.PORTS]! >>> 16;
  }
  dport(id: number): number {
    return this.e[id * STRIDE + W.RPORTS]! & 0xffff;
  }
  lport(id: number): number {
    return this.e[id * STRIDE + W.RPORTS]! >>> 16;
  }
  family(id: number): Family {
    return this.e[id * STRIDE + W.STATE]! & CF.AF6 ? 6 : 4;
  }
  proto(id: number): number {
    return this.e[id * STRIDE + W.STATE]! & CF.UDP ? 17 : 6;
  }
  isTemplate(id: number): boolean {
    return (this.e[id * STRIDE + W.STATE]! & CF.TEMPLATE) !== 0;
  }
  inUse(id: number): boolean {
    return id > 0 && id <= this.hw && (this.e[id * STRIDE + W.STATE]! & CF.IN_USE) !== 0;
  }
  /** Milliseconds until expiry (negative when overdue and not yet reclaimed). */
  remainingMs(id: number, now: number): number {
    return (this.e[id * STRIDE + W.EXPIRES]! - (now >>> 0)) | 0;
  }
  /** Connection: its template (0 = none); template: how many connections it controls. */
  control(id: number): number {
    return this.e[id * STRIDE + W.CONTROL]!;
  }
  seqDelta(id: number): number {
    return this.e[id * STRIDE + W.SEQ]! | 0;
  }
  setSeqDelta(id: number, d: number): void {
    this.e[id * STRIDE + W.SEQ] = d >>> 0;
    this.markChanged(id);
  }
  setFlag(id: number, flag: number, on: boolean): void {
    const b = id * STRIDE + W.STATE;
    const old = this.e[b]!;
    const next = (on ? old | flag : old & ~flag) >>> 0;
    if (next === old) return;
    this.e[b] = next;
    this.markChanged(id);
  }

  /** Every live entry id (control plane: listing, sync snapshots). */
  *ids(): IterableIterator<number> {
    for (let id = 1; id <= this.hw; id++) if (this.e[id * STRIDE + W.STATE]! & CF.IN_USE) yield id;
  }
}
