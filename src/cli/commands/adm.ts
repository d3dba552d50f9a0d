/**
 * `tslvs adm`: the ipvsadm command line over the daemon's admin API (src/cli/adm/, docs/adm.md).
 */
import { runAdm } from '../adm/run.js';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

export function main(argv: string[]): Promise<number> {
  return runAdm(argv, {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    readStdin,
    env: process.env,
  });
}
