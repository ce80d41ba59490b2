// The benchmark, run in its shortest mode against the real built service: it must produce a complete
// report (every figure present, every target judged) with no request errors, and write where it is
// told, leaving the committed bench/REPORT.md alone. It asserts no speed: that is the report's job.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, assertBuilt } from '../helpers/service-process.js';
import { findSecondNode } from '../../bench/processes.js';
import { runTsToEnd, type Ended } from '../helpers/run-to-end.js';

import type { LoadFigure } from '../../bench/measure.js';
import type { Results } from '../../bench/results.js';
import type { TimingSummary } from '../../bench/stats.js';

const BENCH = join(ROOT, 'bench/run.ts');
// Generous: the smoke run takes a minute or two, more on a machine shared with other work.
const RUN_DEADLINE_MS = 240_000;
const SECOND_NODE = findSecondNode(undefined) ?? process.execPath;

function fileDigest(path: string): string | undefined {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : undefined;
}

/** Runs the bench to its end (or kills it by PID at the deadline); resolves with its exit and output. */
function runBench(args: string[]): Promise<Ended> {
  return runTsToEnd(BENCH, args, RUN_DEADLINE_MS);
}

function assertLoadFigure(name: string, figure: LoadFigure | undefined): void {
  assert.equal(typeof figure, 'object', `${name}: expected a measured figure, got ${JSON.stringify(figure)}`);
  const f = figure as LoadFigure;
  assert.ok(f.requests > 0 && f.rps > 0, `${name}: no requests completed`);
  for (const key of ['p50Ms', 'p99Ms', 'maxMs', 'cpuUsPerRequest'] as const) {
    assert.ok(Number.isFinite(f[key]) && f[key] > 0, `${name}: ${key} is ${f[key]}`);
  }
  assert.ok(f.p50Ms <= f.p99Ms && f.p99Ms <= f.maxMs, `${name}: percentiles out of order`);
  assert.ok(f.roundsRps.length > 0 && f.roundsRps.length === f.roundsCpuUsPerRequest.length, `${name}: no rounds`);
  assert.equal(f.non2xx, 0, `${name}: non-2xx answers`);
  assert.equal(f.socketErrors, 0, `${name}: socket errors`);
}

function assertTiming(name: string, timing: TimingSummary | string): void {
  assert.equal(typeof timing, 'object', `${name} was not measured: ${JSON.stringify(timing)}`);
  const t = timing as TimingSummary;
  assert.ok(Number.isFinite(t.medianMs) && t.medianMs > 0, `${name}: median ${t.medianMs}`);
  assert.ok(t.runs > 0, `${name}: no runs`);
  assert.equal(t.failures, 0, `${name}: ${t.failures} runs failed`);
}

