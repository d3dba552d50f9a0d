/**
 * Session-table benchmarks: bytes per entry and lookups per second at 1M and 10M live sessions, one core.
 */
import { adviseHugePages } from '../../src/dataplane/hugepages.js';
import { parseIp } from '../../src/engine/addr.js';
import { Balancer } from '../../src/engine/balancer.js';
import { BATCH_MAX, newFlowBatch } from '../../src/engine/conntable/hash-index.js';
import { newConnParams } from '../../src/engine/conntable/table.js';
import { Forwarding } from '../../src/engine/forwarding.js';
import { newFlowKey } from '../../src/engine/schedulers/scheduler.js';
import { type Figure, xorshift } from '../lib/report.js';

export async function conntableBenchmarks(sizes: number[], log: (s: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const n of sizes) {
    const rssBefore = process.memoryUsage().rss;
    const b = new Balancer({ conntable: { capacity: n, seed: 7 }, random: () => 0.25 });
    // As the daemon does (src/control/engine-host.ts): huge pages for the table, before the first write.
    const advised = adviseHugePages(b.conns.largeArrays);
    const svc = b.services.add({
      name: 'bench',
      protocol: 'tcp',
      address: parseIp('10.0.0.100'),
      port: 80,
      scheduler: 'rr',
      forwarding: Forwarding.NAT,
    });
    for (let i = 0; i < 100; i++)
      svc.addDest({ address: parseIp(`192.168.${i >> 8}.${i & 255}`), port: 8080, weight: 1 });
    const rnd = xorshift(12345);
    const caddr = new Uint32Array(n);
    const cport = new Uint16Array(n);
    const p = newConnParams();
    p.svc = svc.id;
    p.fwd = Forwarding.NAT;
    p.vport = 80;
    p.dport = 8080;
    const now = 1_000_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      caddr[i] = rnd();
      cport[i] = 1024 + (rnd() % 64000);
      p.caddr[0] = caddr[i]!;
      p.cport = cport[i]!;
      p.dest = svc.list[i % 100]!;
      if (b.conns.create(p, now) === 0) throw new Error('table full during fill');
    }
    const fillS = (performance.now() - t0) / 1000;
    const rssAfter = process.memoryUsage().rss;
    const bytesPerEntry = b.conns.byteLength / n;
    log(
      `conntable n=${n}: filled in ${fillS.toFixed(2)} s (${Math.round(n / fillS)} inserts/s); arrays ${b.conns.byteLength} B = ${bytesPerEntry.toFixed(1)} B/entry; RSS +${((rssAfter - rssBefore) / n).toFixed(1)} B/entry; ${Math.round(advised / 1048576)} MiB advised for huge pages`,
    );
    // Lookups of existing sessions in random order, the packet path's in-direction lookup.
    const flow = newFlowKey();
    flow.daddr.set(parseIp('10.0.0.100').words);
    flow.dport = 80;
    const lookups = Math.min(5_000_000, n * 2);
    // Keys are laid out in lookup order, as packets arrive: the bench measures the table, not key fetches.
    const keyAddr = new Uint32Array(lookups);
    const keyPort = new Uint16Array(lookups);
    for (let i = 0; i < lookups; i++) {
      const k = rnd() % n;
      keyAddr[i] = caddr[k]!;
      keyPort[i] = cport[k]!;
    }
    let hits = 0;
    const t1 = performance.now();
    for (let i = 0; i < lookups; i++) {
      flow.saddr[0] = keyAddr[i]!;
      flow.sport = keyPort[i]!;
      if (b.conns.lookupIn(flow, now) !== 0) hits++;
    }
    const single = lookups / ((performance.now() - t1) / 1000);
    log(`conntable n=${n}: ${Math.round(single)} lookups/s one at a time (${hits}/${lookups} hits)`);
    // The packet loop looks up a whole RX batch at once (ConnTable.lookupInBatch).
    const batch = newFlowBatch();
    const out = new Uint32Array(BATCH_MAX);
    const B = 32;
    hits = 0;
    const t2 = performance.now();
    for (let i = 0; i + B <= lookups; i += B) {
      for (let k = 0; k < B; k++) {
        batch.proto[k] = 6;
        batch.af[k] = 4;
        batch.saddr[k * 4] = keyAddr[i + k]!;
        batch.sport[k] = keyPort[i + k]!;
        batch.daddr[k * 4] = flow.daddr[0]!;
        batch.dport[k] = 80;
      }
      batch.count = B;
      b.conns.lookupInBatch(batch, out, now);
      for (let k = 0; k < B; k++) if (out[k] !== 0) hits++;
    }
    const lps = (lookups - (lookups % B)) / ((performance.now() - t2) / 1000);
    log(`conntable n=${n}: ${Math.round(lps)} lookups/s in batches of ${B} (${hits} hits)`);
    const suffix = n >= 10_000_000 ? '' : `_${n >= 1_000_000 ? `${n / 1_000_000}m` : n}`;
    figures.push({
      metric: `conntable_bytes_per_entry${suffix}`,
      value: Math.round(bytesPerEntry * 10) / 10,
      unit: 'B',
    });
    figures.push({ metric: `conntable_lookups_per_s${suffix}`, value: Math.round(lps), unit: '' });
    figures.push({ metric: `conntable_single_lookups_per_s${suffix}`, value: Math.round(single), unit: '' });
    figures.push({ metric: `conntable_inserts_per_s${suffix}`, value: Math.round(n / fillS), unit: '' });
  }
  return figures;
}
