/**
 * Config problems as the user sees them: a key path, a message, a severity, and (once load.ts has
 * located it in the YAML) a file position. Zod's raw issues are rewritten here into sentences about
 * the file ("must be one of tcp, udp (got 'tpc')"), unions are reduced to the branch the user meant,
 * and unknown keys get one issue each, pointing at the key, with a spelling suggestion.
 */
import type { z } from 'zod';
import { describeValue } from './fields.js';

export type IssuePath = (string | number)[];

export interface ConfigIssue {
  severity: 'error' | 'warning';
  path: IssuePath;
  message: string;
  /** The issue is about the key itself (unknown key), not its value. */
  atKey?: boolean;
}

export interface LocatedIssue extends ConfigIssue {
  file: string;
  line: number;
  column: number;
}

/** services[0].realServers[1].weight */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

export function formatIssue(i: LocatedIssue): string {
  const where = `${i.file}:${i.line}:${i.column}: `;
  const sev = i.severity === 'warning' ? 'warning: ' : '';
  const path = i.path.length > 0 ? `${formatPath(i.path)}: ` : '';
  return `${where}${sev}${path}${i.message}`;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function listValues(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : String(v))).join(', ');
}

type RawIssue = z.core.$ZodRawIssue;

/**
 * A per-parse error map (no global zod configuration is touched). It also records the known keys of
 * every object that had unknown ones, for the "did you mean" suggestion.
 */
export function makeErrorMap(): { map: z.core.$ZodErrorMap; knownKeys: Map<string, string[]> } {
  const knownKeys = new Map<string, string[]>();
  const map = (iss: RawIssue): string | undefined => {
    const got = ` (got ${describeValue(iss.input)})`;
    switch (iss.code) {
      case 'invalid_type':
        if (iss.input === undefined) return 'is required';
        return `must be ${TYPE_WORDS[iss.expected] ?? iss.expected}${got}`;
      case 'invalid_value':
        return iss.values.length === 1
          ? `must be ${listValues(iss.values)}${got}`
          : `must be one of ${listValues(iss.values)}${got}`;
      case 'too_small':
        if (iss.origin === 'string') {
          return iss.minimum === 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters long`;
        }
        if (iss.origin === 'array')
          return `must have at least ${iss.minimum} entr${iss.minimum === 1 ? 'y' : 'ies'}`;
        return `must be ${iss.inclusive ? '>=' : '>'} ${iss.minimum}${got}`;
      case 'too_big':
        if (iss.origin === 'string') return `must be at most ${iss.maximum} characters long${got}`;
        if (iss.origin === 'array') return `must have at most ${iss.maximum} entries`;
        return `must be ${iss.inclusive ? '<=' : '<'} ${iss.maximum}${got}`;
      case 'invalid_format':
        return `has an invalid format${got}`;
      case 'unrecognized_keys': {
        const inst = iss.inst as { shape?: Record<string, unknown> } | undefined;
        if (inst?.shape) knownKeys.set(formatPath(iss.path ?? []), Object.keys(inst.shape));
        return 'unknown key';
      }
      case 'invalid_union': {
        const desc = (iss.inst as { description?: string } | undefined)?.description;
        return `must be ${desc ?? 'a valid value'}${got}`;
      }
      default:
        return undefined;
    }
  };
  return { map, knownKeys };
}

type ZodIssue = z.core.$ZodIssue;

/** Rewrites zod's final issues into ConfigIssues (see the module comment). */
export function fromZodIssues(issues: readonly ZodIssue[], knownKeys: Map<string, string[]>): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const visit = (iss: ZodIssue, prefix: IssuePath): void => {
    const path = [...prefix, ...(iss.path as IssuePath)];
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeys.get(formatPath(iss.path as IssuePath)) ?? knownKeys.get(formatPath(path)) ?? [];
      for (const key of iss.keys) {
        const hint = suggest(key, known);
        const message = hint ? `unknown key (did you mean '${hint}'?)` : 'unknown key';
        out.push({ severity: 'error', path: [...path, key], message, atKey: true });
      }
      return;
    }
    if (iss.code === 'invalid_union' && iss.errors.length > 0) {
      const meant = branchMeant(iss.errors);
      if (meant) {
        for (const b of meant) visit(b, path);
        return;
      }
    }
    out.push({ severity: 'error', path, message: iss.message });
  };
  for (const iss of issues) visit(iss, []);
  return out;
}

/**
 * The union branch the user meant: one that accepted the value's type and failed deeper is better than
 * one that rejected the value itself, which is better than one that rejected its type. Null on a tie.
 */
function branchMeant(branches: readonly (readonly ZodIssue[])[]): readonly ZodIssue[] | null {
  const score = (branch: readonly ZodIssue[]): number => {
    const root = branch.filter((b) => b.path.length === 0);
    if (root.length === 0) return 0;
    return root.some((b) => b.code === 'invalid_type') ? 2 : 1;
  };
  const scores = branches.map(score);
  const best = Math.min(...scores);
  return scores.filter((s) => s === best).length === 1 ? branches[scores.indexOf(best)]! : null;
}

/** The known key closest to a misspelt one, if it is close enough to be a plausible typo. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best !== undefined && bestDist <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Collects the problems of one normalization run, in the order found. */
export class IssueList {
  readonly items: ConfigIssue[] = [];
  error(path: IssuePath, message: string): void {
    this.items.push({ severity: 'error', path, message });
  }
  warn(path: IssuePath, message: string): void {
    this.items.push({ severity: 'warning', path, message });
  }
  get hasErrors(): boolean {
    return this.items.some((i) => i.severity === 'error');
  }
}
