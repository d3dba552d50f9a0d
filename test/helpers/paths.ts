import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from compiled tests in dist/test/helpers/. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
