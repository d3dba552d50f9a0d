/**
 * `importKeepalived(file)`: read a keepalived.conf (and its includes), translate it, and render tslvs
 * YAML. Positions name files relative to the main file's directory, so output is stable wherever the
 * tree lives.
 */
import { basename, dirname, relative } from 'node:path';
import { emitYaml } from './emit.js';
import { lex } from './lexer.js';
import { parse } from './parser.js';
import { type ImportNote, Reporter } from './scope.js';
import { fsReader, type SourceReader } from './source.js';
import { translate } from './translate.js';

export interface ImportResult {
  yaml: string;
  /** Everything not translated or translated with a difference, in file order. */
  notes: ImportNote[];
  config: Record<string, unknown>;
}

export function importKeepalived(file: string, reader: SourceReader = fsReader): ImportResult {
  const base = dirname(file);
  const display = (f: string) => (f === file ? basename(file) : relative(base, f));
  const lexed = lex(file, reader, display);
  const tokens = lexed.tokens.map((t) => ({ ...t, file: display(t.file) }));
  const parsed = parse(tokens);
  const report = new Reporter();
  for (const n of [...lexed.notes.map((x) => ({ ...x, file: display(x.file) })), ...parsed.notes]) {
    report.untranslated(n, n.statement, n.reason);
  }
  const translation = translate(parsed.nodes, report);
  const order = lexed.files.map(display);
  const notes = [...report.notes].sort(
    (a, b) => order.indexOf(a.file) - order.indexOf(b.file) || a.line - b.line,
  );
  return { yaml: emitYaml(basename(file), translation, notes), notes, config: translation.config };
}
