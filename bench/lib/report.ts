/** Benchmark output helpers: human lines while running, then one `RESULT metric=value unit` per figure. */
export interface Figure {
  metric: string;
  value: number;
  unit: string;
}

export function printResults(figures: Figure[]): void {
  for (const f of figures) {
    const v = Number.isInteger(f.value) ? String(f.value) : f.value.toPrecision(4);
    console.log(`RESULT ${f.metric}=${v}${f.unit ? ` ${f.unit}` : ''}`);
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Deterministic xorshift32 in [0, 2^32). */
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}
