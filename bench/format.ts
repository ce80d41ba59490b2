// How the bench writes its figures, the one form each for the report, the console and the chart.

export function formatRps(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Milliseconds to three significant digits or so; n/a for a figure that could not be had. */
export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

export function formatRatio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : 'n/a';
}

export function formatMb(value: number): string {
  return value.toFixed(1);
}
