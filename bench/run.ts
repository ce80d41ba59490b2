// The benchmark: how close the built service, with its production defaults on, comes to bare
// Fastify and to raw node:http on the same machine, in the same run (so the ratios hold on a noisy
// machine); whether a service saturated with /accounts traffic still answers /health quickly; how
// long it takes to its first healthy answer against `node -e 0`, on this node and on the image's;
// and its memory. Writes REPORT.md, results.json and throughput.svg; every process it starts is
// stopped by its PID, also on failure.
//
//   npm run bench                      the full run (a few minutes), report in bench/
//   npm run bench -- --quick           a few seconds per step (or BENCH_QUICK=1)
//   node --import tsx bench/run.ts --smoke --out DIR     the shortest run, for the test; report in DIR
//   options: --tool wrk|autocannon (default: wrk when installed), --out DIR, --profile | --no-profile,
//            --second-node PATH (default: ACCOUNTSERVICE_BASE_NODE, else the cached official Node 24)

import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseCliOptions } from './cli.js';
import {
  CONNECTIONS,
  PROBE_INTERVAL_MS,
  bareNodeIdleMemory,
  compareThroughput,
  createLoadTool,
  healthUnderLoad,
  measureStoreRead,
  timeCommands,
  timeStarts,
  type LoadTool,
  type TimedCommand,
} from './measure.js';
import {
  BENCH_DIR,
  HEALTHCHECKER,
  ProcessGroup,
  SERVICE_ENV,
  SERVICE_MAIN,
  createPinning,
  endpointPaths,
  findExecutable,
  findSecondNode,
  httpGet,
  memoryOf,
  nodeVersionOf,
  scratchDir,
  startReferenceServer,
  startService,
  writeCodeCache,
  type Pinning,
} from './processes.js';
import { profileEndpoint } from './profile.js';
import { renderConsole, writeReport } from './report.js';
import type { Meta, Results } from './results.js';
import { evaluateTargets } from './targets.js';

const MODES = {
  // warm-up per target, then `rounds` alternating rounds of roundS seconds per target.
  // profileS: seconds of load under --cpu-prof per endpoint, when profiling.
  // storeReadMs: CPU time per figure of the store read micro-benchmark.
  full: { warmupS: 3, roundS: 3, rounds: 6, saturationS: 15, startCommandRuns: 30, startCommandWarmup: 5, startupRuns: 9, settleMs: 1000, profileS: 8, storeReadMs: 1000 },
  quick: { warmupS: 1, roundS: 2, rounds: 2, saturationS: 4, startCommandRuns: 10, startCommandWarmup: 2, startupRuns: 3, settleMs: 500, profileS: 3, storeReadMs: 400 },
  smoke: { warmupS: 0, roundS: 1, rounds: 1, saturationS: 3, startCommandRuns: 3, startCommandWarmup: 1, startupRuns: 2, settleMs: 200, profileS: 1, storeReadMs: 100 },
} as const;
type Mode = (typeof MODES)[keyof typeof MODES];

const USAGE =
  'npm run bench -- [--quick | --smoke] [--out DIR] [--tool wrk|autocannon] [--profile | --no-profile] [--second-node PATH]\n' +
  '  --profile       profile the service under load and add the top functions to the report\n' +
  '                  (the full run does so by itself when a throughput target is missed)\n' +
  "  --second-node   the second node binary whose start is timed (the image's Node 24)";

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function settle(ms: number): Promise<void> {
  await new Promise((done) => setTimeout(done, ms));
}

