#!/usr/bin/env node
// The benchmark: how close the built service comes to a raw node:http server (and to bare
// Fastify) on the same machine, in the same run (so the ratios hold on a noisy machine), and
// whether a service saturated with /accounts traffic still answers /health quickly. Writes
// REPORT.md, results.json and throughput.svg; every process it starts is stopped by its PID,
// also on failure.
//
//   npm run bench                      the full run (a few minutes), report in bench/
//   npm run bench -- --quick           a few seconds per step (or BENCH_QUICK=1)
//   node bench/run.mjs --smoke --out DIR   the shortest run, for the test; report in DIR
//   options: --tool wrk|autocannon (default: wrk when installed), --out DIR, --profile | --no-profile

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  BENCH_DIR,
  LOAD_CORE,
  ProcessGroup,
  ROOT,
  SERVICE_MAIN,
  cleanEnv,
  collect,
  createLoadTool,
  createPinning,
  endpointPaths,
  findExecutable,
  findHealthchecker,
  httpGet,
  median,
  memoryOf,
  percentile,
  scratchDir,
  startReferenceServer,
  startService,
} from './lib.mjs';
import { profileEndpoint } from './profile.mjs';
import { TARGETS, evaluateTargets, renderConsole, renderMarkdown, renderSvg, throughputRatio } from './report.mjs';

const MODES = {
  // warm-up per target, then `rounds` alternating rounds of roundS seconds per target.
  // profileS: seconds of load under --cpu-prof per endpoint, when a throughput target is missed.
  full: { warmupS: 3, roundS: 3, rounds: 6, saturationS: 15, startCommandRuns: 40, startCommandWarmup: 5, startupRuns: 9, settleMs: 1000, profileS: 8 },
  quick: { warmupS: 1, roundS: 2, rounds: 1, saturationS: 4, startCommandRuns: 10, startCommandWarmup: 2, startupRuns: 3, settleMs: 500, profileS: 3 },
  smoke: { warmupS: 0, roundS: 2, rounds: 1, saturationS: 3, startCommandRuns: 3, startCommandWarmup: 1, startupRuns: 2, settleMs: 200, profileS: 1 },
};
const CONNECTIONS = 64;
const PROBE_INTERVAL_MS = 10;

function parseArgs(argv) {
  const options = { mode: process.env.BENCH_QUICK === '1' ? 'quick' : 'full', out: BENCH_DIR, tool: undefined, profile: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.mode = 'quick';
    else if (arg === '--smoke') options.mode = 'smoke';
    else if (arg === '--profile') options.profile = true;
    else if (arg === '--no-profile') options.profile = false;
    else if (arg === '--out' || arg === '--tool') {
      const value = argv[++i];
      if (value === undefined) usage(`${arg} needs a value`);
      if (arg === '--out') options.out = resolve(value);
      else if (value === 'wrk' || value === 'autocannon') options.tool = value;
      else usage(`--tool must be wrk or autocannon (got ${value})`);
    } else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  return options;
}

function usage(problem) {
  const text =
    'usage: node bench/run.mjs [--quick | --smoke] [--out DIR] [--tool wrk|autocannon] [--profile | --no-profile]\n' +
    '  --profile     profile the service under load and add the top functions to the report\n' +
    '                (the full run does so by itself when a throughput target is missed)\n';
  if (problem === undefined) {
    process.stdout.write(text);
    process.exit(0);
  }
  process.stderr.write(`bench: ${problem}\n${text}`);
  process.exit(2);
}

function log(message) {
  process.stderr.write(`bench: ${message}\n`);
}

/** The same load on each target, warmed up, then in rounds whose order alternates (ABC, CBA, ...). */
async function compareThroughput(tool, targets, paths, mode) {
  if (mode.warmupS > 0) {
    for (const target of targets) {
      log(`warm-up ${target.label} ${paths.length === 1 ? paths[0] : '/accounts/{id}'} ${mode.warmupS}s`);
      await tool.run({ baseUrl: target.url, paths, durationS: mode.warmupS, connections: CONNECTIONS });
    }
  }
  const runs = new Map(targets.map((target) => [target.key, []]));
  for (let round = 0; round < mode.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      log(`round ${round + 1}/${mode.rounds} ${target.label} ${paths.length === 1 ? paths[0] : '/accounts/{id}'} ${mode.roundS}s`);
      runs.get(target.key).push(
        await tool.run({ baseUrl: target.url, paths, durationS: mode.roundS, connections: CONNECTIONS, serverPid: target.pid }),
      );
    }
  }
  return Object.fromEntries(targets.map((target) => [target.key, combine(runs.get(target.key))]));
}

