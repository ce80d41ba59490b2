// The load generator when wrk is not installed: autocannon's API in its own process (so it can be
// pinned to the load core), cycling through the given paths. Prints the same summary line as
// wrk.lua, so the driver reads both tools alike.
//   node --import tsx bench/programs/autocannon-load.ts '{"url":"http://127.0.0.1:PORT","paths":["/health"],"durationS":5,"connections":64}'

import autocannon from 'autocannon';

interface LoadSettings {
  readonly url: string;
  readonly paths: readonly string[];
  readonly durationS: number;
  readonly connections: number;
  readonly timeoutS?: number;
}

const { url, paths, durationS, connections, timeoutS = 5 } = JSON.parse(process.argv[2] ?? '{}') as LoadSettings;
const result = await autocannon({
  url,
  connections,
  duration: durationS,
  timeout: timeoutS,
  requests: paths.map((path) => ({ method: 'GET', path })),
});
const us = (ms: number): number => Math.round(ms * 1000);
const summary = {
  requests: result.requests.total,
  durationUs: Math.round(result.duration * 1e6),
  bytes: result.throughput.total,
  connectErrors: 0,
  // autocannon counts every socket error (refused, reset, timeout) in errors, timeouts among them.
  readErrors: Math.max(0, result.errors - result.timeouts),
  writeErrors: 0,
  statusErrors: result.non2xx,
  timeouts: result.timeouts,
  p50Us: us(result.latency.p50),
  p99Us: us(result.latency.p99),
  maxUs: us(result.latency.max),
  meanUs: us(result.latency.mean),
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(summary)}\n`);