test(
  'npm run bench -- --smoke --profile --out DIR writes a complete report with no errors, and leaves bench/ alone',
  { timeout: RUN_DEADLINE_MS + 30_000 },
  async () => {
    assertBuilt();
    const out = mkdtempSync(join(tmpdir(), 'accountservice-bench-test-'));
    const committed = ['REPORT.md', 'results.json', 'throughput.svg'].map((name) => join(ROOT, 'bench', name));
    const before = committed.map(fileDigest);
    try {
      // The second node is this one when no other is at hand: the test checks that both are timed, not how fast.
      const run = await runBench(['--smoke', '--profile', '--out', out, '--second-node', SECOND_NODE]);
      assert.equal(run.code, 0, `bench exited ${run.code}:\n${run.stderr}`);

      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
      const { accounts, health } = results.throughput;
      assertLoadFigure('raw /accounts', accounts.raw);
      assertLoadFigure('bare Fastify /accounts', accounts.fastify);
      assertLoadFigure('service /accounts', accounts.service);
      assertLoadFigure('service /accounts ACCESS_LOG=off', accounts.serviceNoAccessLog);
      assertLoadFigure('bare Fastify + LMDB read /accounts', accounts.fastifyLmdb);
      assertLoadFigure('service /accounts ACCESS_LOG=off METRICS=off', accounts.serviceMinimal);
      assertLoadFigure('Fastify + request logging /accounts', accounts.fastifyLogging);
      assertLoadFigure('raw /health', health.raw);
      assertLoadFigure('bare Fastify /health', health.fastify);
      assertLoadFigure('service /health', health.service);
      assertLoadFigure('node:http + health-views /health', health.healthViews);
      assertLoadFigure('service /health METRICS=off', health.serviceMinimal);
      assert.equal(
        typeof results.storeRead,
        'object',
        `the store read was not measured: ${JSON.stringify(results.storeRead)}`,
      );
      if (typeof results.storeRead === 'object') {
        for (const [name, ns] of Object.entries(results.storeRead))
          assert.ok(Number.isFinite(ns) && ns > 0, `${name}: ${ns}`);
      }
      assert.match(results.settings.serviceEnv, /LOG_LEVEL=info/, 'the service runs with the production log level');

      for (const [name, underLoad] of [
        ['service', results.healthUnderLoad],
        ['raw server', results.healthUnderLoadRaw],
      ] as const) {
        assert.ok(underLoad.probes > 0, `${name}: no /health probes were sent under load`);
        assert.equal(underLoad.failures, 0, `${name}: /health probes failed under load: ${JSON.stringify(underLoad)}`);
        assert.equal(underLoad.ok, underLoad.probes);
        assert.ok(underLoad.p50Ms > 0 && underLoad.p50Ms <= underLoad.p99Ms && underLoad.p99Ms <= underLoad.maxMs);
        assert.equal(underLoad.accounts.errors, 0, `${name}: /accounts errors under saturation`);
      }
      assert.ok(Array.isArray(results.healthTransitions), 'the health transitions the service logged are reported');

      assertTiming('node -e 0', results.probeCommands.node);
      // npm test builds the healthchecker, so its timing must be there.
      assertTiming('healthchecker', results.probeCommands.healthchecker);
      // The floor under the healthchecker: the least a probe run by node can do, which must not fail either.
      assertTiming('minimal probe', results.probeCommands.minimalProbe ?? 'absent from results.json');

      for (const [name, start] of [
        ['this node', results.starts.thisNode],
        ['second node', results.starts.secondNode],
      ] as const) {
        assert.equal(typeof start, 'object', `${name}: start not timed: ${JSON.stringify(start)}`);
        if (typeof start !== 'object') continue;
        assert.deepEqual(start.failures, [], `${name}: every timed start reached its first 200`);
        assertTiming(`${name}: start to first 200`, start.serviceMs);
        assertTiming(`${name}: node -e 0`, start.nodeMs);
        assert.ok(
          start.roundsRatio.length > 0 && start.roundsRatio.every((ratio) => ratio > 0),
          `${name}: no start ratios`,
        );
      }
      assert.ok(results.memory.idle.rssMb > 0 && results.memory.afterLoad.peakRssMb >= results.memory.afterLoad.rssMb);
      const bare = results.memory.bareNodeIdle;
      assert.ok(typeof bare === 'object' && bare.rssMb > 0, `bare node:http idle RSS: ${JSON.stringify(bare)}`);
      for (const fact of ['date', 'nproc', 'node', 'loadTool'] as const)
        assert.ok(results.meta[fact], `machine fact ${fact} missing`);

      // Every target measured and judged (issue 15's and 18's among them), and the report shows each one with its verdict.
      assert.deepEqual(
        (results.targets ?? []).map((t) => t.id),
        [
          'accounts-vs-fastify',
          'accounts-vs-fastify-logging',
          'health-vs-raw',
          'health-p99-under-load',
          'health-failures-under-load',
          'healthchecker-wall-time',
          'start-vs-node-this',
          'start-vs-node-second',
          'idle-rss',
        ],
      );
      const report = readFileSync(join(out, 'REPORT.md'), 'utf8');
      for (const target of results.targets ?? []) {
        assert.match(target.result, /^(PASS|MISS)$/, `${target.name} was not measured: ${target.shown}`);
        assert.ok(target.value !== null && Number.isFinite(target.value), `${target.name}: no figure`);
        assert.ok(
          report.includes(`| ${target.name} | ${target.shown} | ${target.target} | ${target.result} |`),
          `REPORT.md has no row for "${target.name}"`,
        );
      }
      assert.match(report, /\| GET \/accounts\/\{id\} \| service \| [\d,]+ \|/);
      assert.match(report, /\| GET \/health \| raw node:http \| [\d,]+ \|/);
      assert.ok(run.stdout.includes('GET /accounts/{id}'), 'the table is printed too');
      // The ladders from bare Fastify (/accounts) and raw node:http (/health) to the service, each
      // rung a measured figure, and each one's verdict: it fits, or the floor and what it would take.
      assert.match(report, /leaves -?\d+\.\d µs per request for all of it/);
      assert.match(report, /leaves -?\d+\.\d µs per probe for all of it/);
      assert.match(report, /\| the access log line \(the service as shipped\) \| -?\d+\.\d \|/);
      assert.match(report, /\| metrics: the request counted in the histogram \| -?\d+\.\d \|/);
      const verdicts = report.match(/^(The floor: the rungs add -?\d+\.\d µs|The rungs fit in the budget)/gm) ?? [];
      assert.equal(verdicts.length, 3, 'a verdict for each of the three budgets (two /accounts targets, one /health)');
      assert.match(
        report,
        /The store's read measured alone \(bench\/programs\/store-read\.ts: .*\): \d+ ns in a tight loop/,
      );
      assert.match(
        report,
        /The floor under the idle RSS: a bare node:http server run by plain node idles at \d+\.\d MB/,
      );
      // The line through the run's two points (raw node:http, the service), or why there is none.
      assert.match(
        report,
        /The floor under \/health's p99 while \/accounts is saturated: .*This run's two points: .*(at most about \d+\.\d µs|no line to extrapolate|No cost per request)/,
      );
      assert.match(
        report,
        /\| GET \/accounts\/\{id\} \| Fastify \+ request logging \(logger: true, to a file\) \| [\d,]+ \|/,
      );
      assert.match(report, /\| GET \/health \| node:http \+ health-views \| [\d,]+ \|/);

      // The profile of each endpoint: its busiest functions, named, with shares that add up to at most 100%.
      for (const endpoint of ['accounts', 'health'] as const) {
        const profile = results.profile?.[endpoint];
        assert.ok(profile !== undefined && profile.rps > 0, `no ${endpoint} profile`);
        assert.ok(
          profile.topFunctions.length > 0 && profile.topFunctions.every((f) => f.name !== '' && f.percent >= 0),
        );
        assert.ok(profile.topFunctions.reduce((sum, f) => sum + f.percent, 0) <= 100.5);
      }
      assert.match(report, /## Where the time goes: CPU profile/);

      const svg = readFileSync(join(out, 'throughput.svg'), 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.ok(svg.trimEnd().endsWith('</svg>'));
      assert.ok((svg.match(/<rect /g) ?? []).length >= 10, 'the plot has its bars');

      assert.deepEqual(committed.map(fileDigest), before, 'the bench wrote into bench/ despite --out');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
