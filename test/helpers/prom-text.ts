/**
 * A strict parser of the Prometheus text exposition format 0.0.4 (the format `/metrics` serves), after
 * the rules of prometheus/common expfmt: `# HELP name text` and `# TYPE name type` at most once per
 * family and before its samples; a family's samples contiguous; sample = name, optional {labels},
 * value, optional timestamp; label values double-quoted with \\, \" and \n escapes only; no duplicate
 * series; names matching the metric/label name grammar. Any deviation throws with the line number.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(s: string, where: string): number {
  if (s === 'NaN') return Number.NaN;
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`${where}: bad value '${s}'`);
  return Number(s);
}

function familyOf(sample: string): string {
  for (const suffix of ['_bucket', '_sum', '_count'])
    if (sample.endsWith(suffix)) return sample.slice(0, -suffix.length);
  return sample;
}

function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let s = text.slice(1);
  for (;;) {
    if (s.startsWith('}')) return { labels, rest: s.slice(1) };
    const m = LABEL.exec(s);
    if (!m) throw new Error(`${where}: bad label name at '${s.slice(0, 20)}'`);
    const name = m[0];
    if (name in labels) throw new Error(`${where}: label ${name} repeated`);
    s = s.slice(name.length);
    if (!s.startsWith('="')) throw new Error(`${where}: expected =" after ${name}`);
    s = s.slice(2);
    let value = '';
    for (;;) {
      const c = s[0];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') {
        s = s.slice(1);
        break;
      }
      if (c === '\n') throw new Error(`${where}: raw newline in label value`);
      if (c === '\\') {
        const e = s[1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${e}`);
        s = s.slice(2);
        continue;
      }
      value += c;
      s = s.slice(1);
    }
    labels[name] = value;
    if (s.startsWith(',')) s = s.slice(1);
    else if (!s.startsWith('}')) throw new Error(`${where}: expected , or } after label ${name}`);
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | null = null;
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const enter = (name: string, where: string): Family => {
    if (current !== name) {
      if (closed.has(name)) throw new Error(`${where}: family ${name} is not contiguous`);
      if (current !== null) closed.add(current);
      current = name;
    }
    return family(name);
  };
  const seenMeta = new Set<string>();
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1}`;
      if (line.trim() === '') return;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) ([^ ]+) ?(.*)$/.exec(line);
        if (!m) return; // a plain comment
        const [, kind, name, rest] = m as unknown as [string, string, string, string];
        if (!NAME.test(name) || NAME.exec(name)![0] !== name)
          throw new Error(`${where}: bad metric name ${name}`);
        if (seenMeta.has(`${kind} ${name}`)) throw new Error(`${where}: second ${kind} for ${name}`);
        seenMeta.add(`${kind} ${name}`);
        const f = enter(name, where);
        if (f.samples.length > 0) throw new Error(`${where}: ${kind} after samples of ${name}`);
        if (kind === 'TYPE') {
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
          f.type = rest;
        } else f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
        return;
      }
      const m = NAME.exec(line);
      if (!m) throw new Error(`${where}: bad sample line`);
      const name = m[0];
      let rest = line.slice(name.length);
      let labels: Record<string, string> = {};
      if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
      const parts = rest.trim().split(/ +/);
      if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2)
        throw new Error(`${where}: expected ' value [timestamp]'`);
      const value = parseValue(parts[0]!, where);
      if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
      const key = `${name}{${Object.entries(labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}}`;
      if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`);
      series.add(key);
      const f = enter(families.has(name) ? name : familyOf(name), where);
      f.samples.push({ name, labels, value });
    });
  return families;
}
