// A light /health prober that behaves like Docker's HEALTHCHECK and Kubernetes probes: a fresh
// connection for each probe, one probe at a time, the next one intervalMs after the previous one
// started (or as soon as it ended, when it took longer). Probes never pile up: a Node server
// under load accepts one new connection per event-loop turn (libuv >= 1.45), so an open-loop
// flood of new connections would measure the prober's own queue in the kernel, not the service.
// Prints one line: BENCH_PROBE {"sent":N,"ok":N,"failures":N,"latenciesMs":[...],"failureSamples":[...]}
//   node --import tsx bench/programs/health-prober.ts '{"url":"http://127.0.0.1:PORT/health","durationMs":10000,"intervalMs":10}'

import { request } from 'node:http';

export interface ProbeSettings {
  readonly url: string;
  readonly durationMs: number;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly delayMs?: number;
}

export interface ProbeOutcome {
  readonly sent: number;
  readonly ok: number;
  readonly failures: number;
  readonly latenciesMs: number[];
  readonly failureSamples: string[];
}

const settings = JSON.parse(process.argv[2] ?? '{}') as ProbeSettings;
const { url, durationMs, intervalMs = 10, timeoutMs = 2000, delayMs = 0 } = settings;

/** One GET on a new connection; resolves with undefined when it answered 200, else the reason. */
function probe(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
      res.on('error', (error) => resolve(error.message));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    });
    req.on('error', (error) => resolve(error.message));
    req.end();
  });
}

async function run(): Promise<void> {
  const outcome: ProbeOutcome = { sent: 0, ok: 0, failures: 0, latenciesMs: [], failureSamples: [] };
  const counts = { sent: 0, ok: 0, failures: 0 };
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const startedAt = performance.now();
    counts.sent++;
    const failure = await probe();
    const tookMs = performance.now() - startedAt;
    if (failure === undefined) {
      counts.ok++;
      outcome.latenciesMs.push(tookMs);
    } else {
      counts.failures++;
      if (outcome.failureSamples.length < 10) outcome.failureSamples.push(failure);
    }
    const waitMs = startedAt + intervalMs - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  process.stdout.write(`BENCH_PROBE ${JSON.stringify({ ...outcome, ...counts })}\n`);
}

setTimeout(() => void run(), delayMs);
