/**
 * Transparent huge pages for the engine's big arrays. At millions of sessions, a random lookup in 4 KiB
 * pages pays a TLB miss (a page walk, itself often a cache miss) for the bucket and again for the entry;
 * with 2 MiB pages most of that goes. Linux only backs a mapping with huge pages on its own when THP is
 * "always"; the common default is "madvise", so we ask with madvise(MADV_HUGEPAGE) before the arrays are
 * first written. Best effort: any failure (no koffi, not Linux, THP "never") leaves things as they were.
 */
import { createRequire } from 'node:module';

const MADV_HUGEPAGE = 14;
const HUGE = 2n * 1024n * 1024n;

let madvise: ((addr: bigint, len: bigint, advice: number) => number) | null | undefined;
let address: ((a: ArrayBufferView) => bigint) | undefined;

function bind(): boolean {
  if (madvise !== undefined) return madvise !== null;
  madvise = null;
  if (process.platform !== 'linux') return false;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as {
      load(lib: string): { func(sig: string): (...args: unknown[]) => number };
      address(a: ArrayBufferView): bigint | number;
    };
    const libc = koffi.load('libc.so.6');
    const fn = libc.func('int madvise(void *addr, size_t len, int advice)');
    madvise = (a, l, adv) => fn(a, l, adv);
    address = (a) => BigInt(koffi.address(a));
  } catch {
    madvise = null;
  }
  return madvise !== null;
}

/** Advises huge pages for each array's whole 2 MiB-aligned interior; returns how many bytes were advised. */
export function adviseHugePages(arrays: readonly ArrayBufferView[]): number {
  if (!bind()) return 0;
  let advised = 0n;
  for (const a of arrays) {
    if (a.byteLength < Number(HUGE) * 2) continue;
    const base = address!(a);
    const start = (base + HUGE - 1n) & ~(HUGE - 1n);
    const len = (base + BigInt(a.byteLength) - start) & ~(HUGE - 1n);
    if (len > 0n && madvise!(start, len, MADV_HUGEPAGE) === 0) advised += len;
  }
  return Number(advised);
}
