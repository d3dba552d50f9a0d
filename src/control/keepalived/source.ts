/**
 * File access for the keepalived importer, behind an interface so tests can feed files from memory.
 * `include` patterns are globs (keepalived calls glob(3) with GLOB_BRACE): `*`, `?`, `[...]`, `{a,b}`.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

export interface SourceReader {
  read(path: string): string;
  /** Entry names in a directory; [] when it cannot be listed. */
  list(dir: string): string[];
  isFile(path: string): boolean;
  /** The canonical path (symlinks resolved), used to detect include loops. */
  realpath(path: string): string;
}

export const fsReader: SourceReader = {
  read: (path) => readFileSync(path, 'utf8'),
  list: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
  isFile: (path) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  },
  realpath: (path) => realpathSync(path),
};

/** An in-memory tree of files keyed by absolute path: the fake for tests. */
export function memoryReader(files: Readonly<Record<string, string>>): SourceReader {
  return {
    read(path) {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
    list(dir) {
      const prefix = dir.endsWith(sep) ? dir : dir + sep;
      const names = new Set<string>();
      for (const p of Object.keys(files))
        if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split(sep)[0]!);
      return [...names];
    },
    isFile: (path) => files[path] !== undefined,
    realpath: (path) => path,
  };
}

function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  const close = open < 0 ? -1 : pattern.indexOf('}', open);
  if (close < 0) return [pattern];
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  return pattern
    .slice(open + 1, close)
    .split(',')
    .flatMap((alt) => expandBraces(head + alt + tail));
}

function segmentRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$(){}|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files matching `pattern` (relative to `baseDir`), sorted like glob(3); directories are skipped. */
export function expandGlob(pattern: string, baseDir: string, reader: SourceReader): string[] {
  const out = new Set<string>();
  for (const alt of expandBraces(pattern)) {
    const abs = isAbsolute(alt) ? alt : resolve(baseDir, alt);
    const segments = abs.split(sep).filter((s) => s !== '');
    let paths: string[] = [sep];
    for (const seg of segments) {
      if (!/[*?[]/.test(seg)) {
        paths = paths.map((p) => join(p, seg));
        continue;
      }
      const re = segmentRegex(seg);
      paths = paths.flatMap((p) =>
        reader
          .list(p)
          .filter((name) => re.test(name) && (seg.startsWith('.') || !name.startsWith('.')))
          .map((name) => join(p, name)),
      );
    }
    for (const p of paths) if (reader.isFile(p)) out.add(p);
  }
  return [...out].sort();
}
