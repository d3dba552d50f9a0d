/**
 * Secrets named by the config (admin token, sync key) come from the file, a file it points to, or the
 * environment. The reads go through the context so tests and the CLI decide where they come from.
 */
import { isTslvsError } from '../../errors.js';
import type { IssueList, IssuePath } from './issues.js';

export interface NormalizeContext {
  /** Where TSLVS_TOKEN is read from (process.env in the daemon, a literal in tests). */
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a secret file named in the config (`tokenFile`, `keyFile`); throws when it cannot. */
  readSecretFile(path: string): string;
}

/** Reads a secret from the file named at `path` in the config, reporting failures there. */
export function readSecret(
  ctx: NormalizeContext,
  file: string,
  path: IssuePath,
  issues: IssueList,
): string | null {
  try {
    const text = ctx.readSecretFile(file).trim();
    if (text === '') issues.error(path, `file '${file}' is empty`);
    return text === '' ? null : text;
  } catch (err) {
    const why = isTslvsError(err) || err instanceof Error ? err.message : String(err);
    issues.error(path, `cannot read '${file}': ${why}`);
    return null;
  }
}
