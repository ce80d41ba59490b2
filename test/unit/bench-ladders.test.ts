// The bench report's floors (bench/ladders.ts) on synthetic results: the /health p99 floor is the
// line through the run's two measured points, and the healthchecker floor is given only when the
// minimal probe never failed.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { healthcheckerFloor, probeFloor } from '../../bench/ladders.js';
import type { Results } from '../../bench/results.js';
import type { TimingSummary } from '../../bench/stats.js';
import { TARGETS } from '../../bench/targets.js';

interface Point {
  readonly us: number;
  readonly p99: number;
}

/** Only what probeFloor reads: CPU µs per /accounts request and /health's p99 under load, raw and service. */
function probeResults(raw: Point, service: Point): Results {
  return {
    throughput: { accounts: { raw: { cpuUsPerRequest: raw.us }, service: { cpuUsPerRequest: service.us } } },
    healthUnderLoadRaw: { p99Ms: raw.p99 },
    healthUnderLoad: { p99Ms: service.p99 },
  } as unknown as Results;
}

/** p99 = 10 ms + 0.2 ms per µs: a line that does not go through zero. */
const onLine = (us: number): Point => ({ us, p99: 10 + 0.2 * us });

describe('probeFloor', () => {
  test('the CPU per request the line through the two points allows, not a proportion of the raw point', () => {
    const text = probeFloor(probeResults(onLine(20), onLine(80)));
    const allowed = (TARGETS.healthP99UnderLoadMs - 10) / 0.2;
    assert.ok(allowed < 80, 'the synthetic service is over the target');
    assert.match(text, /0\.200 ms of p99 per µs, 10\.0 ms at zero/);
    assert.ok(text.includes(`at most about ${allowed.toFixed(1)} µs`), text);
    assert.ok(text.includes(`${(80 - allowed).toFixed(1)} µs less than the service's`), text);
    // Proportional to the raw point alone, it would be 20 µs * target / 14 ms.
    const proportional = (20 * TARGETS.healthP99UnderLoadMs) / onLine(20).p99;
    assert.ok(!text.includes(`${proportional.toFixed(1)} µs`), text);
  });

  test('a service within the line says so', () => {
    const text = probeFloor(probeResults(onLine(20), onLine(30)));
    assert.match(text, /the service is within it\.$/);
  });

  test('no figure when the points give no rising line', () => {
    for (const [raw, service] of [
      [onLine(80), onLine(20)], // the service costs less CPU than raw node:http
      [onLine(20), { us: 80, p99: onLine(20).p99 }], // its p99 is no higher
      [onLine(20), { us: 80, p99: 5 }], // its p99 is lower
    ] as const) {
      const text = probeFloor(probeResults(raw, service));
      assert.match(text, /no line to extrapolate/);
      assert.doesNotMatch(text, /at most about/);
    }
  });

  test('no figure when the line is over the target at zero CPU', () => {
    const line = (us: number): Point => ({ us, p99: TARGETS.healthP99UnderLoadMs + 5 + 0.1 * us });
    const text = probeFloor(probeResults(line(20), line(80)));
    assert.match(text, /No cost per request gets it under/);
    assert.doesNotMatch(text, /at most about/);
  });
});

const timing = (medianMs: number, failures = 0): TimingSummary => ({
  medianMs,
  meanMs: medianMs,
  minMs: medianMs,
  maxMs: medianMs,
  runs: 30,
  failures,
});

function probeCommands(minimalProbe: TimingSummary): Results {
  return {
    probeCommands: { method: '', node: timing(27), healthchecker: timing(35), minimalProbe, curl: timing(9) },
  } as unknown as Results;
}

describe('healthcheckerFloor', () => {
  test('the minimal probe sets the floor when it never failed', () => {
    assert.match(healthcheckerFloor(probeCommands(timing(34))), /takes 34\.0 ms, 1\.26x `node -e 0`/);
  });

  test('no floor from a minimal probe that failed (it may have failed fast)', () => {
    const text = healthcheckerFloor(probeCommands(timing(5, 3)));
    assert.match(text, /failed 3 of its 30 timed runs: no floor/);
    assert.doesNotMatch(text, /takes 5\.0 ms/);
  });
});
