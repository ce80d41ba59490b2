// The bench's statistics: medians, percentiles and ratios measured round by round.

/** Nearest-rank percentile of an ascending array; NaN when it is empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A ratio measured in several rounds: its median, and min and max to show the spread. */
export interface RoundRatio {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: number;
}

/** The median, min and max of paired figures a[i] / b[i] (rounds measured seconds apart, under much the same noise). */
export function ratioOfRounds(a: readonly number[], b: readonly number[]): RoundRatio {
  const ratios = a.map((value, i) => value / b[i]!).sort((x, y) => x - y);
  return { median: median(ratios), min: ratios[0] ?? Number.NaN, max: ratios.at(-1) ?? Number.NaN, rounds: ratios.length };
}

/** Median and middle half of a set of ratios, as text: how steady a difference is. */
export function describeSpread(values: readonly number[]): string {
  const sorted = [...values].sort((x, y) => x - y);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return `median ${median(values).toFixed(3)} (middle half ${at(0.25).toFixed(3)}-${at(0.75).toFixed(3)}, range ${at(0).toFixed(3)}-${at(1).toFixed(3)})`;
}

/** Wall times of one command: median, mean, min and max (ms), with run and failure counts. */
export interface TimingSummary {
  readonly medianMs: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly runs: number;
  readonly failures: number;
}

export function summariseTimes(times: readonly number[], failures: number): TimingSummary {
  return {
    medianMs: median(times),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    runs: times.length,
    failures,
  };
}