/** The health transitions to a status other than UP that the service logged, read from its log file. */
async function loggedTransitions(label: string, logFile: string): Promise<Results['healthTransitions']> {
  const transitions: Results['healthTransitions'] = [];
  if (!existsSync(logFile)) return transitions;
  for await (const line of createInterface({ input: createReadStream(logFile, 'utf8'), crlfDelay: Infinity })) {
    if (!line.includes('"check":')) continue; // access lines, the bulk, are skipped unparsed
    try {
      const entry = JSON.parse(line) as { check?: unknown; from?: unknown; to?: unknown; cause?: unknown };
      if (typeof entry.check === 'string' && typeof entry.to === 'string' && entry.to !== 'UP') {
        transitions.push({ service: label, check: entry.check, from: String(entry.from), to: entry.to, cause: typeof entry.cause === 'string' ? entry.cause : null });
      }
    } catch {
      // not a JSON line
    }
  }
  return transitions;
}

/** Whether a node of this version (v22.1 and later) keeps a compile cache where NODE_COMPILE_CACHE says. */
function hasCompileCache(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 1);
}

function machineFacts(tool: LoadTool, pinning: Pinning, mode: string, cores: number): Meta {
  return {
    date: new Date().toISOString(),
    nproc: cores,
    cpu: cpus()[0]?.model ?? 'unknown',
    kernel: release(),
    node: process.version,
    loadTool: `${tool.name} ${tool.version}`,
    pinning: pinning.describe,
    mode,
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

// eslint-disable-next-line max-lines-per-function -- issue 26: to be split by job
async function main(): Promise<void> {
  const options = parseCliOptions(
    process.argv.slice(2),
    {
      quick: { flag: true },
      smoke: { flag: true },
      profile: { flag: true },
      'no-profile': { flag: true },
      out: { fallback: BENCH_DIR },
      tool: { oneOf: ['wrk', 'autocannon'] },
      'second-node': {},
    },
    USAGE,
  );
  const modeName = options.smoke ? 'smoke' : options.quick || process.env.BENCH_QUICK === '1' ? 'quick' : 'full';
  const mode: Mode = MODES[modeName];
  const out = resolve(options.out);
  if (!existsSync(SERVICE_MAIN)) throw new Error(`${SERVICE_MAIN} is missing: build first (npm run build; npm run bench builds for you)`);
  const secondNode = findSecondNode(options['second-node']);
  // Counted before this process pins itself to one core (which availableParallelism would then report).
  const cores = availableParallelism();
  const pinning = createPinning(cores);
  pinning.pinSelf();
  const group = new ProcessGroup();
  const stopEverything = (): void => {
    void group.stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopEverything);
  process.once('SIGTERM', stopEverything);

  const tool = createLoadTool(options.tool, pinning, group);
  const meta = machineFacts(tool, pinning, modeName, cores);
  log(`${modeName} run; ${meta.loadTool}; ${meta.pinning}; node ${meta.node}; ${meta.nproc} cores`);
  const accountPaths = await endpointPaths('accounts');
  const settings = {
    warmupS: mode.warmupS,
    roundS: mode.roundS,
    rounds: mode.rounds,
    saturationS: mode.saturationS,
    startCommandRuns: mode.startCommandRuns,
    startCommandWarmup: mode.startCommandWarmup,
    startupRuns: mode.startupRuns,
    connections: CONNECTIONS,
    probeIntervalMs: PROBE_INTERVAL_MS,
    serviceEnv: `${Object.entries(SERVICE_ENV).map(([name, value]) => `${name}=${value}`).join(' ')} (METRICS, ACCESS_LOG: on by default) HOST=127.0.0.1 PORT=<free> DB_PATH=<temp>`,
    accountPaths: accountPaths.length,
  };

  try {
    const raw = await startReferenceServer(group, pinning, 'raw-server.ts', 'raw node:http');
    const fastify = await startReferenceServer(group, pinning, 'fastify-server.ts', 'bare Fastify');
    const service = await startService(group, pinning, { label: 'service' });
    const quiet = await startService(group, pinning, { label: 'service ACCESS_LOG=off', env: { ACCESS_LOG: 'off' } });
    // The ladder from bare Fastify to the service: + the LMDB read, then the service with every
    // feature that can be switched off switched off (what is left: request ids and headers, the
    // connection guard and timeouts, the route's checks, servedBy), then + metrics, + the access log.
    const scratch = scratchDir();
    const fastifyLmdb = await startReferenceServer(group, pinning, 'fastify-server.ts', 'bare Fastify + LMDB read', [
      '--lmdb',
      scratch.dir,
    ]);
    const minimal = await startService(group, pinning, {
      label: 'service ACCESS_LOG=off METRICS=off',
      env: { ACCESS_LOG: 'off', METRICS: 'off' },
    });
    // What a user would run instead of the service: Fastify logging each request its own way.
    const fastifyLogging = await startReferenceServer(group, pinning, 'fastify-server.ts', 'Fastify + request logging', [
      '--log-file',
      join(scratch.dir, 'fastify.log'),
    ]);
    // The /health ladder's first rung: raw node:http with health-views in front, nothing else.
    const healthViews = await startReferenceServer(group, pinning, 'health-server.ts', 'node:http + health-views');
    // Idle memory: after one request of each kind and a moment to settle, before any load.
    for (const path of [accountPaths[0]!, '/health']) await httpGet(`${service.url}${path}`);
    await settle(mode.settleMs);
    const idle = memoryOf(service.pid);
    const bareNodeIdle = await bareNodeIdleMemory(group, pinning, mode.settleMs).catch((error: Error) => `not measured: ${error.message}`);

    const accounts = await compareThroughput(
      tool,
      [
        { key: 'raw', server: raw },
        { key: 'fastify', server: fastify },
        { key: 'service', server: service },
        { key: 'serviceNoAccessLog', server: quiet },
        { key: 'fastifyLmdb', server: fastifyLmdb },
        { key: 'serviceMinimal', server: minimal },
        { key: 'fastifyLogging', server: fastifyLogging },
      ],
      accountPaths,
      mode,
      log,
    );
    await quiet.stop();
    await fastifyLmdb.stop();
    await fastifyLogging.stop();
    const health = await compareThroughput(
      tool,
      [
        { key: 'raw', server: raw },
        { key: 'fastify', server: fastify },
        { key: 'healthViews', server: healthViews },
        { key: 'serviceMinimal', server: minimal },
        { key: 'service', server: service },
      ],
      ['/health'],
      mode,
      log,
    );
    await fastify.stop();
    await healthViews.stop();
    await minimal.stop();
    log(`the store's read alone, ${mode.storeReadMs} ms per figure`);
    const storeRead = await measureStoreRead(group, pinning, scratch.dir, mode.storeReadMs).catch(
      (error: Error) => `not measured: ${error.message.split('\n')[0]}`,
    );
    scratch.remove();

    // The same probing of the raw server under the same load: what a Node process that does nothing
    // else shows on this machine right now, the anchor for the service's figures.
    log(`/health probed while /accounts is saturated, raw server then service, ${mode.saturationS}s each`);
    const underLoadRaw = await healthUnderLoad(group, pinning, tool, raw, accountPaths, mode.saturationS);
    await raw.stop();
    const underLoad = await healthUnderLoad(group, pinning, tool, service, accountPaths, mode.saturationS);
    const afterLoad = memoryOf(service.pid);

    log(`wall times of node -e 0, the healthchecker and curl, ${mode.startCommandRuns} runs each`);
    const commands: TimedCommand[] = [{ key: 'node', argv: [process.execPath, '-e', '0'] }];
    if (existsSync(HEALTHCHECKER)) commands.push({ key: 'healthchecker', argv: [process.execPath, HEALTHCHECKER, `-port=${service.port}`] });
    const curl = findExecutable('curl');
    if (curl !== undefined) commands.push({ key: 'curl', argv: [curl, '-sf', '-o', '/dev/null', `${service.url}/health`] });
    const timings = timeCommands(commands, mode.startCommandRuns, mode.startCommandWarmup);
    const transitions = await loggedTransitions(service.label, service.logFile);
    await service.stop();

    log(`start to first 200 from /health against node -e 0, ${mode.startupRuns} pairs per node binary`);
    const thisNode = await timeStarts(group, pinning, process.execPath, process.version, mode.startupRuns, log);
    let second: Results['starts']['secondNode'] = 'not measured: no second node (give --second-node PATH, set ACCOUNTSERVICE_BASE_NODE, or run deploy/docker/make-base-images.sh once)';
    let cached: Results['starts']['secondNodeCompileCache'] = 'not measured: no second node';
    if (secondNode !== undefined) {
      try {
        const version = nodeVersionOf(secondNode);
        // Its code cache, as the image build writes it with the image's node.
        writeCodeCache(secondNode);
        second = await timeStarts(group, pinning, secondNode, version, mode.startupRuns, log);
        cached = `not measured: ${version} has no compile cache (Node >= 22.1)`;
        if (hasCompileCache(version)) {
          const cacheDir = scratchDir();
          try {
            log(`the same with a compile cache (NODE_COMPILE_CACHE), ${mode.startupRuns} pairs`);
            cached = await timeStarts(group, pinning, secondNode, version, mode.startupRuns, log, { NODE_COMPILE_CACHE: cacheDir.dir });
          } finally {
            cacheDir.remove();
          }
        }
      } catch (error) {
        second = `not measured: ${secondNode}: ${(error as Error).message.split('\n')[0]}`;
      }
    }

    const results: Results = {
      meta,
      settings,
      throughput: {
        accounts: {
          raw: accounts.raw!,
          fastify: accounts.fastify!,
          service: accounts.service!,
          serviceNoAccessLog: accounts.serviceNoAccessLog!,
          fastifyLmdb: accounts.fastifyLmdb!,
          serviceMinimal: accounts.serviceMinimal!,
          fastifyLogging: accounts.fastifyLogging!,
        },
        health: { raw: health.raw!, fastify: health.fastify!, service: health.service!, healthViews: health.healthViews!, serviceMinimal: health.serviceMinimal! },
      },
      storeRead,
      healthUnderLoad: underLoad,
      healthUnderLoadRaw: underLoadRaw,
      healthTransitions: transitions,
      probeCommands: {
        method: 'timed spawnSync',
        node: timings.node!,
        healthchecker: timings.healthchecker ?? `missing: ${HEALTHCHECKER} is not built`,
        curl: timings.curl ?? 'missing: curl is not installed',
      },
      starts: { thisNode, secondNode: second, secondNodeCompileCache: cached },
      memory: { idle, afterLoad, bareNodeIdle },
    };
    const targets = evaluateTargets(results);
    const missed = targets.some((target) => ['accounts-vs-fastify', 'health-vs-raw'].includes(target.id) && target.result !== 'PASS');
    if (options.profile || (modeName === 'full' && missed && !options['no-profile'])) {
      results.profile = {
        accounts: await profileOne(group, pinning, tool, accountPaths, mode, 'accounts'),
        health: await profileOne(group, pinning, tool, ['/health'], mode, 'health'),
      };
    }
    meta.loadAverageAtEnd = loadavg().map((value) => Math.round(value * 100) / 100);
    results.targets = targets;
    mkdirSync(out, { recursive: true });
    writeReport(out, results);
    process.stdout.write(renderConsole(results));
    log(`wrote REPORT.md, results.json and throughput.svg to ${out}`);
  } finally {
    await group.stopAll();
  }
}

async function profileOne(group: ProcessGroup, pinning: Pinning, tool: LoadTool, paths: string[], mode: Mode, name: string): ReturnType<typeof profileEndpoint> {
  log(`profiling the service under ${name} load (--cpu-prof), ${mode.profileS}s`);
  return profileEndpoint(group, pinning, tool, { paths, seconds: mode.profileS, warmupS: Math.min(2, mode.profileS), top: 15 });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
