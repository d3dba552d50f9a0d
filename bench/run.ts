/**
 * `npm run bench -- <name>`: runs bench/<name>/index.js. Each benchmark prints human-readable lines and
 * ends with one `RESULT <metric>=<value> <unit>` line per figure.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'index.js')))
  .map((d) => d.name)
  .sort();
const name = process.argv[2];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(' ') || '(none)'}`);
  process.exit(2);
}
const mod = (await import(join(here, name, 'index.js'))) as { main(args: string[]): Promise<void> };
await mod.main(process.argv.slice(3));
