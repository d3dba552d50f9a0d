/**
 * Reading a config file: YAML (with positions) -> schema -> normalize. Every problem found by any of
 * the three steps is reported together, each with file:line:column and the key path, in one
 * TslvsError (code TSLVS_ERR_CONFIG, details.issues[]).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from 'yaml';
import { ErrorCodes, TslvsError } from '../../errors.js';
import {
  type ConfigIssue,
  formatIssue,
  formatPath,
  fromZodIssues,
  type LocatedIssue,
  makeErrorMap,
} from './issues.js';
import { normalizeConfig } from './normalize.js';
import { configSchema } from './schema.js';
import type { NormalizeContext } from './secrets.js';
import type { Config } from './types.js';

export interface LoadResult {
  config: Config;
  /** Problems that do not stop the config from running (ignored keys, quorum never reachable...). */
  warnings: LocatedIssue[];
}

export interface LoadOptions {
  /** Environment for TSLVS_TOKEN; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Reads, validates and normalizes `file`. Throws TslvsError(TSLVS_ERR_CONFIG) listing every error. */
export async function loadConfigFile(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new TslvsError(
      ErrorCodes.CONFIG,
      `${file}: cannot read the config file (${why})`,
      { file },
      { cause: err },
    );
  }
  const base = dirname(resolve(file));
  return parseConfigText(text, file, {
    env: opts.env ?? process.env,
    readSecretFile: (p) => readFileSync(resolve(base, p), 'utf8'),
  });
}

/** Validates config text; `file` is only used in messages. */
export function parseConfigText(text: string, file: string, ctx: NormalizeContext): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const at = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const syntax: LocatedIssue[] = doc.errors.map((e) => ({
    severity: 'error',
    path: [],
    message: `YAML syntax error: ${e.message}${ipv6Hint(text, e.pos[0])}`,
    file,
    ...at(syntaxErrorOffset(text, e.code, e.message, e.pos[0])),
  }));
  if (syntax.length > 0) throw configError(file, syntax);
  if (doc.contents === null) {
    throw configError(file, [
      { severity: 'error', path: [], message: 'the file is empty', file, line: 1, column: 1 },
    ]);
  }
  const locate = (i: ConfigIssue): LocatedIssue => ({
    ...i,
    file,
    ...at(offsetOf(doc, i.path, i.atKey ?? false)),
  });
  const yamlWarnings: LocatedIssue[] = doc.warnings.map((w) => ({
    severity: 'warning',
    path: [],
    message: w.message,
    file,
    ...at(w.pos[0]),
  }));
  const { map, knownKeys } = makeErrorMap();
  const parsed = configSchema.safeParse(withoutExtensions(doc.toJS({ maxAliasCount: 100 })), { error: map });
  if (!parsed.success)
    throw configError(file, dedupe(fromZodIssues(parsed.error.issues, knownKeys).map(locate)));
  const { config, issues } = normalizeConfig(parsed.data, ctx);
  const located = dedupe(issues.map(locate));
  const errors = located.filter((i) => i.severity === 'error');
  const warnings = [...yamlWarnings, ...located.filter((i) => i.severity === 'warning')];
  if (errors.length > 0 || config === null) throw configError(file, errors, warnings);
  return { config, warnings };
}

/** Top-level `x-...` keys hold YAML anchors for reuse (the docker-compose convention); they are not config. */
function withoutExtensions(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith('x-')));
}

function configError(file: string, issues: LocatedIssue[], warnings: LocatedIssue[] = []): TslvsError {
  const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
  const first = sorted[0]!;
  const plain = (i: LocatedIssue) => ({
    severity: i.severity,
    line: i.line,
    column: i.column,
    path: formatPath(i.path),
    message: i.message,
    text: formatIssue(i),
  });
  return new TslvsError(ErrorCodes.CONFIG, sorted.map(formatIssue).join('\n'), {
    file,
    line: first.line,
    column: first.column,
    path: formatPath(first.path),
    issues: sorted.map(plain),
    warnings: warnings.map(plain),
  });
}

function dedupe(issues: LocatedIssue[]): LocatedIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.severity}|${formatPath(i.path)}|${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The offset of the YAML node a key path names: the value (or, for `atKey`, the key) when it exists,
 * else the deepest ancestor that does (a missing key is reported where its mapping starts).
 */
function offsetOf(doc: Document, path: readonly (string | number)[], atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    while (isAlias(node)) node = node.resolve(doc);
    const seg = path[i]!;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
      );
      if (!pair) break;
      const last = i === path.length - 1;
      if (atKey && last) return rangeStart(pair.key) ?? offset;
      // `key:` with nothing after it: the value node is null, so point at the key.
      next = pair.value ?? pair.key;
      if (pair.value === null || (isScalar(pair.value) && pair.value.range === undefined)) {
        return rangeStart(pair.key) ?? offset;
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    const start = rangeStart(next);
    if (start === undefined) break;
    node = next;
    offset = start;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

/** `address: [::1]:80` is a YAML flow list followed by junk; say what was meant. */
function ipv6Hint(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset);
  const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  return /:\s*\[[0-9a-fA-F:.]*\]:\d+/.test(line) ? ' (IPv6 endpoints must be quoted: "[::1]:8080")' : '';
}

/** yaml reports an unclosed quote where the input ends; the opening quote is where the mistake is. */
function syntaxErrorOffset(text: string, code: string, message: string, offset: number): number {
  if (code !== 'MISSING_CHAR') return offset;
  const quote = /closing (["'])quote/.exec(message)?.[1];
  const open = quote ? text.lastIndexOf(quote, offset - 1) : -1;
  return open >= 0 ? open : offset;
}
