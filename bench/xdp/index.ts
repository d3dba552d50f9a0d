/**
 * `npm run bench -- xdp [--entries N]`: what the XDP fast path's counter read-back costs per session
 * direction, on a map of N entries (default 100k) with the fast path's key and value sizes: one
 * BPF_MAP_LOOKUP_ELEM per entry (how it read them before) against BPF_MAP_LOOKUP_BATCH, 1024 entries a call
 * (how XdpFastPath.tick reads them now). Both through the same koffi binding. Needs root (bpf).
 */
import { type BatchCursor, Bpf, MapFlags, MapType } from '../../src/dataplane/xdp/bpf.js';
import { KEY, VAL } from '../../src/dataplane/xdp/fastpath-prog.js';
import { type Figure, median, printResults } from '../lib/report.js';

const BATCH = 1024;

export async function main(args: string[]): Promise<void> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    console.log('xdp benchmark skipped: needs Linux and root (bpf)');
    return;
  }
  const i = args.indexOf('--entries');
  const n = i >= 0 ? Math.max(1, Math.min(Number(args[i + 1]) || 0, 4_000_000)) : 100_000;
  const bpf = new Bpf();
  const fd = bpf.mapCreate(MapType.HASH, KEY.LEN, VAL.LEN, n, 'bench_readback', MapFlags.NO_PREALLOC);
  try {
    const key = new Uint8Array(KEY.LEN);
    const kv = new DataView(key.buffer);
    const value = new Uint8Array(VAL.LEN);
    for (let k = 0; k < n; k++) {
      kv.setUint32(0, k, true);
      bpf.mapUpdate(fd, key, value);
    }
    const out = new Uint8Array(VAL.LEN);
    const single: number[] = [];
    const batched: number[] = [];
    for (let r = 0; r < 5; r++) {
      let t = performance.now();
      for (let k = 0; k < n; k++) {
        kv.setUint32(0, k, true);
        bpf.mapLookup(fd, key, out);
      }
      single.push(((performance.now() - t) * 1000) / n);
      t = performance.now();
      const cursor: BatchCursor = { token: 0, started: false };
      let read = 0;
      do read += bpf.mapLookupBatch(fd, KEY.LEN, VAL.LEN, BATCH, cursor);
      while (cursor.started);
      if (read !== n) throw new Error(`batch walk read ${read} of ${n} entries`);
      batched.push(((performance.now() - t) * 1000) / n);
    }
    const one = median(single);
    const batch = median(batched);
    console.log(
      `${n} entries: ${one.toFixed(3)} us per entry one lookup at a time, ${batch.toFixed(3)} us in batches of ${BATCH} (${(one / batch).toFixed(1)}x)`,
    );
    const figures: Figure[] = [
      { metric: 'xdp_readback_lookup_us_per_entry', value: Number(one.toFixed(3)), unit: 'us' },
      { metric: 'xdp_readback_batch_us_per_entry', value: Number(batch.toFixed(3)), unit: 'us' },
    ];
    printResults(figures);
  } finally {
    bpf.close(fd);
    bpf.dispose();
  }
}