/**
 * Rounds of one target as one figure: total req/s, median p50, worst p99 and max, all errors, and
 * the server's CPU time per request (which other load on the machine barely changes).
 */
function combine(runs) {
  const sum = (pick) => runs.reduce((total, run) => total + pick(run), 0);
  return {
    rps: sum((run) => run.requests) / sum((run) => run.durationS),
    cpuUsPerRequest: (sum((run) => run.serverCpuS) * 1e6) / sum((run) => run.requests),
    serverCpuShare: sum((run) => run.serverCpuS) / sum((run) => run.durationS),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: Math.max(...runs.map((run) => run.p99Ms)),
    maxMs: Math.max(...runs.map((run) => run.maxMs)),
    requests: sum((run) => run.requests),
    durationS: sum((run) => run.durationS),
    non2xx: sum((run) => run.non2xx),
    socketErrors: sum((run) => run.socketErrors),
    errors: sum((run) => run.errors),
    roundsRps: runs.map((run) => Math.round(run.rps)),
  };
}

/** /accounts saturated by the load tool while a light prober asks /health every PROBE_INTERVAL_MS. */
async function healthUnderLoad(group, pinning, tool, service, paths, mode) {
  log(`/health prober every ${PROBE_INTERVAL_MS} ms while /accounts is saturated on ${service.label}, ${mode.saturationS}s`);
  // The prober starts a little after the load and stops a little before it, so every probe meets a busy service.
  const marginMs = Math.min(500, (mode.saturationS * 1000) / 4);
  const [command, args] = pinning.command(LOAD_CORE, process.execPath, [
    join(BENCH_DIR, 'health-prober.mjs'),
    JSON.stringify({
      url: `${service.url}/health`,
      durationMs: mode.saturationS * 1000 - 2 * marginMs,
      intervalMs: PROBE_INTERVAL_MS,
      delayMs: marginMs,
    }),
  ]);
  const prober = group.spawn(command, args, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const proberOut = collect(prober.child.stdout, 10_000_000);
  const proberErr = collect(prober.child.stderr);
  const [load, code] = await Promise.all([
    tool.run({ baseUrl: service.url, paths, durationS: mode.saturationS, connections: CONNECTIONS, serverPid: service.pid }),
    prober.exited,
  ]);
  const line = /BENCH_PROBE (\{.*\})/.exec(proberOut());
  if (code !== 0 || line === null) throw new Error(`the /health prober failed (exit ${code}): ${proberErr()}`);
  const probe = JSON.parse(line[1]);
  const latencies = probe.latenciesMs.sort((a, b) => a - b);
  return {
    probes: probe.sent,
    ok: probe.ok,
    failures: probe.failures,
    failureSamples: probe.failureSamples,
    intervalMs: PROBE_INTERVAL_MS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    accounts: load,
  };
}

/**
 * Wall time of one probe process: the healthchecker, `node -e 0` (the floor of any Node process)
 * and curl, with hyperfine when installed, else timed spawns. Runs off the service's core.
 */
function timeProbeCommands(service, mode) {
  const node = process.execPath;
  const commands = [{ key: 'node', label: 'node -e 0', argv: [node, '-e', '0'] }];
  const healthchecker = findHealthchecker();
  if (healthchecker) commands.push({ key: 'healthchecker', label: 'healthchecker', argv: [node, healthchecker, `-port=${service.port}`] });
  const curl = findExecutable('curl');
  if (curl) commands.push({ key: 'curl', label: 'curl', argv: [curl, '-sf', '-o', '/dev/null', `${service.url}/health`] });

  const hyperfine = findExecutable('hyperfine');
  let timings;
  if (hyperfine) {
    // hyperfine runs each command's runs in one block; a few blocks in alternating order keep a
    // drift in the machine's load from landing on one command only. Their times are pooled.
    const blocks = Math.max(1, Math.min(4, Math.floor(mode.startCommandRuns / 5)));
    const runsPerBlock = Math.ceil(mode.startCommandRuns / blocks);
    log(`hyperfine: ${commands.map((c) => c.label).join(', ')} (${blocks} blocks of ${runsPerBlock} runs each)`);
    const pooled = Object.fromEntries(commands.map((command) => [command.key, { times: [], failures: 0 }]));
    const scratch = scratchDir();
    try {
      const file = join(scratch.dir, 'hyperfine.json');
      for (let block = 0; block < blocks; block++) {
        const args = ['-N', '-i', '--style', 'none', '--warmup', String(mode.startCommandWarmup), '--runs', String(runsPerBlock), '--export-json', file];
        for (const command of block % 2 === 0 ? commands : [...commands].reverse()) args.push('-n', command.key, command.argv.join(' '));
        const run = spawnSync(hyperfine, args, { env: cleanEnv(), encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`hyperfine failed (exit ${run.status}): ${run.stderr}`);
        for (const result of JSON.parse(readFileSync(file, 'utf8')).results) {
          pooled[result.command].times.push(...result.times.map((seconds) => seconds * 1000));
          pooled[result.command].failures += result.exit_codes.filter((exitCode) => exitCode !== 0).length;
        }
      }
      timings = summariseTimes(pooled);
    } finally {
      scratch.remove();
    }
  } else {
    log(`timed spawns: ${commands.map((c) => c.label).join(', ')} (${mode.startCommandRuns} runs each)`);
    const samples = Object.fromEntries(commands.map((command) => [command.key, { times: [], failures: 0 }]));
    for (let i = 0; i < mode.startCommandWarmup + mode.startCommandRuns; i++) {
      for (const command of commands) {
        const started = process.hrtime.bigint();
        const run = spawnSync(command.argv[0], command.argv.slice(1), { env: cleanEnv(), stdio: 'ignore' });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (i < mode.startCommandWarmup) continue;
        samples[command.key].times.push(ms);
        if (run.status !== 0) samples[command.key].failures++;
      }
    }
    timings = summariseTimes(samples);
  }
  return {
    method: hyperfine ? `hyperfine ${/hyperfine (\S+)/.exec(spawnSync(hyperfine, ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? ''} -N`.trim() : 'timed spawnSync',
    node: timings.node,
    healthchecker: healthchecker ? timings.healthchecker : 'missing',
    healthcheckerPath: healthchecker ? relative(ROOT, healthchecker) : null,
    curl: curl ? timings.curl : 'missing',
  };
}

/** Median, mean, min and max of each command's wall times (ms), with its run and failure counts. */
function summariseTimes(samples) {
  return Object.fromEntries(
    Object.entries(samples).map(([key, { times, failures }]) => [
      key,
      {
        medianMs: median(times),
        meanMs: times.reduce((a, b) => a + b, 0) / times.length,
        minMs: Math.min(...times),
        maxMs: Math.max(...times),
        runs: times.length,
        failures,
      },
    ]),
  );
}

/** Whether the service honours METRICS: GET /metrics answers 200 with it on and 404 with it off. */
async function metricsSwitch(group, pinning, serviceOn, warmPaths, settleMs) {
  const on = await httpGet(`${serviceOn.url}/metrics`).then((r) => r.status, (e) => e.message);
  let off;
  try {
    off = await startService(group, pinning, { env: { METRICS: 'off' }, label: 'service METRICS=off' });
  } catch (error) {
    return { honoured: false, reason: `n/a: the service did not start with METRICS=off (${error.message.split('\n')[0]})` };
  }
  const offStatus = await httpGet(`${off.url}/metrics`).then((r) => r.status, (e) => e.message);
  if (on === 200 && offStatus === 404) {
    for (const path of warmPaths) await httpGet(`${off.url}${path}`);
    await settle(settleMs);
    return { honoured: true, instance: off, metricsOn: on, metricsOff: offStatus, idle: memoryOf(off.pid) };
  }
  await off.stop();
  const reason =
    on === 404 && offStatus === 404
      ? 'n/a: METRICS setting absent (GET /metrics answers 404 with METRICS=on too)'
      : `n/a: METRICS=off not honoured (GET /metrics: ${on} with on, ${offStatus} with off)`;
  return { honoured: false, reason, metricsOn: on, metricsOff: offStatus };
}

/** The health transitions a service logged (warn and above: the checks that left UP), from its output. */
function loggedTransitions(service) {
  const transitions = [];
  for (const line of service.output().split('\n')) {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof entry.check === 'string' && typeof entry.to === 'string') {
      transitions.push({ service: service.label, check: entry.check, from: entry.from, to: entry.to, cause: entry.cause ?? null, time: entry.time });
    }
  }
  return transitions;
}

async function settle(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

function machineFacts(tool, pinning, modeName, cores) {
  return {
    date: new Date().toISOString(),
    nproc: cores,
    cpu: cpus()[0]?.model ?? 'unknown',
    kernel: release(),
    node: process.version,
    loadTool: `${tool.name} ${tool.version}`,
    pinning: pinning.describe,
    mode: modeName,
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const mode = MODES[options.mode];
  if (!existsSync(SERVICE_MAIN)) {
    throw new Error(`${SERVICE_MAIN} is missing: build first (npm run build; npm run bench builds for you)`);
  }
  // Counted before this process pins itself to one core (which availableParallelism would then report).
  const cores = availableParallelism();
  const pinning = createPinning(cores);
  pinning.pinSelf();
  const group = new ProcessGroup();
  const stopEverything = () => {
    void group.stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopEverything);
  process.once('SIGTERM', stopEverything);

  const tool = createLoadTool(options.tool, pinning, group);
  const meta = machineFacts(tool, pinning, options.mode, cores);
  log(`${options.mode} run; ${meta.loadTool}; ${meta.pinning}; node ${meta.node}; ${meta.nproc} cores`);
  const accountPaths = await endpointPaths('accounts'); // after the dist check above
  const results = {
    meta,
    settings: {
      ...mode,
      connections: CONNECTIONS,
      loadThreads: 1,
      probeIntervalMs: PROBE_INTERVAL_MS,
      serviceEnv: 'NODE_ENV=production LOG_LEVEL=warn SHUTDOWN_DRAIN_DELAY_MS=0 HOST=127.0.0.1 PORT=<free> DB_PATH=<temp>',
      accountPaths: accountPaths.length,
    },
  };

  try {
    const raw = await startReferenceServer(group, pinning, 'raw-server.mjs', 'raw node:http');
    const fastify = await startReferenceServer(group, pinning, 'fastify-server.mjs', 'bare Fastify');
    const service = await startService(group, pinning, { env: { METRICS: 'on' }, label: 'service' });
    // Idle memory: after one request of each kind and a moment to settle, before any load.
    const warmPaths = [accountPaths[0], '/health'];
    for (const path of warmPaths) await httpGet(`${service.url}${path}`);
    await settle(mode.settleMs);
    const idle = memoryOf(service.pid);

    const metrics = await metricsSwitch(group, pinning, service, warmPaths, mode.settleMs);
    const accountTargets = [
      { key: 'raw', label: raw.label, url: raw.url, pid: raw.pid },
      { key: 'fastify', label: fastify.label, url: fastify.url, pid: fastify.pid },
      { key: 'service', label: 'service', url: service.url, pid: service.pid },
    ];
    if (metrics.honoured) {
      accountTargets.push({ key: 'serviceMetricsOff', label: 'service METRICS=off', url: metrics.instance.url, pid: metrics.instance.pid });
    }
    const accounts = await compareThroughput(tool, accountTargets, accountPaths, mode);
    const transitions = [];
    if (metrics.honoured) {
      transitions.push(...loggedTransitions(metrics.instance));
      await metrics.instance.stop();
    } else {
      accounts.serviceMetricsOff = metrics.reason;
    }

    const health = await compareThroughput(
      tool,
      [
        { key: 'raw', label: raw.label, url: raw.url, pid: raw.pid },
        { key: 'fastify', label: fastify.label, url: fastify.url, pid: fastify.pid },
        { key: 'service', label: 'service', url: service.url, pid: service.pid },
      ],
      ['/health'],
      mode,
    );
    await fastify.stop();

    // The same probing of the raw server under the same load: what a Node process that does nothing
    // else shows on this machine right now, the anchor for the service's figures.
    const underLoadRaw = await healthUnderLoad(group, pinning, tool, raw, accountPaths, mode);
    await raw.stop();
    const underLoad = await healthUnderLoad(group, pinning, tool, service, accountPaths, mode);
    const afterLoad = memoryOf(service.pid);
    const probes = timeProbeCommands(service, mode);
    transitions.push(...loggedTransitions(service));
    await service.stop();

    log(`start to first 200 from /health, ${mode.startupRuns} starts`);
    const startups = [];
    const startFailures = [];
    for (let i = 0; i < mode.startupRuns; i++) {
      // A start that fails or misses the deadline is counted and reported, not the end of the run.
      try {
        const instance = await startService(group, pinning, { label: `service start ${i + 1}` });
        startups.push(instance.startToHealthyMs);
        await instance.stop();
      } catch (error) {
        startFailures.push(error.message.split('\n')[0]);
        log(`start ${i + 1} failed: ${startFailures.at(-1)}`);
      }
    }

    const missed =
      throughputRatio(accounts.service, accounts.raw).median < TARGETS.accountsRatio ||
      throughputRatio(health.service, health.raw).median < TARGETS.healthRatio;
    if (options.profile ?? (options.mode === 'full' && missed)) {
      results.profile = {};
      for (const [name, paths] of [['accounts', accountPaths], ['health', ['/health']]]) {
        log(`profiling the service under ${name} load (--cpu-prof), ${mode.profileS}s`);
        results.profile[name] = await profileEndpoint(group, pinning, tool, { paths, seconds: mode.profileS, warmupS: Math.min(2, mode.profileS), top: 15 });
      }
    }

    Object.assign(results, {
      throughput: { accounts, health },
      metricsSwitch: metrics.honoured
        ? { honoured: true, metricsOnStatus: metrics.metricsOn, metricsOffStatus: metrics.metricsOff }
        : { honoured: false, reason: metrics.reason },
      healthUnderLoad: underLoad,
      healthUnderLoadRaw: underLoadRaw,
      healthTransitions: transitions,
      probeCommands: probes,
      startup: {
        runsMs: startups.map((ms) => Math.round(ms * 10) / 10),
        medianMs: median(startups),
        minMs: Math.min(...startups),
        maxMs: Math.max(...startups),
        failures: startFailures,
      },
      memory: {
        idleRssMb: idle.rssMb,
        idleAnonMb: idle.anonMb,
        idleFileMb: idle.fileMb,
        idleRssMetricsOffMb: metrics.honoured ? metrics.idle.rssMb : null,
        afterLoadRssMb: afterLoad.rssMb,
        peakRssMb: afterLoad.peakRssMb,
      },
    });
  } finally {
    await group.stopAll();
  }
  results.meta.loadAverageAtEnd = loadavg().map((value) => Math.round(value * 100) / 100);
  results.targets = evaluateTargets(results);

  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(options.out, 'REPORT.md'), renderMarkdown(results));
  writeFileSync(join(options.out, 'throughput.svg'), renderSvg(results));
  process.stdout.write(renderConsole(results));
  log(`wrote REPORT.md, results.json and throughput.svg to ${options.out}`);
}

main().catch((error) => {
  process.stderr.write(`bench: failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
