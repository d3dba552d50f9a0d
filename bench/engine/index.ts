/**
 * `npm run bench -- engine [--quick]`: session table at 1M and 10M entries, Maglev build and disruption,
 * scheduler picks per second. Ends with one RESULT line per figure.
 */
import { printResults } from '../lib/report.js';
import { conntableBenchmarks } from './conntable.js';

export async function main(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const log = (s: string) => console.log(s);
  const figures = await conntableBenchmarks(quick ? [100_000, 1_000_000] : [1_000_000, 10_000_000], log);
  printResults(figures);
}
