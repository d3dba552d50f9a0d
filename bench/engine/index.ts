/**
 * `npm run bench -- engine [--quick]`: session table at 1M and 10M entries (bytes per entry, lookups per
 * second one at a time and in RX-sized batches), Maglev build and disruption, scheduler picks per second.
 * Ends with one RESULT line per figure.
 */
import { printResults } from '../lib/report.js';
import { conntableBenchmarks } from './conntable.js';
import { schedulerBenchmarks } from './schedulers.js';

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const log = (s: string) => console.log(s);
  const sched = await schedulerBenchmarks();
  for (const f of sched) log(`${f.metric}: ${f.value} ${f.unit}`);
  const table = await conntableBenchmarks(quick ? [100_000, 1_000_000] : [1_000_000, 10_000_000], log);
  printResults([...table, ...sched]);
}
