// A light, fixed-rate /health prober: one GET every intervalMs on a fresh connection (as Docker's
// HEALTHCHECK and Kubernetes probes connect anew each time), whether or not the previous one has
// answered, so a stalled service shows up as long latencies and failures rather than fewer probes.
// Prints one line: BENCH_PROBE {"sent":N,"ok":N,"failures":N,"latenciesMs":[...],"failureSamples":[...]}
//   node bench/health-prober.mjs '{"url":"http://127.0.0.1:PORT/health","durationMs":10000,"intervalMs":10}'

import { request } from 'node:http';

const { url, durationMs, intervalMs = 10, timeoutMs = 2000, delayMs = 0 } = JSON.parse(process.argv[2] ?? '{}');
const latenciesMs = [];
const failureSamples = [];
let sent = 0;
let ok = 0;
let failures = 0;
let pending = 0;

function fail(reason) {
  failures++;
  if (failureSamples.length < 10) failureSamples.push(reason);
}

function probe() {
  sent++;
  pending++;
  const started = process.hrtime.bigint();
  let settled = false;
  const settle = (error) => {
    if (settled) return;
    settled = true;
    pending--;
    if (error === undefined) {
      ok++;
      latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    } else {
      fail(error);
    }
    maybeFinish();
  };
  const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
    res.resume();
    res.on('end', () => settle(res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`));
    res.on('error', (error) => settle(error.message));
  });
  req.on('timeout', () => {
    req.destroy();
    settle(`no answer within ${timeoutMs} ms`);
  });
  req.on('error', (error) => settle(error.message));
  req.end();
}

let stopped = false;
function maybeFinish() {
  if (!stopped || pending > 0) return;
  process.stdout.write(`BENCH_PROBE ${JSON.stringify({ sent, ok, failures, latenciesMs, failureSamples })}\n`);
}

setTimeout(() => {
  // Scheduled against the start time, not chained: a late tick does not push later probes back.
  const start = performance.now();
  let n = 0;
  const tick = () => {
    const now = performance.now();
    if (now - start >= durationMs) {
      stopped = true;
      maybeFinish();
      return;
    }
    while (start + n * intervalMs <= now) {
      n++;
      probe();
    }
    setTimeout(tick, Math.max(0, start + n * intervalMs - performance.now()));
  };
  tick();
}, delayMs);
