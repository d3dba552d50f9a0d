/**
 * keepalived.conf lexing, after the rules of keepalived's lib/parser.c: `!` and `#` start a comment
 * anywhere outside double quotes (`\!`, `\#` are literal); `{` and `}` are tokens wherever they stand;
 * a double-quoted string is one word; `include PATTERN` splices in the files the glob matches,
 * relative to the including file, recursively. Every token keeps its file and line.
 */
import { dirname } from 'node:path';
import { ErrorCodes, TslvsError } from '../../errors.js';
import { expandGlob, type SourceReader } from './source.js';

export interface Position {
  file: string;
  line: number;
}

export type Token =
  | (Position & { kind: 'word'; text: string })
  | (Position & { kind: 'open' | 'close' | 'eol' })
  /** The decommented text of a line, before its words: misc_path and notify scripts re-split it. */
  | (Position & { kind: 'line'; text: string });

export interface LexNote extends Position {
  statement: string;
  reason: string;
}

export interface LexResult {
  tokens: Token[];
  notes: LexNote[];
  /** Every file read, in order (the main file first). */
  files: string[];
}

/** Removes a trailing comment; `\#` and `\!` outside quotes become literal characters. */
export function decomment(line: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && i + 1 < line.length) {
      const next = line[i + 1]!;
      if (!quoted && (next === '#' || next === '!')) {
        out += next;
        i++;
        continue;
      }
      out += c + next;
      i++;
      continue;
    } else if (!quoted && (c === '!' || c === '#')) break;
    out += c;
  }
  return out.trim();
}

/** Splits a decommented line into words and braces (keepalived's alloc_strvec + brace splitting). */
export function splitLine(text: string): ({ kind: 'word'; text: string } | { kind: 'open' | 'close' })[] {
  const out: ({ kind: 'word'; text: string } | { kind: 'open' | 'close' })[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '{' || c === '}') {
      out.push({ kind: c === '{' ? 'open' : 'close' });
      i++;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end < 0 ? text.length : end;
      out.push({ kind: 'word', text: text.slice(i + 1, stop) });
      i = stop + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{}"]/.test(text[j]!)) j++;
      out.push({ kind: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** Reads `file` and everything it includes. Throws TslvsError(CONFIG) when `file` cannot be read. */
export function lex(
  file: string,
  reader: SourceReader,
  display: (file: string) => string = (f) => f,
): LexResult {
  const result: LexResult = { tokens: [], notes: [], files: [] };
  let text: string;
  try {
    text = reader.read(file);
  } catch (err) {
    throw new TslvsError(ErrorCodes.CONFIG, `${file}: cannot read (${(err as Error).message})`, { file });
  }
  lexText(text, file, { reader, display }, [safeRealpath(reader, file)], result);
  return result;
}

function safeRealpath(reader: SourceReader, file: string): string {
  try {
    return reader.realpath(file);
  } catch {
    return file;
  }
}

interface LexEnv {
  reader: SourceReader;
  display: (file: string) => string;
}

function lexText(text: string, file: string, env: LexEnv, stack: string[], out: LexResult): void {
  out.files.push(file);
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = n + 1;
    const clean = decomment(lines[n]!);
    if (clean === '') continue;
    // keepalived recognises include before it splits a line at braces, so {a,b} globs survive.
    const inc = /^include\s+(?:"([^"]*)"|(\S+))$/.exec(clean);
    if (inc) {
      include((inc[1] ?? inc[2])!, { file, line }, env, stack, out);
      continue;
    }
    const parts = splitLine(clean);
    out.tokens.push({ kind: 'line', text: clean, file, line });
    for (const p of parts)
      out.tokens.push(p.kind === 'word' ? { ...p, file, line } : { kind: p.kind, file, line });
    out.tokens.push({ kind: 'eol', file, line });
  }
}

function include(pattern: string, at: Position, env: LexEnv, stack: string[], out: LexResult): void {
  const { reader, display } = env;
  const statement = `include ${pattern}`;
  const matches = expandGlob(pattern, dirname(at.file), reader);
  if (matches.length === 0) {
    out.notes.push({ ...at, statement, reason: 'matched no files (keepalived skips it too)' });
    return;
  }
  for (const file of matches) {
    const real = safeRealpath(reader, file);
    if (stack.includes(real)) {
      out.notes.push({
        ...at,
        statement,
        reason: `include loop: ${display(file)} is already being read; skipped`,
      });
      continue;
    }
    let text: string;
    try {
      text = reader.read(file);
    } catch (err) {
      out.notes.push({ ...at, statement, reason: `cannot read ${display(file)}: ${(err as Error).message}` });
      continue;
    }
    lexText(text, file, env, [...stack, real], out);
  }
}

/**
 * keepalived's quoted-and-escaped split (alloc_strvec_quoted_escaped), used for script command lines:
 * words separated by blanks, '...' and "..." quote, backslash escapes (\n, \t, \xHH, \NNN octal...).
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let word = '';
    let quote = '';
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\' && i + 1 < text.length) {
        const [ch, used] = readEscape(text, i + 1);
        word += ch;
        i += used;
        continue;
      }
      if (quote) {
        if (c === quote) quote = '';
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c)) break;
      else word += c;
    }
    words.push(word);
  }
  return words;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** The character escaped at text[at] (after the backslash) and how many characters it used. */
function readEscape(text: string, at: number): [string, number] {
  const c = text[at]!;
  const hex = /^x([0-9a-fA-F]{1,2})/.exec(text.slice(at));
  if (hex) return [String.fromCharCode(Number.parseInt(hex[1]!, 16)), hex[0].length];
  const oct = /^[0-7]{1,3}/.exec(text.slice(at));
  if (oct) return [String.fromCharCode(Number.parseInt(oct[0], 8) & 0xff), oct[0].length];
  if (c === 'c' && at + 1 < text.length) return [String.fromCharCode(text.charCodeAt(at + 1) & 0x1f), 2];
  return [SIMPLE_ESCAPES[c] ?? c, 1];
}
