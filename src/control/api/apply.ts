/**
 * Runs admin API actions through the director: the running config to raw data, the actions, the same
 * validation as a file, then `director.update` (in the change queue, so edits never interleave). The
 * answer describes what changed; a dry run describes what would and changes nothing.
 */
import { ErrorCodes, TslvsError } from '../../errors.js';
import type { ConfigChange } from '../config/diff.js';
import { formatPath } from '../config/issues.js';
import { configToJson } from '../config/json.js';
import { configToRaw, type RawIssue, validateRawConfig } from '../config/raw.js';
import type { NormalizeContext } from '../config/secrets.js';
import type { Config } from '../config/types.js';
import type { ApplyResult, Director } from '../director/director.js';
import { type Action, applyActions, type RawPath } from './edit.js';

/** API edits carry secrets inline (configToRaw writes them out), so nothing is read from disk or env. */
const API_CONTEXT: NormalizeContext = {
  env: {},
  readSecretFile: () => {
    throw new Error('secret files are not read for API changes');
  },
};

export interface ChangeView {
  kind: string;
  service?: string;
  realServer?: string;
  instance?: string;
  section?: string;
  fields?: string[];
  before?: unknown;
  after?: unknown;
}

export interface MutationResult {
  applied: boolean;
  dryRun: boolean;
  changes: ChangeView[];
  operations: number;
  needsRestart: string[];
  warnings: { path: string; message: string }[];
}

function printable(v: unknown): unknown {
  return configToJson(v as never);
}

function pick(o: object, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f] = (o as Record<string, unknown>)[f];
  return printable(out) as Record<string, unknown>;
}

/** A change as the API shows it: for edits, the before and after values of the changed fields only. */
export function changeView(c: ConfigChange): ChangeView {
  switch (c.kind) {
    case 'global-changed':
      return { kind: c.kind, section: c.section, fields: c.fields };
    case 'service-added':
      return { kind: c.kind, service: c.service, after: printable(c.after) };
    case 'service-removed':
      return { kind: c.kind, service: c.service, before: printable(c.before) };
    case 'service-changed':
      return {
        kind: c.kind,
        service: c.service,
        fields: c.fields,
        before: pick(c.before, c.fields),
        after: pick(c.after, c.fields),
      };
    case 'realserver-added':
      return { kind: c.kind, service: c.service, realServer: c.realServer, after: printable(c.after) };
    case 'realserver-removed':
      return { kind: c.kind, service: c.service, realServer: c.realServer, before: printable(c.before) };
    case 'realserver-changed':
      return {
        kind: c.kind,
        service: c.service,
        realServer: c.realServer,
        fields: c.fields,
        before: pick(c.before, c.fields),
        after: pick(c.after, c.fields),
      };
    case 'vrrp-added':
      return { kind: c.kind, instance: c.instance };
    case 'vrrp-removed':
      return { kind: c.kind, instance: c.instance };
    case 'vrrp-changed':
      return { kind: c.kind, instance: c.instance, fields: c.fields };
  }
}

export function describeResult(r: ApplyResult, dryRun: boolean, warnings: RawIssue[] = []): MutationResult {
  return {
    applied: r.applied,
    dryRun,
    changes: r.changes.map(changeView),
    operations: r.ops.length,
    needsRestart: r.needsRestart,
    warnings: warnings.map((w) => ({ path: formatPath(w.path), message: w.message })),
  };
}

/** Adds `field` (the path inside the request body) to config issues that fall inside an action's body. */
function reframe(err: unknown, paths: readonly RawPath[]): unknown {
  if (!(err instanceof TslvsError) || err.code !== ErrorCodes.CONFIG) return err;
  const issues = (err.details.issues as { path: (string | number)[] }[] | undefined) ?? [];
  const located = issues.map((i) => {
    const inside = paths.find((p) => p.length > 1 && p.every((seg, k) => i.path[k] === seg));
    return inside ? { ...i, field: formatPath(i.path.slice(inside.length)) || '(body)' } : i;
  });
  return new TslvsError(err.code, err.message, { ...err.details, issues: located });
}

export function isDryRun(query: URLSearchParams): boolean {
  const v = query.get('dryRun');
  if (v === null) return false;
  if (['1', 'true', 'yes', ''].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw new TslvsError(ErrorCodes.INVALID_ARGUMENT, `dryRun must be 1 or 0 (got '${v}')`, {
    field: 'dryRun',
  });
}

/** Warnings of each running config, computed once (a validation costs milliseconds per 100 services). */
const knownWarnings = new WeakMap<Config, Set<string>>();

function runningWarnings(config: Config): Set<string> {
  let known = knownWarnings.get(config);
  if (!known) {
    try {
      known = new Set(
        validateRawConfig(configToRaw(config), 'running', API_CONTEXT).warnings.map(warningText),
      );
    } catch {
      known = new Set();
    }
    knownWarnings.set(config, known);
  }
  return known;
}

function warningText(w: RawIssue): string {
  return `${formatPath(w.path)}: ${w.message}`;
}

/** Applies `actions` atomically (or, with dryRun, only plans them). */
export async function runActions(
  director: Director,
  actions: readonly Action[],
  dryRun: boolean,
): Promise<MutationResult> {
  let warnings: RawIssue[] = [];
  const r = await director.update(
    (current) => {
      const { raw, paths } = applyActions(configToRaw(current), actions);

      try {
        const v = validateRawConfig(raw, 'change', API_CONTEXT);
        // Only what this change brings: the running config's own warnings were reported when it loaded.
        const known = runningWarnings(current);
        warnings = v.warnings.filter((w) => !known.has(warningText(w)));
        return v.config;
      } catch (err) {
        throw reframe(err, paths);
      }
    },
    { dryRun },
  );
  return describeResult(r, dryRun, warnings);
}
