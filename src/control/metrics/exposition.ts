/**
 * The Prometheus text exposition format (version 0.0.4): metric families with HELP and TYPE lines, then
 * their samples, each family's samples together. Label values are escaped (backslash, double quote,
 * newline) so a service name or address can never break a line. Names are checked when a family is
 * declared, so a typo fails in tests rather than in a scraper.
 */
export type MetricType = 'counter' | 'gauge';
export type Labels = Readonly<Record<string, string>>;

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** Labels rendered once (`{a="x",b="y"}`), for series that share them across many families. */
export class LabelSet {
  readonly text: string;
  constructor(labels: Labels) {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new Error(`bad label name '${k}'`);
      parts.push(`${k}="${escapeLabelValue(v)}"`);
    }
    this.text = parts.length > 0 ? `{${parts.join(',')}}` : '';
  }

  /** These labels plus more. */
  with(more: Labels): LabelSet {
    const extra = new LabelSet(more).text;
    if (this.text === '') return new LabelSet(more);
    const out = Object.create(LabelSet.prototype) as { text: string };
    out.text = extra === '' ? this.text : `${this.text.slice(0, -1)},${extra.slice(1)}`;
    return out as LabelSet;
  }
}

class Family {
  readonly #samples: string[] = [];
  readonly #seen = new Set<string>();

  constructor(
    readonly name: string,
    readonly type: MetricType,
    readonly help: string,
  ) {}

  add(labels: Labels | LabelSet, value: number): this {
    const set = labels instanceof LabelSet ? labels : new LabelSet(labels);
    const series = `${this.name}${set.text}`;
    if (this.#seen.has(series)) throw new Error(`duplicate series ${series}`);
    this.#seen.add(series);
    this.#samples.push(`${series} ${formatValue(value)}`);
    return this;
  }

  render(out: string[]): void {
    out.push(
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
      ...this.#samples,
    );
  }
}

/** Families in declaration order; `render()` gives the whole exposition text. */
export class MetricSet {
  readonly #families = new Map<string, Family>();

  family(name: string, type: MetricType, help: string): Family {
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name '${name}'`);
    if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    if (this.#families.has(name)) throw new Error(`metric family ${name} declared twice`);
    const f = new Family(name, type, help);
    this.#families.set(name, f);
    return f;
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) f.render(out);
    return `${out.join('\n')}\n`;
  }
}
