/**
 * glibc heap settings for a relay. Node gives every socket read a fresh 64 KiB buffer from malloc and frees
 * it when the garbage collector drops the Buffer. With glibc's defaults (trim the heap top once 128 KiB
 * are free, dynamic mmap threshold) that memory goes back to the kernel between collections and the next
 * reads fault it in again: the relay then spends most of its time in page faults and in copies to cold
 * memory. Measured on loopback (bench/proxy): 2 Gbit/s per CPU-second with the defaults, 10 with a heap
 * that keeps its top (as MALLOC_TOP_PAD_ / MALLOC_TRIM_THRESHOLD_ would set it, which we cannot require
 * of a daemon's environment). The cost is up to TRIM_THRESHOLD of freed heap kept resident.
 * Best effort: not Linux/glibc, or no koffi, changes nothing. Environment variables set by the operator win.
 */
import { createRequire } from 'node:module';

const M_TRIM_THRESHOLD = -1;
const M_TOP_PAD = -2;
const TOP_PAD_BYTES = 16 * 1024 * 1024;
const TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024;

export interface MallocTuning {
  applied: boolean;
  reason: string;
}

let done: MallocTuning | undefined;

export function tuneMallocForRelay(env: NodeJS.ProcessEnv = process.env): MallocTuning {
  if (done) return done;
  done = apply(env);
  return done;
}

function apply(env: NodeJS.ProcessEnv): MallocTuning {
  if (process.platform !== 'linux') return { applied: false, reason: 'not Linux' };
  if (env.MALLOC_TOP_PAD_ !== undefined || env.MALLOC_TRIM_THRESHOLD_ !== undefined)
    return { applied: false, reason: 'MALLOC_TOP_PAD_/MALLOC_TRIM_THRESHOLD_ set in the environment' };
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  if (!report?.header?.glibcVersionRuntime) return { applied: false, reason: 'not glibc' };
  try {
    const koffi = createRequire(import.meta.url)('koffi') as {
      load(lib: string): { func(sig: string): (...args: unknown[]) => number };
    };
    const mallopt = koffi.load('libc.so.6').func('int mallopt(int param, int value)');
    const ok =
      mallopt(M_TOP_PAD, TOP_PAD_BYTES) === 1 && mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) === 1;
    return ok ? { applied: true, reason: 'mallopt' } : { applied: false, reason: 'mallopt refused' };
  } catch (err) {
    return { applied: false, reason: `koffi/mallopt unavailable: ${(err as Error).message}` };
  }
}
