// The request duration histogram, kept by hand and written in the Prometheus text format at scrape
// time. prom-client's Histogram.observe() builds and hashes a label string and converts each bucket
// bound to a string key on every call; here a request costs three map lookups and a bucket search
// (bench/REPORT.md: what metrics cost a request). Scrapes are rare, requests are not, so the work moves to
// render().

export interface RequestHistogram {
  /** Records one request; allocates only the first time a method, route and status are seen. */
  observe(method: string, route: string, statusCode: number, seconds: number): void;
  /** The histogram's HELP, TYPE and sample lines, ending with a newline. */
  render(): string;
}

interface Series {
  /** The series' labels, escaped and joined, ready for a sample line. */
  readonly labels: string;
  /** Observations per bucket, not cumulative; the last slot is above every bound (+Inf only). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export function createRequestHistogram(name: string, help: string, bounds: readonly number[]): RequestHistogram {
  const upper = Float64Array.from(bounds);
  for (let i = 1; i < upper.length; i++) {
    if (!(upper[i]! > upper[i - 1]!))
      throw new Error(`${name}: bucket bounds must increase (got ${bounds.join(', ')})`);
  }
  const les = bounds.map((bound) => `le="${bound}"`);
  // Keys are bounded: route templates (or "unmatched"), the methods Node's parser accepts, status codes.
  const byRoute = new Map<string, Map<string, Map<number, Series>>>();
  const all: Series[] = [];

  function seriesOf(method: string, route: string, statusCode: number): Series {
    let byMethod = byRoute.get(route);
    if (byMethod === undefined) byRoute.set(route, (byMethod = new Map<string, Map<number, Series>>()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map<number, Series>()));
    let series = byStatus.get(statusCode);
    if (series === undefined) {
      const labels = `method="${escapeLabel(method)}",route="${escapeLabel(route)}",status_code="${statusCode}"`;
      series = { labels, counts: new Float64Array(upper.length + 1), sum: 0, count: 0 };
      byStatus.set(statusCode, series);
      all.push(series);
    }
    return series;
  }

  return {
    observe(method, route, statusCode, seconds) {
      const series = seriesOf(method, route, statusCode);
      let bucket = 0;
      while (bucket < upper.length && seconds > upper[bucket]!) bucket++;
      series.counts[bucket]!++;
      series.sum += seconds;
      series.count++;
    },

    render() {
      const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} histogram`];
      for (const series of all) {
        let cumulative = 0;
        for (let i = 0; i < les.length; i++) {
          cumulative += series.counts[i]!;
          lines.push(`${name}_bucket{${series.labels},${les[i]}} ${cumulative}`);
        }
        lines.push(`${name}_bucket{${series.labels},le="+Inf"} ${series.count}`);
        lines.push(`${name}_sum{${series.labels}} ${series.sum}`);
        lines.push(`${name}_count{${series.labels}} ${series.count}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}

/** Label values escape backslash, double quote and newline (the text format's rules). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and newline. */
function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
